/**
 * `npm run schemas`: writes the config schemas of src/config/schemas.ts to schemas/, the files
 * the package ships for other tools (test/unit/schemas.test.ts fails while they differ).
 */
import { writeFileSync } from 'node:fs';
import { LOADER_CONFIG_SCHEMA, TAP_CONFIG_SCHEMA } from '../src/config/schemas.js';
import { packagePath } from '../src/paths.js';

for (const [name, schema] of [
  ['tap-config.json', TAP_CONFIG_SCHEMA],
  ['loader-config.json', LOADER_CONFIG_SCHEMA],
] as const) {
  writeFileSync(packagePath(`schemas/${name}`), `${JSON.stringify(schema, null, 2)}\n`);
  process.stderr.write(`wrote schemas/${name}\n`);
}
