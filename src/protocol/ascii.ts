/**
 * ASCII-only JSON, as Python taps write it (`json.dumps` with ensure_ascii): every character
 * above U+007E becomes `\uXXXX` (astral characters as their UTF-16 surrogate pair), which is
 * still the same JSON value. `meltano config test` decodes tap output as ASCII.
 */
const NON_ASCII_RUN = /[\u007f-\uffff]+/g;

/** Escaped runs seen so far: names and places repeat, so most runs are escaped once. */
const escapedRuns = new Map<string, string>();
const MAX_CACHED_RUNS = 10_000;

export function toAscii(json: string): string {
  return json.replace(NON_ASCII_RUN, escapeRun);
}

function escapeRun(run: string): string {
  let escaped = escapedRuns.get(run);
  if (escaped !== undefined) return escaped;
  escaped = '';
  for (let index = 0; index < run.length; index++) escaped += `\\u${run.charCodeAt(index).toString(16).padStart(4, '0')}`;
  if (escapedRuns.size < MAX_CACHED_RUNS) escapedRuns.set(run, escaped);
  return escaped;
}
