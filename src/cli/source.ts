/**
 * `source-invoca`: the Airbyte source, `spec | check --config | discover --config |
 * read --config --catalog [--state]`, over the same core as tap-invoca (session.ts); only the
 * message envelope differs. A failed check is a FAILED CONNECTION_STATUS with exit 0; other
 * errors are a TRACE message, then the exit code of the error.
 */
import type { Writable } from 'node:stream';
import { readJsonFile } from '../config/files.js';
import { openTapConfig } from '../config/open.js';
import type { Redactor } from '../config/redact.js';
import { TAP_CONFIG_SCHEMA, type TapConfig } from '../config/tap-config.js';
import { ApiNetworkError, ApiStatusError, isTapInvocaError } from '../errors.js';
import { createLogger, type LineSink, type Logger } from '../log.js';
import {
  catalogMessage,
  connectionStatusMessage,
  createAirbyteEncoder,
  specMessage,
  streamStatusMessage,
  traceErrorMessage,
  type FailureType,
} from '../protocol/airbyte.js';
import { StreamWriter } from '../protocol/writer.js';
import { selectionFromAirbyteCatalog } from '../tap/catalog.js';
import { discover, newClient, syncEvents } from '../tap/session.js';
import { parseAirbyteState, parseState } from '../tap/state.js';
import { cliParser, helpOrVersion } from './parser.js';
import { reportFatal } from './report.js';
import { check, SOURCE_USAGE, sourceOptions, type SourceMode } from './source-args.js';

export interface SourceIo {
  stdout: Writable;
  stderr: LineSink;
  signal?: AbortSignal;
  /** Told the config's redactor once it exists: the bin hides secrets in what it prints outside run(). */
  useRedactor?: (redact: Redactor) => void;
}

const BIN = 'source-invoca';

function failureType(error: unknown): FailureType {
  if (isTapInvocaError(error) && error.exitCode === 2) return 'config_error';
  if (error instanceof ApiStatusError && [400, 401, 403, 404].includes(error.status)) return 'config_error';
  // A base_url whose host does not resolve (the one network error that is not retried).
  if (error instanceof ApiNetworkError && !error.retryable) return 'config_error';
  if (isTapInvocaError(error) && error.retryable) return 'transient_error';
  return 'system_error';
}

export async function run(args: string[], io: SourceIo): Promise<number> {
  let redact: Redactor = (text) => text;
  const writer = new StreamWriter(io.stdout);
  let mode: SourceMode | undefined;
  try {
    const parser = cliParser(args, BIN, `$0 ${SOURCE_USAGE}`, sourceOptions);
    mode = check(await parser.parseAsync());
    if (mode.kind === 'help' || mode.kind === 'version') {
      await writer.write(await helpOrVersion(mode.kind, parser, BIN));
      return 0;
    }
    switch (mode.kind) {
      case 'spec':
        await writer.write(specMessage(TAP_CONFIG_SCHEMA));
        return 0;
    }
    const opened = await openTapConfig(mode.configPath);
    redact = opened.redact;
    io.useRedactor?.(redact);
    const logger = createLogger({ sink: io.stderr, redact });
    for (const warning of opened.warnings) logger.warn(warning);
    switch (mode.kind) {
      case 'check':
        await writer.write(connectionStatusMessage(await checkConnection(opened.config, logger, redact)));
        return 0;
      case 'discover':
        await writer.write(catalogMessage((await discover(opened.config, logger, io.signal)).toJSON()));
        return 0;
      case 'read':
        return await read(opened.config, logger, mode, writer, io.signal);
    }
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    // A failed check is a FAILED connection status, whatever failed: the config too.
    if (mode?.kind === 'check') {
      await writer.write(connectionStatusMessage(message));
      return 0;
    }
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
  files: { catalogPath: string; statePath: string | undefined },
  writer: StreamWriter,
  signal: AbortSignal | undefined,
): Promise<number> {
  const selection = selectionFromAirbyteCatalog(await readJsonFile(files.catalogPath, 'catalog'));
  if (!selection.streamSelected) {
    logger.info('the transactions stream is not in the configured catalog: nothing to read');
    return 0;
  }
  let bookmark = parseState(undefined);
  if (files.statePath !== undefined && !selection.fullRefresh) {
    bookmark = parseAirbyteState(await readJsonFile(files.statePath, 'state'), files.statePath);
  }
  const encode = createAirbyteEncoder();
  // The stream's status for the platform: STARTED, RUNNING from its first record, then COMPLETE,
  // or INCOMPLETE when the read failed or was stopped (the error's TRACE follows).
  await writer.write(streamStatusMessage('STARTED', Date.now()));
  let running = false;
  try {
    for await (const event of syncEvents({ config, logger, signal, selection, bookmark })) {
      if (!running && event.type === 'records' && event.records.length > 0) {
        running = true;
        await writer.write(streamStatusMessage('RUNNING', Date.now()));
      }
      const text = encode(event, Date.now());
      if (text) await writer.write(text);
    }
  } catch (error) {
    await writer.write(streamStatusMessage('INCOMPLETE', Date.now())).catch(() => undefined);
    throw error;
  }
  await writer.write(streamStatusMessage(signal?.aborted ? 'INCOMPLETE' : 'COMPLETE', Date.now()));
  return 0;
}
