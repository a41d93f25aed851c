import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import { helpAndVersionOptions, type ArgvOf } from './parser.js';

export const SOURCE_COMMANDS = ['spec', 'check', 'discover', 'read'] as const;
export type SourceCommand = (typeof SOURCE_COMMANDS)[number];

export const sourceOptions = {
  config: { type: 'string', describe: 'Config JSON file (check, discover, read)' },
  catalog: { type: 'string', describe: 'Configured catalog JSON file (read)' },
  state: { type: 'string', describe: 'State JSON file (read)' },
  ...helpAndVersionOptions,
} as const satisfies Record<string, Options>;

export type SourceArgv = ArgvOf<typeof sourceOptions>;

export type SourceMode =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'spec' }
  | { kind: 'check' | 'discover'; configPath: string }
  | { kind: 'read'; configPath: string; catalogPath: string; statePath: string | undefined };

export const SOURCE_USAGE = 'spec | check --config c | discover --config c | read --config c --catalog k [--state s]';

/** The command and its files, from parsed argv; a missing file or an unknown command is a UsageError. Pure. */
export function check(argv: SourceArgv): SourceMode {
  if (argv.help) return { kind: 'help' };
  if (argv.version) return { kind: 'version' };
  const [command, ...extra] = (argv._ ?? []).map(String);
  if (!SOURCE_COMMANDS.includes(command as SourceCommand) || extra.length > 0) {
    throw new UsageError(`usage: source-invoca ${SOURCE_USAGE} (see --help)`);
  }
  if (command === 'spec') return { kind: 'spec' };
  if (!argv.config) throw new UsageError(`${command} needs --config`);
  if (command !== 'read') return { kind: command as 'check' | 'discover', configPath: argv.config };
  if (!argv.catalog) throw new UsageError('read needs --catalog (the configured catalog)');
  return { kind: 'read', configPath: argv.config, catalogPath: argv.catalog, statePath: argv.state };
}
