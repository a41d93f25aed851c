/**
 * The Singer wire encoding of the tap's events: one ASCII-only JSON object per line.
 * https://hub.meltano.com/singer/spec (docs/design.md, "The protocols")
 */
import type { TapEvent } from '../tap/sync.js';
import { KEY_PROPERTIES, RECORD_LINE_PREFIX, REPLICATION_KEY, STREAM } from '../stream/contract.js';
import { toAscii } from './ascii.js';

/** The lines of one event, newline-terminated, ready to write. */
export function encodeSinger(event: TapEvent, timeExtracted: string): string {
  switch (event.type) {
    case 'schema':
      return `${toAscii(
        JSON.stringify({
          type: 'SCHEMA',
          stream: STREAM,
          schema: event.schema.toJSON(),
          key_properties: KEY_PROPERTIES,
          bookmark_properties: [REPLICATION_KEY],
        }),
      )}\n`;
    case 'records': {
      const suffix = `,"time_extracted":"${timeExtracted}"}\n`;
      let text = '';
      for (const record of event.records) text += RECORD_LINE_PREFIX + JSON.stringify(record) + suffix;
      return toAscii(text);
    }
    case 'state':
      return `${JSON.stringify({ type: 'STATE', value: event.value })}\n`;
  }
}
