import { readFile } from 'node:fs/promises';
import { expect, test } from '@jest/globals';
import { aboutMarkdown } from '../../src/tap/about.js';

test("the README's settings table is `tap-invoca --about --format markdown`", async () => {
  const readme = await readFile('README.md', 'utf8');
  const included = /<!-- about:start -->\n([\s\S]*?)<!-- about:end -->/.exec(readme)?.[1];
  expect(included).toBe(aboutMarkdown());
});
