/**
 * source-invoca (Airbyte) against the simulator; every message it writes is validated against
 * the Airbyte protocol's published models (airbyte-protocol-models, in .venv).
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { run } from '../../src/cli/source.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { failDnsLookups } from '../helpers/dns.js';
import { simulator, TEST_TOKEN } from '../helpers/simulator.js';
import { jsonFile, tapConfig } from '../helpers/tap.js';
import { requireTools, runProcess } from '../helpers/tools.js';

const PYTHON = '.venv/bin/python';
requireTools([PYTHON], 'validating Airbyte messages against the protocol models');

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** The status of a STREAM_STATUS trace, or undefined for any other message. */
function streamStatus(message: Record<string, unknown>): string | undefined {
  const trace = message['trace'] as { type?: string; stream_status?: { status?: string } } | undefined;
  return message['type'] === 'TRACE' && trace?.type === 'STREAM_STATUS' ? trace.stream_status?.status : undefined;
}

/** Every line any test saw, validated once at the end. */
const seen: string[] = [];

async function source(args: string[]): Promise<{ code: number; messages: Record<string, unknown>[]; stderr: string[] }> {
  const chunks: string[] = [];
  const stderr: string[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const code = await run(args, { stdout, stderr: (line) => stderr.push(line) });
  const lines = chunks.join('').split('\n').filter(Boolean);
  seen.push(...lines);
  return { code, messages: lines.map((line) => JSON.parse(line) as Record<string, unknown>), stderr };
}

const configuredCatalog = (syncMode: 'incremental' | 'full_refresh', jsonSchema: Record<string, unknown> = {}) => ({
  streams: [
    {
      stream: { name: 'transactions', json_schema: jsonSchema, supported_sync_modes: ['full_refresh', 'incremental'] },
      sync_mode: syncMode,
      destination_sync_mode: 'append',
      cursor_field: ['transaction_id'],
    },
  ],
});

describe('source-invoca', () => {
  test('spec: the config schema with secrets marked airbyte_secret, no $ref, additionalProperties', async () => {
    const { code, messages } = await source(['spec']);
    expect(code).toBe(0);
    expect(messages).toHaveLength(1);
    const spec = (messages[0]?.['spec'] as Record<string, Record<string, unknown>> | undefined)?.['connectionSpecification'] as Record<
      string,
      unknown
    >;
    expect(spec['additionalProperties']).toBe(true);
    expect(JSON.stringify(spec)).not.toContain('$ref');
    for (const secret of ['api_token', 'hash_key'])
      expect((spec['properties'] as Record<string, Record<string, unknown>>)[secret]).toMatchObject({
        type: 'string',
        airbyte_secret: true,
      });
    expect((spec['properties'] as Record<string, Record<string, unknown>>)['hash_columns']).toMatchObject({ type: 'array' });
    expect(spec['required']).toEqual(['api_token', 'account_id']);
  });

  test('check: SUCCEEDED; a wrong token or an invalid config is FAILED with exit 0, without the token', async () => {
    sim = await simulator({ rows: 5 });
    const ok = await source(['check', '--config', await jsonFile(tapConfig(sim))]);
    expect([ok.code, ok.messages]).toEqual([0, [{ type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } }]]);
    const badToken = await source(['check', '--config', await jsonFile(tapConfig(sim, { api_token: 'wrong-token-777' }))]);
    expect(badToken.code).toBe(0);
    expect(badToken.messages[0]).toMatchObject({ type: 'CONNECTION_STATUS', connectionStatus: { status: 'FAILED' } });
    expect(JSON.stringify(badToken.messages)).toContain('HTTP 401');
    expect(JSON.stringify(badToken)).not.toContain('wrong-token-777');
    const invalid = await source(['check', '--config', await jsonFile({ api_token: TEST_TOKEN, account_id: '1', page_size: 0 })]);
    expect(invalid.code).toBe(0);
    expect(JSON.stringify(invalid.messages[0])).toContain("config field 'page_size' must be >= 1");
    expect(JSON.stringify(invalid)).not.toContain(TEST_TOKEN);
  });

  test('discover: CATALOG with sync modes, cursor, primary key and the custom columns', async () => {
    sim = await simulator({ rows: 5 });
    const { messages } = await source(['discover', '--config', await jsonFile(tapConfig(sim))]);
    const stream = ((messages[0]?.['catalog'] as Record<string, unknown[]> | undefined)?.['streams'] ?? [])[0] as Record<string, unknown>;
    expect(stream).toMatchObject({
      name: 'transactions',
      supported_sync_modes: ['full_refresh', 'incremental'],
      source_defined_cursor: true,
      default_cursor_field: ['transaction_id'],
      source_defined_primary_key: [['transaction_id']],
    });
    expect((stream['json_schema'] as { properties: Record<string, unknown> }).properties).toHaveProperty(['Purchase Made']);
  });

  test('read: RECORDs with emitted_at, per-stream STATE with sourceStats; a later read resumes from that state', async () => {
    sim = await simulator({ rows: 250 });
    const config = await jsonFile(tapConfig(sim, { page_size: 100 }));
    const catalog = await jsonFile(configuredCatalog('incremental'));
    const first = await source(['read', '--config', config, '--catalog', catalog]);
    expect(first.code).toBe(0);
    const records = first.messages.filter((message) => message['type'] === 'RECORD');
    expect(records).toHaveLength(250);
    expect(records[0]?.['record']).toMatchObject({ stream: 'transactions', emitted_at: expect.any(Number) });
    const states = first.messages
      .filter((message) => message['type'] === 'STATE')
      .map((message) => message['state'] as Record<string, unknown>);
    expect(states.map((state) => (state['sourceStats'] as { recordCount: number }).recordCount)).toEqual([100, 100, 50, 0]);
    // The stream's status, as the platform reads it: STARTED first, RUNNING before the first record, COMPLETE last.
    const statuses = first.messages.map((message, index) => ({ index, message })).filter(({ message }) => streamStatus(message));
    expect(statuses.map(({ message }) => streamStatus(message))).toEqual(['STARTED', 'RUNNING', 'COMPLETE']);
    expect(statuses.map(({ index }) => index)).toEqual([
      0,
      first.messages.findIndex((message) => message['type'] === 'RECORD') - 1,
      first.messages.length - 1,
    ]);
    const last = states.at(-1) ?? {};
    expect(last).toMatchObject({
      type: 'STREAM',
      stream: { stream_descriptor: { name: 'transactions' }, stream_state: { replication_key_value: sim.feed.transactionId(249) } },
    });

    sim.append(30);
    const second = await source(['read', '--config', config, '--catalog', catalog, '--state', await jsonFile([last])]);
    const ids = second.messages
      .filter((message) => message['type'] === 'RECORD')
      .map((message) => (message['record'] as { data: { transaction_id: string } }).data.transaction_id);
    expect(ids).toEqual(Array.from({ length: 30 }, (_, index) => sim?.feed.transactionId(250 + index)));

    // A legacy state object is accepted too; full_refresh ignores the state.
    const legacy = await source([
      'read',
      '--config',
      config,
      '--catalog',
      catalog,
      '--state',
      await jsonFile({ transactions: (last['stream'] as { stream_state: unknown }).stream_state }),
    ]);
    expect(legacy.messages.filter((message) => message['type'] === 'RECORD')).toHaveLength(30);
    const full = await source([
      'read',
      '--config',
      config,
      '--catalog',
      await jsonFile(configuredCatalog('full_refresh')),
      '--state',
      await jsonFile([last]),
    ]);
    expect(full.messages.filter((message) => message['type'] === 'RECORD')).toHaveLength(280);
  });

  test('read: a trimmed json_schema deselects fields; a stream not in the catalog reads nothing', async () => {
    sim = await simulator({ rows: 10 });
    const config = await jsonFile(tapConfig(sim));
    const trimmed = await source([
      'read',
      '--config',
      config,
      '--catalog',
      await jsonFile(
        configuredCatalog('incremental', {
          type: 'object',
          properties: { transaction_id: { type: 'string' }, city: { type: ['null', 'string'] } },
        }),
      ),
    ]);
    const data = (
      trimmed.messages.find((message) => message['type'] === 'RECORD')?.['record'] as { data: Record<string, unknown> } | undefined
    )?.data;
    expect(data).toHaveProperty('city');
    expect(data).toHaveProperty('complete_call_id');
    expect(data).not.toHaveProperty('region');
    const none = await source(['read', '--config', config, '--catalog', await jsonFile({ streams: [] })]);
    expect([none.code, none.messages]).toEqual([0, []]);
  });

  test('read errors: a TRACE with failure_type, then a non-zero exit', async () => {
    sim = await simulator({ rows: 10 });
    const catalog = await jsonFile(configuredCatalog('incremental'));
    const unauthorized = await source([
      'read',
      '--config',
      await jsonFile(tapConfig(sim, { api_token: 'nope-nope' })),
      '--catalog',
      catalog,
    ]);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.messages.at(-1)).toMatchObject({
      type: 'TRACE',
      trace: { type: 'ERROR', error: { failure_type: 'config_error' } },
    });
    // A failed read never says COMPLETE: INCOMPLETE, then the error.
    expect(unauthorized.messages.map(streamStatus).filter(Boolean)).toEqual(['STARTED', 'INCOMPLETE']);
    expect(streamStatus(unauthorized.messages.at(-2) ?? {})).toBe('INCOMPLETE');
    const badState = await source([
      'read',
      '--config',
      await jsonFile(tapConfig(sim)),
      '--catalog',
      catalog,
      '--state',
      await jsonFile([{ type: 'STREAM', stream: { stream_descriptor: { name: 'transactions' }, stream_state: { sequence: -4 } } }]),
    ]);
    expect(badState.code).toBe(2);
    expect(badState.messages.at(-1)).toMatchObject({ type: 'TRACE', trace: { error: { failure_type: 'config_error' } } });
    const usage = await source(['sync']);
    expect(usage.code).toBe(2);

    // A base_url host that does not resolve is the user's to fix (DNS failed on demand: failDnsLookups).
    const restoreDns = failDnsLookups();
    try {
      const unresolved = await source([
        'read',
        '--config',
        await jsonFile(tapConfig(sim, { base_url: sim.url.replace('127.0.0.1', 'localhost') })),
        '--catalog',
        catalog,
      ]);
      expect(unresolved.code).toBe(1);
      expect(unresolved.messages.at(-1)).toMatchObject({ type: 'TRACE', trace: { error: { failure_type: 'config_error' } } });
    } finally {
      restoreDns();
    }
  });
});

afterAll(async () => {
  const { code, stdout } = await runProcess(PYTHON, ['test/airbyte/validate_messages.py'], { input: `${seen.join('\n')}\n` });
  const result = JSON.parse(stdout) as { valid: number; errors: string[] };
  if (code !== 0 || result.errors.length > 0) throw new Error(`invalid Airbyte messages: ${result.errors.slice(0, 3).join('; ')}`);
  if (result.valid !== seen.length) throw new Error(`validated ${result.valid} of ${seen.length} messages`);
});
