/**
 * What the Singer tap and the Airbyte source share: the client built from config, discovery,
 * and the sync as events. The two bins only encode these events for their protocol.
 */
import type { TapConfig } from '../config/tap-config.js';
import { InvocaClient } from '../invoca/client.js';
import type { Logger } from '../log.js';
import type { Selection } from './catalog.js';
import { discoverSchema } from './discover.js';
import type { TapBookmark } from './state.js';
import { BASE_SCHEMA, DERIVED_FIELDS, StreamSchema } from './stream-schema.js';
import { syncTransactions, type TapEvent } from './sync.js';

const BASE_FIELDS = new Set(Object.keys(BASE_SCHEMA.properties ?? {}));

export function newClient(config: TapConfig, logger: Logger, signal: AbortSignal | undefined, deselected: readonly string[] = []): InvocaClient {
  return new InvocaClient({
    baseUrl: config.baseUrl,
    apiVersion: config.apiVersion,
    accountType: config.accountType,
    accountId: config.accountId,
    apiToken: config.apiToken,
    pageSize: config.pageSize,
    includeColumns: config.includeColumns,
    // Fields the catalog deselects are not even requested (derived fields are not Invoca's).
    excludeColumns: [...config.excludeColumns, ...deselected.filter((field) => !(DERIVED_FIELDS as readonly string[]).includes(field))],
    transactionTypes: config.transactionTypes,
    requestTimeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    retryInitialDelayMs: config.retryInitialDelayMs,
    logger,
    signal,
  });
}

/** The account's stream schema (documented fields plus its custom columns). */
export async function discover(config: TapConfig, logger: Logger, signal?: AbortSignal): Promise<StreamSchema> {
  const client = newClient(config, logger, signal);
  try {
    return await discoverSchema(client);
  } finally {
    await client.close();
  }
}

export interface SessionOptions {
  config: TapConfig;
  logger: Logger;
  signal?: AbortSignal | undefined;
  selection: Selection;
  bookmark: TapBookmark;
  maxRecords?: number | undefined;
}

/** The sync of the selected stream as events, with its own client. */
export async function* syncEvents(options: SessionOptions): AsyncGenerator<TapEvent> {
  const { config, logger, signal, selection } = options;
  const client = newClient(config, logger, signal, [...selection.deselectedFields]);
  try {
    yield* syncTransactions({
      client,
      // The catalog's custom columns are known up front: no SCHEMA change at the first record.
      schema: new StreamSchema(selection.catalogFields.filter((field) => !BASE_FIELDS.has(field) && !selection.deselectedFields.has(field))),
      bookmark: options.bookmark,
      startDate: config.startDate,
      backfillConcurrency: config.backfillConcurrency,
      deselectedFields: selection.deselectedFields,
      logger,
      signal,
      maxRecords: options.maxRecords,
    });
  } finally {
    await client.close();
  }
}

export const SELECT_ALL: Selection = { streamSelected: true, catalogFields: [], deselectedFields: new Set() };
