import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import { helpAndVersionOptions, type ArgvOf } from './parser.js';

export const tapOptions = {
  config: { type: 'string', describe: 'Config JSON file (api_token, account_id, ...)' },
  discover: { type: 'boolean', describe: 'Print the catalog and exit' },
  catalog: { type: 'string', alias: 'properties', describe: 'Catalog JSON file with the selection' },
  state: { type: 'string', describe: 'State JSON file from an earlier run' },
  about: { type: 'boolean', describe: 'Describe the tap: capabilities and settings' },
  format: { choices: ['text', 'json', 'markdown'] as const, describe: 'Format of --about' },
  test: { type: 'boolean', describe: 'Check the connection: read one record, exit 0 or 1 with the reason' },
  follow: { type: 'boolean', describe: 'After catching up, keep polling every min_poll_interval_seconds until SIGTERM/SIGINT' },
  ...helpAndVersionOptions,
} as const satisfies Record<string, Options>;

export type TapArgv = ArgvOf<typeof tapOptions>;

export type TapMode =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'about'; format: 'text' | 'json' | 'markdown' }
  | { kind: 'discover'; configPath: string }
  | { kind: 'test'; configPath: string }
  | { kind: 'sync'; configPath: string; catalogPath: string | undefined; statePath: string | undefined; follow: boolean };

/** What to do, from parsed argv; a contradiction or a missing flag is a UsageError. Pure. */
export function check(argv: TapArgv): TapMode {
  if (argv.help) return { kind: 'help' };
  if (argv.version) return { kind: 'version' };
  if (argv._ && argv._.length > 0)
    throw new UsageError(`unexpected argument '${argv._.join(' ')}': tap-invoca takes flags only (see --help)`);
  if (argv.about) return { kind: 'about', format: argv.format ?? 'text' };
  if (argv.format !== undefined) throw new UsageError('--format goes with --about');
  if (argv.config === undefined || argv.config === '') {
    throw new UsageError('--config is required: a JSON file with at least api_token and account_id');
  }
  if (argv.discover && argv.test) throw new UsageError('--discover and --test cannot be combined');
  if (argv.follow && (argv.discover || argv.test))
    throw new UsageError(`--follow goes with a sync, not with --${argv.discover ? 'discover' : 'test'}`);
  // --catalog and --state are ignored here: Meltano passes --state along with --discover.
  if (argv.discover) return { kind: 'discover', configPath: argv.config };
  if (argv.test) return { kind: 'test', configPath: argv.config };
  return { kind: 'sync', configPath: argv.config, catalogPath: argv.catalog, statePath: argv.state, follow: argv.follow === true };
}
