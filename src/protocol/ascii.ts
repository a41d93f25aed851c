/**
 * ASCII-only JSON, as Python taps write it (`json.dumps` with ensure_ascii): every character
 * above U+007E becomes `\uXXXX` (astral characters as their UTF-16 surrogate pair), which is
 * still the same JSON value. `meltano config test` decodes tap output as ASCII.
 */
const NON_ASCII = /[\u007f-\uffff]/g;

export function toAscii(json: string): string {
  // Most pages are pure ASCII: one test is cheaper than a replace that finds nothing.
  if (!/[\u007f-\uffff]/.test(json)) return json;
  return json.replace(NON_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
