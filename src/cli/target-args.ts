import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import { helpAndVersionOptions, type ArgvOf } from './parser.js';

export const targetOptions = {
  config: { type: 'string', describe: 'Loader config JSON file (engine, duckdb/bigquery/snowflake settings, batch sizes)' },
  catalog: { type: 'string', describe: 'sql: a catalog whose transactions stream gives the columns (default: the shipped catalog.json)' },
  format: { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'sql, check: text, or one JSON document' },
  'schedule-minutes': {
    type: 'number',
    default: 5,
    describe: 'check: how often your schedule runs a batch, for the cost projection',
  },
  ...helpAndVersionOptions,
} as const satisfies Record<string, Options>;

export type TargetArgv = ArgvOf<typeof targetOptions>;

export type TargetMode =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'load' | 'merge'; configPath: string }
  | { kind: 'sql'; configPath: string; catalogPath: string | undefined; format: 'text' | 'json' }
  | { kind: 'check'; configPath: string; format: 'text' | 'json'; scheduleMinutes: number };

const COMMANDS = ['merge', 'sql', 'check'] as const;

/** What to do, from parsed argv. Pure. */
export function check(argv: TargetArgv): TargetMode {
  if (argv.help) return { kind: 'help' };
  if (argv.version) return { kind: 'version' };
  const commands = (argv._ ?? []).map(String);
  const command = commands.length === 1 ? COMMANDS.find((name) => name === commands[0]) : undefined;
  if (commands.length > 0 && !command) {
    throw new UsageError(
      `unknown command '${commands.join(' ')}'; run target-invoca --config loader.json, or target-invoca merge, sql or check --config loader.json`,
    );
  }
  if (argv.config === undefined || argv.config === '') {
    throw new UsageError('--config is required: a JSON file such as {"engine": "duckdb", "duckdb": {"path": "invoca.duckdb"}}');
  }
  if (command !== 'sql' && argv.catalog !== undefined)
    throw new UsageError('--catalog is for target-invoca sql; the loader takes its columns from the SCHEMA messages');
  const scheduleMinutes = argv['schedule-minutes'] ?? 5;
  if (command !== 'check' && scheduleMinutes !== 5) throw new UsageError('--schedule-minutes is for target-invoca check');
  if (command === 'check') {
    if (!Number.isFinite(scheduleMinutes) || scheduleMinutes < 1 || scheduleMinutes > 1440)
      throw new UsageError(`--schedule-minutes must be a number of minutes from 1 to 1440, not ${String(scheduleMinutes)}`);
    return { kind: 'check', configPath: argv.config, format: argv.format === 'json' ? 'json' : 'text', scheduleMinutes };
  }
  if (command === 'sql')
    return { kind: 'sql', configPath: argv.config, catalogPath: argv.catalog, format: argv.format === 'json' ? 'json' : 'text' };
  return { kind: command ?? 'load', configPath: argv.config };
}
