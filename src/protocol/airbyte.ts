/**
 * The Airbyte protocol encoding (https://docs.airbyte.com/understanding-airbyte/airbyte-protocol): one AirbyteMessage per stdout line. The sync's
 * events are the same as the Singer tap's; only their envelope differs.
 */
import type { JsonSchema } from '../config/validate.js';
import type { TapEvent } from '../tap/sync.js';
import { KEY_PROPERTIES, REPLICATION_KEY, STREAM } from '../stream/contract.js';
import { toAscii } from './ascii.js';

export type FailureType = 'config_error' | 'system_error' | 'transient_error';

function line(message: Record<string, unknown>): string {
  return `${toAscii(JSON.stringify(message))}\n`;
}

/** SPEC's connectionSpecification from the tap's config schema: secrets marked `airbyte_secret`, no $ref. */
export function connectionSpecification(configSchema: JsonSchema): JsonSchema {
  const properties = Object.fromEntries(
    Object.entries(configSchema.properties ?? {}).map(([name, property], order) => {
      const { secret, writeOnly: _writeOnly, mustBe: _mustBe, ...rest } = property;
      return [name, { ...rest, order, ...(secret === true ? { airbyte_secret: true } : {}) }];
    }),
  );
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Invoca Spec',
    type: 'object',
    required: configSchema.required ?? [],
    additionalProperties: true,
    properties,
  };
}

export function specMessage(configSchema: JsonSchema): string {
  return line({
    type: 'SPEC',
    spec: {
      documentationUrl: 'https://developers.invoca.net/en/latest/api_documentation/transactions_api/',
      connectionSpecification: connectionSpecification(configSchema),
      supportsIncremental: true,
      supported_destination_sync_modes: ['append', 'append_dedup'],
    },
  });
}

export function connectionStatusMessage(failure: string | undefined): string {
  return line({
    type: 'CONNECTION_STATUS',
    connectionStatus: failure === undefined ? { status: 'SUCCEEDED' } : { status: 'FAILED', message: failure },
  });
}

export function catalogMessage(schema: JsonSchema): string {
  return line({
    type: 'CATALOG',
    catalog: {
      streams: [
        {
          name: STREAM,
          json_schema: schema,
          supported_sync_modes: ['full_refresh', 'incremental'],
          source_defined_cursor: true,
          default_cursor_field: [REPLICATION_KEY],
          source_defined_primary_key: KEY_PROPERTIES.map((key) => [key]),
          is_resumable: true,
        },
      ],
    },
  });
}

export function traceErrorMessage(message: string, failureType: FailureType, emittedAt: number): string {
  return line({
    type: 'TRACE',
    trace: { type: 'ERROR', emitted_at: emittedAt, error: { message, internal_message: message, failure_type: failureType } },
  });
}

export type StreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';

/** A STREAM_STATUS trace: how the platform shows a stream's progress and whether it finished. */
export function streamStatusMessage(status: StreamStatus, emittedAt: number): string {
  return line({
    type: 'TRACE',
    trace: { type: 'STREAM_STATUS', emitted_at: emittedAt, stream_status: { stream_descriptor: { name: STREAM }, status } },
  });
}

/** Encodes sync events; keeps the count of records since the last state for `sourceStats`. */
export function createAirbyteEncoder(): (event: TapEvent, emittedAt: number) => string {
  let countedUpTo = 0;
  return (event, emittedAt) => {
    switch (event.type) {
      case 'schema':
        // Airbyte has no schema message: records carry new fields and the catalog allows them.
        return '';
      case 'records': {
        let text = '';
        for (const record of event.records)
          text += line({ type: 'RECORD', record: { stream: STREAM, data: record, emitted_at: emittedAt } });
        return text;
      }
      case 'state': {
        const recordCount = event.recordCount - countedUpTo;
        countedUpTo = event.recordCount;
        return line({
          type: 'STATE',
          state: {
            type: 'STREAM',
            stream: { stream_descriptor: { name: STREAM }, stream_state: event.value.bookmarks[STREAM] },
            sourceStats: { recordCount },
          },
        });
      }
    }
  };
}
