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

export type TargetMode = { kind: 'help' } | { kind: 'version' } | { kind: 'load'; configPath: string };

/** What to do, from parsed argv. Pure. */
export function check(argv: TargetArgv): TargetMode {
  if (argv.help) return { kind: 'help' };
  if (argv.version) return { kind: 'version' };
  const extra = argv._.map(String);
  if (extra.length > 0) throw new UsageError(`unknown command '${extra.join(' ')}'; run target-invoca --config loader.json`);
  if (argv.config === undefined || argv.config === '') {
    throw new UsageError('--config is required: a JSON file such as {"engine": "duckdb", "duckdb": {"path": "invoca.duckdb"}}');
  }
  return { kind: 'load', configPath: argv.config };
}
