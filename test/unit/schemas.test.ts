import { readFileSync } from 'node:fs';
import { expect, test } from '@jest/globals';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { LOADER_CONFIG_SCHEMA, TAP_CONFIG_SCHEMA } from '../../src/config/schemas.js';
import { secretValues } from '../../src/config/secrets.js';

test.each([
  ['tap-config.json', TAP_CONFIG_SCHEMA],
  ['loader-config.json', LOADER_CONFIG_SCHEMA],
])('schemas/%s is the schema of src/config/schemas.ts (npm run schemas writes it)', (name, schema) => {
  expect(JSON.parse(readFileSync(`schemas/${name}`, 'utf8'))).toEqual(schema);
});

test('the secrets to redact are the values the schemas mark secret, at any depth', () => {
  expect(secretValues(TAP_CONFIG_SCHEMA, { api_token: 'tok_1234', account_id: '12' })).toEqual(['tok_1234']);
  const loader = { engine: 'snowflake', snowflake: { account: 'a', user: 'u', password: 'pw_5678', private_key_passphrase: 'pp_9012' } };
  expect(secretValues(LOADER_CONFIG_SCHEMA, loader).sort()).toEqual(['pp_9012', 'pw_5678']);
  expect(secretValues(LOADER_CONFIG_SCHEMA, { snowflake: 'not an object' })).toEqual([]);
  // A secret in the wrong shape (a list, an object) is still hidden: validation will print it.
  expect(secretValues(TAP_CONFIG_SCHEMA, { api_token: ['tok_1234', { nested: 'tok_5678' }] })).toEqual(['tok_1234', 'tok_5678']);
});

test('BigQuery without a location setting: none is filled in (jobs run where the dataset is)', () => {
  const { config } = parseLoaderConfig({ engine: 'bigquery', bigquery: { project_id: 'p', dataset: 'd' } });
  expect(config.bigquery).toEqual({ project_id: 'p', dataset: 'd', job_timeout_seconds: 3600 });
  expect(config.bigquery).not.toHaveProperty('location');
});

test('fault specs: the messages name the fault and its field', async () => {
  const { parseFaults } = await import('../../src/simulator/faults.js');
  expect(() => parseFaults([{}])).toThrow("fault 0 field 'kind' is required");
  expect(() => parseFaults([{ status: 500 }])).toThrow("fault 0 field 'kind' is required");
  expect(() => parseFaults([{ kind: 'nope' }])).toThrow("fault 0 field 'kind' must be one of status, html");
  expect(() => parseFaults([{ kind: 'status' }])).toThrow("fault 0 field 'status' is required");
  expect(() => parseFaults([{ kind: 'latency', delayMs: -1 }])).toThrow("fault 0 field 'delayMs' must be a non-negative integer (got -1)");
  expect(parseFaults({ kind: 'status', status: 503, times: 2 })).toEqual([{ kind: 'status', status: 503, times: 2 }]);
});

test('the Meltano plugin has a setting for every config key of the tap, sensitive exactly where the key is secret', () => {
  // The plugin's `settings:` list, read as the file lays it out: `- name: x` then its keys.
  const text = readFileSync('meltano/plugins/extractors/tap-invoca.yml', 'utf8');
  const settings = text
    .slice(text.indexOf('\nsettings:\n'))
    .split(/\n- name: /)
    .slice(1)
    .map((block) => ({ name: block.split('\n')[0]?.trim() ?? '', sensitive: /\n {2}sensitive: true\n/.test(`${block}\n`) }));
  const properties = TAP_CONFIG_SCHEMA.properties as Record<string, { secret?: boolean }>;
  expect(settings.map((setting) => setting.name).sort()).toEqual(Object.keys(properties).sort());
  for (const setting of settings)
    expect([setting.name, setting.sensitive]).toEqual([setting.name, properties[setting.name]?.secret === true]);
});
