/**
 * `source-invoca`: the Airbyte source, `spec | check --config | discover --config |
 * read --config --catalog [--state]`, over the same core as tap-invoca (session.ts); only the
 * message envelope differs. A failed check is a FAILED CONNECTION_STATUS with exit 0; other
 * errors are a TRACE message, then the exit code of the error.
 */
import type { Writable } from 'node:stream';
import { readJsonFile } from '../config/files.js';
import { createRedactor, type Redactor } from '../config/redact.js';
import { parseTapConfig, TAP_CONFIG_SCHEMA, tapSecrets, type TapConfig } from '../config/tap-config.js';
import { ApiStatusError, CatalogError, ConfigError, isTapInvocaError, StateError, UsageError } from '../errors.js';
import { createLogger, type LineSink, type Logger } from '../log.js';
import {
  catalogMessage,
  connectionStatusMessage,
  createAirbyteEncoder,
  specMessage,
  traceErrorMessage,
  type FailureType,
} from '../protocol/airbyte.js';
import { StreamWriter } from '../protocol/writer.js';
import { selectionFromAirbyteCatalog } from '../tap/catalog.js';
import { discover, newClient, syncEvents } from '../tap/session.js';
import { parseAirbyteState, parseState } from '../tap/state.js';
import type { Options } from 'yargs';
import { cliParser, type ArgvOf } from './parser.js';
import { reportFatal } from './report.js';

export interface SourceIo {
  stdout: Writable;
  stderr: LineSink;
  signal?: AbortSignal;
}

const BIN = 'source-invoca';
const COMMANDS = ['spec', 'check', 'discover', 'read'] as const;
type Command = (typeof COMMANDS)[number];

const sourceOptions = {
  config: { type: 'string', describe: 'Config JSON file' },
  catalog: { type: 'string', describe: 'Configured catalog JSON file (read)' },
  state: { type: 'string', describe: 'State JSON file (read)' },
} as const satisfies Record<string, Options>;

type SourceArgv = ArgvOf<typeof sourceOptions>;

/** The command and its files, from parsed argv. Pure. */
export function check(argv: SourceArgv): { command: Command; config?: string; catalog?: string; state?: string } {
  const [command, ...extra] = (argv._ ?? []).map(String);
  if (!COMMANDS.includes(command as Command) || extra.length > 0) {
    throw new UsageError(`usage: ${BIN} spec | check --config c | discover --config c | read --config c --catalog k [--state s]`);
  }
  if (command !== 'spec' && !argv.config) throw new UsageError(`${command} needs --config`);
  if (command === 'read' && !argv.catalog) throw new UsageError('read needs --catalog (the configured catalog)');
  return {
    command: command as Command,
    ...(argv.config ? { config: argv.config } : {}),
    ...(argv.catalog ? { catalog: argv.catalog } : {}),
    ...(argv.state ? { state: argv.state } : {}),
  };
}

function failureType(error: unknown): FailureType {
  if (isTapInvocaError(error) && error.exitCode === 2) return 'config_error';
  if (error instanceof ApiStatusError && [400, 401, 403, 404].includes(error.status)) return 'config_error';
  if (isTapInvocaError(error) && error.retryable) return 'transient_error';
  return 'system_error';
}

export async function run(args: string[], io: SourceIo): Promise<number> {
  let redact: Redactor = (text) => text;
  const writer = new StreamWriter(io.stdout);
  let command: Command | undefined;
  try {
    const parsed = check(await cliParser(args, BIN, '$0 spec | check | discover | read', sourceOptions).parseAsync());
    command = parsed.command;
    if (parsed.command === 'spec') {
      await writer.write(specMessage(TAP_CONFIG_SCHEMA));
      return 0;
    }
    const rawConfig = await readJsonFile(parsed.config ?? '', 'config', (message, options) => new ConfigError(message, options));
    redact = createRedactor(tapSecrets(rawConfig));
    const logger = createLogger({ sink: io.stderr, redact });
    let config: TapConfig;
    try {
      const result = parseTapConfig(rawConfig, parsed.config);
      config = result.config;
      for (const warning of result.warnings) logger.warn(warning);
    } catch (error) {
      if (parsed.command !== 'check') throw error;
      await writer.write(connectionStatusMessage(redact(error instanceof Error ? error.message : String(error))));
      return 0;
    }
    switch (parsed.command) {
      case 'check':
        await writer.write(connectionStatusMessage(await checkConnection(config, logger, redact)));
        return 0;
      case 'discover':
        await writer.write(catalogMessage((await discover(config, logger, io.signal)).toJSON()));
        return 0;
      case 'read':
        return await read(config, logger, parsed.catalog ?? '', parsed.state, writer, io.signal);
    }
  } catch (error) {
    if (command === 'check') {
      await writer.write(connectionStatusMessage(redact(error instanceof Error ? error.message : String(error))));
      return 0;
    }
    const message = redact(error instanceof Error ? error.message : String(error));
    await writer.write(traceErrorMessage(message, failureType(error), Date.now())).catch(() => undefined);
    return reportFatal(BIN, error, redact, io.stderr);
  }
}

/** One small request: undefined when it succeeds, else the reason. */
async function checkConnection(config: TapConfig, logger: Logger, redact: Redactor): Promise<string | undefined> {
  const client = newClient(config, logger, undefined);
  try {
    await client.fetchPage({ limit: 1 });
    return undefined;
  } catch (error) {
    return redact(error instanceof Error ? error.message : String(error));
  } finally {
    await client.close();
  }
}

async function read(
  config: TapConfig,
  logger: Logger,
  catalogPath: string,
  statePath: string | undefined,
  writer: StreamWriter,
  signal: AbortSignal | undefined,
): Promise<number> {
  const selection = selectionFromAirbyteCatalog(
    await readJsonFile(catalogPath, 'catalog', (message, options) => new CatalogError(message, options)),
  );
  if (!selection.streamSelected) {
    logger.info('the transactions stream is not in the configured catalog: nothing to read');
    return 0;
  }
  let bookmark = parseState(undefined);
  if (statePath !== undefined && !selection.fullRefresh) {
    bookmark = parseAirbyteState(await readJsonFile(statePath, 'state', (message, options) => new StateError(message, options)));
  }
  const encode = createAirbyteEncoder();
  for await (const event of syncEvents({ config, logger, signal, selection, bookmark })) {
    const text = encode(event, Date.now());
    if (text) await writer.write(text);
  }
  return 0;
}
