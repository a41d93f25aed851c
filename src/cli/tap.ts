/**
 * `tap-invoca`: parse argv, load config / catalog / state, run the mode, map errors to exit codes.
 * `run` is what the bin calls and what tests call directly, with their own stdout and signal.
 */
import type { Writable } from 'node:stream';
import { readJsonFile } from '../config/files.js';
import { createRedactor, type Redactor } from '../config/redact.js';
import { parseTapConfig, type TapConfig } from '../config/tap-config.js';
import { CatalogError, ConfigError, StateError } from '../errors.js';
import { InvocaClient } from '../invoca/client.js';
import { createLogger, type LineSink, type Logger } from '../log.js';
import { PACKAGE_VERSION } from '../paths.js';
import { encodeSinger } from '../protocol/singer.js';
import { StreamWriter } from '../protocol/writer.js';
import { aboutJson, aboutMarkdown, aboutText } from '../tap/about.js';
import { buildCatalog, selectionFromCatalog, type Selection } from '../tap/catalog.js';
import { discoverSchema } from '../tap/discover.js';
import { parseState } from '../tap/state.js';
import { BASE_SCHEMA, DERIVED_FIELDS, StreamSchema } from '../tap/stream-schema.js';
import { syncTransactions } from '../tap/sync.js';
import { cliParser } from './parser.js';
import { reportFatal } from './report.js';
import { check, tapOptions, type TapArgv } from './tap-args.js';

export interface TapIo {
  stdout: Writable;
  /** One log line (without newline) for stderr. */
  stderr: LineSink;
  /** Aborted on SIGTERM / SIGINT: the sync ends after the page being written, with its state. */
  signal?: AbortSignal;
}

const BIN = 'tap-invoca';
const BASE_FIELDS = new Set(Object.keys(BASE_SCHEMA.properties ?? {}));

export async function run(args: string[], io: TapIo): Promise<number> {
  let redact: Redactor = (text) => text;
  try {
    const parser = cliParser(args, BIN, '$0 --config config.json [--catalog catalog.json] [--state state.json]\n$0 --config config.json --discover', tapOptions);
    const argv = (await parser.parseAsync()) as unknown as TapArgv;
    const mode = check(argv);
    const writer = new StreamWriter(io.stdout);
    switch (mode.kind) {
      case 'help':
        await writer.write(`${await parser.getHelp()}\n`);
        return 0;
      case 'version':
        await writer.write(`${BIN} ${PACKAGE_VERSION}\n`);
        return 0;
      case 'about': {
        const text =
          mode.format === 'json' ? `${JSON.stringify(aboutJson(), null, 2)}\n` : mode.format === 'markdown' ? aboutMarkdown() : aboutText();
        await writer.write(text);
        return 0;
      }
    }
    const rawConfig = await readJsonFile(mode.configPath, 'config', (message, options) => new ConfigError(message, options));
    redact = createRedactor([secretOf(rawConfig)]);
    const { config, warnings } = parseTapConfig(rawConfig, mode.configPath);
    const logger = createLogger({ sink: io.stderr, redact, debug: process.env['TAP_INVOCA_LOGLEVEL'] === 'debug' });
    for (const warning of warnings) logger.warn(warning);

    if (mode.kind === 'discover') {
      const client = newClient(config, logger, io.signal, []);
      try {
        const schema = await discoverSchema(client);
        await writer.write(`${JSON.stringify(buildCatalog(schema.toJSON()), null, 2)}\n`);
      } finally {
        await client.close();
      }
      return 0;
    }

    let selection: Selection = { streamSelected: true, catalogFields: [], deselectedFields: new Set() };
    let bookmark = parseState(undefined);
    if (mode.kind === 'sync') {
      if (mode.catalogPath !== undefined) {
        selection = selectionFromCatalog(
          await readJsonFile(mode.catalogPath, 'catalog', (message, options) => new CatalogError(message, options)),
        );
      }
      if (mode.statePath !== undefined) {
        bookmark = parseState(await readJsonFile(mode.statePath, 'state', (message, options) => new StateError(message, options)));
      }
      if (!selection.streamSelected) {
        logger.info('the transactions stream is not selected in the catalog: nothing to sync');
        return 0;
      }
    }

    const client = newClient(config, logger, io.signal, [...selection.deselectedFields]);
    try {
      const isTest = mode.kind === 'test';
      const events = syncTransactions({
        client,
        // The catalog's custom columns are known up front: no SCHEMA change at the first record.
        schema: new StreamSchema(selection.catalogFields.filter((field) => !BASE_FIELDS.has(field) && !selection.deselectedFields.has(field))),
        bookmark,
        startDate: config.startDate,
        deselectedFields: selection.deselectedFields,
        logger,
        signal: io.signal,
        maxRecords: isTest ? 1 : undefined,
      });
      let records = 0;
      for await (const event of events) {
        if (isTest && event.type === 'state') continue;
        if (event.type === 'records') records += event.records.length;
        await writer.write(encodeSinger(event, new Date().toISOString()));
      }
      if (isTest) logger.info(`connection test passed: read ${records} record${records === 1 ? '' : 's'}`);
    } finally {
      await client.close();
    }
    return 0;
  } catch (error) {
    return reportFatal(BIN, error, redact, io.stderr);
  }
}

function newClient(config: TapConfig, logger: Logger, signal: AbortSignal | undefined, deselected: string[]): InvocaClient {
  return new InvocaClient({
    baseUrl: config.baseUrl,
    apiVersion: config.apiVersion,
    accountType: config.accountType,
    accountId: config.accountId,
    apiToken: config.apiToken,
    pageSize: config.pageSize,
    includeColumns: config.includeColumns,
    // Fields the catalog deselects are not even requested (derived fields are not Invoca's).
    excludeColumns: [...config.excludeColumns, ...deselected.filter((field) => !isDerived(field))],
    transactionTypes: config.transactionTypes,
    requestTimeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    retryInitialDelayMs: config.retryInitialDelayMs,
    logger,
    signal,
  });
}

function isDerived(field: string): boolean {
  return (DERIVED_FIELDS as readonly string[]).includes(field);
}

function secretOf(rawConfig: unknown): string | undefined {
  if (!rawConfig || typeof rawConfig !== 'object') return undefined;
  const token = (rawConfig as Record<string, unknown>)['api_token'];
  return token === undefined || token === null ? undefined : String(token);
}
