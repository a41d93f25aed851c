/** The protocols' encoding (src/protocol). */
import { expect, test } from '@jest/globals';
import { toAscii } from '../../src/protocol/ascii.js';

test('toAscii escapes everything above U+007E, astral characters as surrogate pairs', () => {
  const json = JSON.stringify({ name: 'Zürich 🦷 \u007f ok' });
  expect(toAscii(json)).toBe('{"name":"Z\\u00fcrich \\ud83e\\uddb7 \\u007f ok"}');
  expect(JSON.parse(toAscii(json))).toEqual(JSON.parse(json));
});
