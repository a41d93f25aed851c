/**
 * Record normalisation, pure: one Invoca row in, one Singer record out, against the stream schema.
 *
 * - A number that arrives as a string becomes a number where the schema says integer or number.
 * - `""` stays `""` where the schema says string, and becomes null where it says anything else
 *   (an empty value cannot be a number or a list).
 * - Custom columns are strings: a `1` or `true` in one becomes "1" or "true".
 * - A value that does not fit its type is kept as it is, and the field's type is widened.
 * - A field seen for the first time is added to the schema: objects and arrays as such, anything
 *   else as a nullable string.
 * - Local timestamps and epoch values are also given in UTC (RFC 3339) in the derived fields.
 */
import type { StreamSchema, ScalarType } from '../stream/schema.js';
import { toRfc3339Utc } from './timestamps.js';

export type TapRecord = Record<string, unknown>;

export interface NormalizedRecord {
  record: TapRecord;
  /** True when the schema grew or widened for this record: emit SCHEMA before it. */
  schemaChanged: boolean;
}

const INTEGER = /^-?\d{1,15}$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Converts `row` itself into the record (the client's freshly parsed rows are not shared): no
 * second object per row, which is most of the tap's garbage.
 */
export function normalizeRowInPlace(
  row: TapRecord,
  schema: StreamSchema,
  sequence: number,
  dropped: ReadonlySet<string>,
): NormalizedRecord {
  const record = row;
  let schemaChanged = false;
  for (const field in record) {
    if (dropped.has(field)) {
      delete record[field];
      continue;
    }
    const value = record[field];
    if (!schema.has(field)) {
      schema.add(field, newFieldType(value));
      schemaChanged = true;
    }
    const converted = convert(value, schema.types(field));
    if (converted.widenTo) {
      schema.widen(field, converted.widenTo);
      schemaChanged = true;
    }
    record[field] = converted.value;
  }
  const startTime = toRfc3339Utc(record['start_time_utc']) ?? toRfc3339Utc(record['start_time_local']);
  setDerived(record, 'start_time', startTime, dropped);
  setDerived(record, 'start_date_local', localDate(record['start_time_local']), dropped);
  setDerived(record, 'corrected_at_utc', toRfc3339Utc(record['corrected_at']), dropped);
  if ('start_time_network_timezone' in record) {
    setDerived(record, 'start_time_network_timezone_utc', toRfc3339Utc(record['start_time_network_timezone']), dropped);
  }
  if ('signal_occurred_at' in record) {
    setDerived(record, 'signal_occurred_at_utc', toRfc3339Utc(record['signal_occurred_at']), dropped);
  }
  record['_invoca_sequence'] = sequence;
  return { record, schemaChanged };
}

/** The calendar day of a local timestamp as Invoca writes it (`2026-01-01 03:00:00 -05:00`), as it stands: no time zone conversion. */
function localDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const day = /^(\d{4}-\d{2}-\d{2})(?:[ T]|$)/.exec(value.trim())?.[1];
  return day ?? null;
}

function setDerived(record: TapRecord, field: string, value: string | null, dropped: ReadonlySet<string>): void {
  if (!dropped.has(field)) record[field] = value;
}

function newFieldType(value: unknown): ScalarType {
  if (Array.isArray(value)) return 'array';
  if (value !== null && typeof value === 'object') return 'object';
  return 'string';
}

/** The value as the schema's types want it, or the value as is plus the type to widen to. */
function convert(value: unknown, types: readonly string[]): { value: unknown; widenTo?: ScalarType } {
  if (value === null || value === undefined) return { value: null };
  const primary = types[0];
  if (types.length !== 1 || primary === undefined) return fitsAny(value, types);
  switch (primary) {
    case 'string':
      if (typeof value === 'string') return { value };
      if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
      return { value, widenTo: newFieldType(value) };
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return { value };
      if (typeof value === 'string') {
        if (value.trim() === '') return { value: null };
        if (INTEGER.test(value.trim())) return { value: Number(value) };
      }
      return { value, widenTo: widening(value) };
    case 'number':
      if (typeof value === 'number') return { value };
      if (typeof value === 'string') {
        if (value.trim() === '') return { value: null };
        if (DECIMAL.test(value.trim())) return { value: Number(value) };
      }
      return { value, widenTo: widening(value) };
    case 'array':
    case 'object':
      if (primary === 'array' ? Array.isArray(value) : typeof value === 'object' && !Array.isArray(value)) return { value };
      if (value === '') return { value: null };
      return { value, widenTo: widening(value) };
    default:
      return fitsAny(value, types);
  }
}

/** For a widened field: keep the value; widen again only when no listed type holds it. */
function fitsAny(value: unknown, types: readonly string[]): { value: unknown; widenTo?: ScalarType } {
  const kind = widening(value);
  if (types.includes(kind) || (kind === 'integer' && types.includes('number'))) return { value };
  return { value, widenTo: kind };
}

function widening(value: unknown): ScalarType {
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  if (value !== null && typeof value === 'object') return 'object';
  return 'string';
}
