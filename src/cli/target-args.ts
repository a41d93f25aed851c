import type { Options } from 'yargs';
import { UsageError } from '../errors.js';

export const targetOptions = {
  config: { type: 'string', describe: 'Loader config JSON file (engine, duckdb/bigquery/snowflake settings, batch sizes)' },
  version: { type: 'boolean', describe: 'Print the version' },
  help: { type: 'boolean', alias: 'h', describe: 'Show this help' },
} as const satisfies Record<string, Options>;

export interface TargetArgv {
  _: (string | number)[];
  config?: string | undefined;
  version?: boolean | undefined;
  help?: boolean | undefined;
}

export type TargetMode = { kind: 'help' } | { kind: 'version' } | { kind: 'load' | 'merge'; configPath: string };

/** What to do, from parsed argv. Pure. */
export function check(argv: TargetArgv): TargetMode {
  if (argv.help) return { kind: 'help' };
  if (argv.version) return { kind: 'version' };
  const commands = argv._.map(String);
  const merge = commands[0] === 'merge' && commands.length === 1;
  if (commands.length > 0 && !merge) {
    throw new UsageError(`unknown command '${commands.join(' ')}'; run target-invoca --config loader.json, or target-invoca merge --config loader.json`);
  }
  if (argv.config === undefined || argv.config === '') {
    throw new UsageError('--config is required: a JSON file such as {"engine": "duckdb", "duckdb": {"path": "invoca.duckdb"}}');
  }
  return { kind: merge ? 'merge' : 'load', configPath: argv.config };
}
