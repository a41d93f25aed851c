import yargs, { type Argv, type InferredOptionTypes, type Options } from 'yargs';
import { UsageError } from '../errors.js';
import { PACKAGE_VERSION } from '../paths.js';

/** The flags every bin answers the same way. */
export const helpAndVersionOptions = {
  version: { type: 'boolean', describe: 'Print the version' },
  help: { type: 'boolean', alias: 'h', describe: 'Show this help' },
} as const satisfies Record<string, Options>;

/** What a bin's yargs option table parses to, each flag optional (a check() is given what was passed). */
export type ArgvOf<O extends Record<string, Options>> = Partial<InferredOptionTypes<O>> & { _?: (string | number)[] };

/**
 * The yargs parser every bin uses: our own --help and --version, unknown flags rejected, and
 * every parse problem thrown as a UsageError (exit 2) instead of yargs printing and exiting.
 */
export function cliParser<O extends Record<string, Options>>(
  args: string[],
  bin: string,
  usage: string,
  options: O,
): Argv<InferredOptionTypes<O>> {
  return yargs(args)
    .scriptName(bin)
    .usage(usage)
    .version(false)
    .help(false)
    .options(options)
    .strictOptions()
    .wrap(120)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

/** What `--help` or `--version` prints: the same in every bin. */
export async function helpOrVersion(kind: 'help' | 'version', parser: Argv<unknown>, bin: string): Promise<string> {
  return kind === 'help' ? `${await parser.getHelp()}\n` : `${bin} ${PACKAGE_VERSION}\n`;
}
