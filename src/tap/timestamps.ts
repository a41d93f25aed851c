/**
 * Invoca's timestamps as UTC RFC 3339 strings. Invoca sends local times with an offset, with or
 * without a colon (`2019-01-24 06:43:15 -07:00`, `... -0700`), ISO forms (`2019-01-24T06:43:15-07:00`),
 * and epoch milliseconds or seconds, as numbers or numeric strings (docs/design.md, "Invoca's Transactions API").
 */

const LOCAL = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:([+-])(\d{2}):?(\d{2})|([Zz]))$/;

/** Milliseconds since the epoch, or undefined when the value is no recognisable timestamp. */
export function timestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return epochMs(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d{9,13}$/.test(text)) return epochMs(Number(text));
  const match = LOCAL.exec(text);
  if (!match) return undefined;
  const [, date, time, sign, hours, minutes, zulu] = match;
  const offset = zulu ? 'Z' : `${sign}${hours}:${minutes}`;
  const ms = Date.parse(`${date}T${time}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** 13 digits are milliseconds, 10 (or fewer) are seconds. */
function epochMs(value: number): number | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  return value >= 1e11 ? value : value * 1000;
}

export function toRfc3339Utc(value: unknown): string | null {
  const ms = timestampMs(value);
  return ms === undefined ? null : new Date(ms).toISOString();
}
