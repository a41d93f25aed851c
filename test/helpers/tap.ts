import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { run } from '../../src/cli/tap.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { TEST_ACCOUNT, TEST_TOKEN } from './simulator.js';

export interface TapOutput {
  code: number;
  stdout: string;
  messages: Record<string, unknown>[];
  records: Record<string, unknown>[];
  states: Record<string, unknown>[];
  stderr: string[];
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tap-invoca-test-'));
}

/** Writes `value` as JSON into a fresh temp file and returns its path. */
export async function jsonFile(value: unknown, name = 'file.json'): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

export function tapConfig(sim: RunningSimulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    api_token: TEST_TOKEN,
    account_id: TEST_ACCOUNT,
    base_url: sim.url,
    max_retries: 2,
    retry_initial_delay_seconds: 0.01,
    // Tests run the tap again at once; the polling floor has tests of its own (poll.test.ts).
    min_poll_interval_seconds: 0,
    ...extra,
  };
}

/** Runs `tap-invoca` in-process (the same `run` the bin calls) and parses what it wrote. */
export async function runTap(args: string[], options: { signal?: AbortSignal; stdout?: Writable } = {}): Promise<TapOutput> {
  const chunks: string[] = [];
  const stdout =
    options.stdout ??
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
  const stderr: string[] = [];
  const code = await run(args, { stdout, stderr: (line) => stderr.push(line), ...(options.signal ? { signal: options.signal } : {}) });
  const text = chunks.join('');
  const messages = parseLines(text);
  return {
    code,
    stdout: text,
    messages,
    records: messages.filter((message) => message['type'] === 'RECORD').map((message) => message['record'] as Record<string, unknown>),
    states: messages.filter((message) => message['type'] === 'STATE').map((message) => message['value'] as Record<string, unknown>),
    stderr,
  };
}

export function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export function lastState(output: Pick<TapOutput, 'states'>): Record<string, unknown> {
  const state = output.states.at(-1);
  if (!state) throw new Error('the tap emitted no STATE');
  return state;
}

export function bookmarkOf(state: Record<string, unknown>): { replication_key_value?: string; sequence?: number } {
  return (state['bookmarks'] as Record<string, Record<string, never>>)['transactions'] ?? {};
}

/** The tap's SCHEMA (the last one) and RECORDs for a simulated feed: real tap output for loader tests. */
export async function simulatedFeed(
  rows: number,
  seed: number,
): Promise<{ schema: Record<string, unknown>; records: Record<string, unknown>[] }> {
  const { simulator } = await import('./simulator.js');
  const sim = await simulator({ rows, seed });
  try {
    const output = await runTap(['--config', await jsonFile(tapConfig(sim))]);
    const schemas = output.messages.filter((message) => message['type'] === 'SCHEMA');
    return { schema: schemas.at(-1)?.['schema'] as Record<string, unknown>, records: output.records };
  } finally {
    await sim.close();
  }
}
