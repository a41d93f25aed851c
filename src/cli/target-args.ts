import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import { helpAndVersionOptions, type ArgvOf } from './parser.js';

export const targetOptions = {
  config: { type: 'string', describe: 'Loader config JSON file (engine, duckdb/bigquery/snowflake settings, batch sizes)' },
  catalog: { type: 'string', describe: 'sql: a catalog whose transactions stream gives the columns (default: the shipped catalog.json)' },
  format: { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'sql: commented SQL, or one JSON document' },
  ...helpAndVersionOptions,
} as const satisfies Record<string, Options>;

export type TargetArgv = ArgvOf<typeof targetOptions>;

export type TargetMode =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'load' | 'merge'; configPath: string }
  | { kind: 'sql'; configPath: string; catalogPath: string | undefined; format: 'text' | 'json' };

/** What to do, from parsed argv. Pure. */
export function check(argv: TargetArgv): TargetMode {
  if (argv.help) return { kind: 'help' };
  if (argv.version) return { kind: 'version' };
  const commands = (argv._ ?? []).map(String);
  const command = commands.length === 1 && (commands[0] === 'merge' || commands[0] === 'sql') ? commands[0] : undefined;
  if (commands.length > 0 && !command) {
    throw new UsageError(
      `unknown command '${commands.join(' ')}'; run target-invoca --config loader.json, target-invoca merge --config loader.json or target-invoca sql --config loader.json`,
    );
  }
  if (argv.config === undefined || argv.config === '') {
    throw new UsageError('--config is required: a JSON file such as {"engine": "duckdb", "duckdb": {"path": "invoca.duckdb"}}');
  }
  if (command !== 'sql' && argv.catalog !== undefined)
    throw new UsageError('--catalog is for target-invoca sql; the loader takes its columns from the SCHEMA messages');
  if (command === 'sql')
    return { kind: 'sql', configPath: argv.config, catalogPath: argv.catalog, format: argv.format === 'json' ? 'json' : 'text' };
  return { kind: command ?? 'load', configPath: argv.config };
}
