/**
 * Operating it: `tap-invoca --follow | target-invoca` as real processes over the simulator, each
 * serving /metrics and /healthz (metrics_port). The counters follow what the simulator served and
 * the target committed; /healthz turns 503 once polls have failed for longer than
 * health_max_age_seconds, and 200 again after the simulator recovers. Every wait is on an event
 * (a line, an answer of the endpoint).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, test } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { lineWatcher } from '../helpers/lines.js';
import { freePort } from '../helpers/ports.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, parseLines, tapConfig, tempDir } from '../helpers/tap.js';

let sim: RunningSimulator | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sim?.close();
  sim = undefined;
});

/** The samples of a Prometheus text exposition: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    found.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return found;
}

async function scrape(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return samples(await response.text());
}

async function health(port: number): Promise<{ status: number; body: { status: string; reason: string } }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason: string } };
}

/** Asks `/healthz` again, each time as soon as the last answer came, until it answers `status`. */
async function healthTurns(port: number, status: number): Promise<{ status: string; reason: string }> {
  for (;;) {
    const answer = await health(port);
    if (answer.status === status) return answer.body;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('tap-invoca --follow | target-invoca serve /metrics that follow the feed and /healthz that turns 503 while Invoca fails, and 200 after', async () => {
  sim = await simulator({ rows: 300, seed: 5 });
  const directory = await tempDir();
  const [tapPort, targetPort] = [await freePort(), await freePort()];
  const tap = spawn(process.execPath, [
    'dist/src/bin/tap-invoca.js',
    '--config',
    await jsonFile(tapConfig(sim, { min_poll_interval_seconds: 1, max_retries: 0, metrics_port: tapPort, health_max_age_seconds: 2 })),
    '--follow',
  ]);
  const target = spawn(process.execPath, [
    'dist/src/bin/target-invoca.js',
    '--config',
    await jsonFile({ duckdb: { path: join(directory, 'metrics.duckdb') }, batch_max_seconds: 0.3, metrics_port: targetPort }),
  ]);
  children.push(tap, target);
  const records: string[] = [];
  tap.stdout.on('data', (chunk: Buffer) => records.push(chunk.toString()));
  tap.stdout.pipe(target.stdin);
  const exits = Promise.all([once(tap, 'exit'), once(target, 'exit')]);
  const anyExit = Promise.race([once(tap, 'exit'), once(target, 'exit')]);
  const tapLog = lineWatcher(tap.stderr, anyExit);
  const targetLog = lineWatcher(target.stderr, anyExit);
  await tapLog.until(/^INFO poll 1: 300 rows/);
  await targetLog.until(/^INFO batch 1: 300 rows staged/);

  // The tap's counters are the records it wrote, by type; its gauges the newest call and the last poll.
  const delivered = parseLines(records.join('')).flatMap((message) =>
    message['type'] === 'RECORD' ? [message['record'] as Record<string, unknown>] : [],
  );
  expect(delivered).toHaveLength(300);
  const tapMetrics = await scrape(tapPort);
  const byType = new Map<string, number>();
  for (const record of delivered) byType.set(String(record['transaction_type']), (byType.get(String(record['transaction_type'])) ?? 0) + 1);
  for (const [type, count] of byType)
    expect([type, tapMetrics.get(`tap_invoca_rows_total{transaction_type="${type}"}`)]).toEqual([type, count]);
  const corrections = delivered.filter(
    (record) => typeof record['corrects_transaction_id'] === 'string' && record['corrects_transaction_id'] !== '',
  );
  expect(corrections.length).toBeGreaterThan(10);
  expect(tapMetrics.get('tap_invoca_corrections_total')).toBe(corrections.length);
  expect(tapMetrics.get('tap_invoca_polls_total{result="ok"}')).toBeGreaterThanOrEqual(1);
  expect(tapMetrics.get('tap_invoca_request_duration_seconds_count{outcome="200"}')).toBeGreaterThanOrEqual(1);
  const newest = Math.max(...delivered.map((record) => Date.parse(String(record['start_time']))));
  expect(tapMetrics.get('tap_invoca_newest_call_start_timestamp_seconds')).toBe(newest / 1000);
  expect(tapMetrics.get('tap_invoca_last_successful_poll_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  expect(tapMetrics.has('process_resident_memory_bytes')).toBe(true);
  expect((await health(tapPort)).status).toBe(200);

  // The target's: the batch committed, its rows per table, no row waiting.
  const targetMetrics = await scrape(targetPort);
  expect(targetMetrics.get('target_invoca_batches_total{result="committed"}')).toBeGreaterThanOrEqual(1);
  expect(targetMetrics.get('target_invoca_rows_staged_total')).toBe(300);
  expect(targetMetrics.get('target_invoca_rows_merged_total{table="transactions"}')).toBe(300);
  expect(targetMetrics.get('target_invoca_rows_merged_total{table="transactions_current"}')).toBe(300 - corrections.length);
  expect(targetMetrics.get('target_invoca_rows_pending')).toBe(0);
  expect(targetMetrics.get('target_invoca_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(await health(targetPort)).toEqual({
    status: 200,
    body: { status: 'ok', reason: expect.stringMatching(/^the last commit was \d+ s ago$/) },
  });

  // Invoca fails every request: once no poll has succeeded for 2 s, /healthz says why.
  sim.setFaults([{ kind: 'status', status: 503, times: 100000 }]);
  const down = await healthTurns(tapPort, 503);
  expect(down).toEqual({
    status: 'unhealthy',
    reason: expect.stringMatching(
      /^the last successful page or poll was \d+ s ago, more than health_max_age_seconds \(2\); the last error: Invoca answered HTTP 503/,
    ),
  });
  expect(JSON.stringify(down)).not.toContain('tok_');
  expect((await scrape(tapPort)).get('tap_invoca_polls_total{result="failed"}')).toBeGreaterThanOrEqual(1);
  expect((await scrape(tapPort)).get('tap_invoca_retries_total{reason="503"}') ?? 0).toBe(0);
  // Invoca recovers: the next poll succeeds and the check is healthy again.
  sim.setFaults([]);
  expect(await healthTurns(tapPort, 200)).toEqual({
    status: 'ok',
    reason: expect.stringMatching(/^the last successful page or poll was \d+ s ago$/),
  });

  // Every metric the shipped alert rules name is one these two processes serve.
  const served = new Set([...(await scrape(tapPort)).keys(), ...(await scrape(targetPort)).keys()].map((sample) => sample.split('{')[0]));
  const rules = await readFile('ops/prometheus-alerts.yml', 'utf8');
  const expressions = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((match) => match[1] ?? '');
  expect(expressions.length).toBeGreaterThanOrEqual(8);
  const named = new Set(expressions.flatMap((expr) => [...expr.matchAll(/\b(?:tap|target)_invoca_\w+/g)].map((match) => match[0])));
  expect([...named].filter((name) => !served.has(name))).toEqual([]);

  tap.kill('SIGTERM');
  await exits;
}, 120_000);

test('a metrics_port already in use is one line naming the setting, exit 2', async () => {
  sim = await simulator({ rows: 10 });
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
  const { port } = busy.address() as { port: number };
  try {
    const tap = spawn(process.execPath, [
      'dist/src/bin/tap-invoca.js',
      '--config',
      await jsonFile(tapConfig(sim, { metrics_port: port })),
      '--follow',
    ]);
    children.push(tap);
    const stderr: string[] = [];
    tap.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const [code] = (await once(tap, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(
      stderr
        .join('')
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('CRITICAL')),
    ).toEqual([`CRITICAL tap-invoca: config field 'metrics_port': cannot serve on port ${port} (EADDRINUSE) [ERR_CONFIG]`]);
  } finally {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  }
});
