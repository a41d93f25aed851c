import yargs, { type Argv, type Options } from 'yargs';
import { UsageError } from '../errors.js';

/**
 * The yargs parser every bin uses: our own --help and --version, unknown flags rejected, and
 * every parse problem thrown as a UsageError (exit 2) instead of yargs printing and exiting.
 */
export function cliParser(args: string[], bin: string, usage: string, options: Record<string, Options>): Argv {
  return yargs(args)
    .scriptName(bin)
    .usage(usage)
    .version(false)
    .help(false)
    .options(options)
    .strictOptions()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}
