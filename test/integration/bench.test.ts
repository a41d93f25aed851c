/**
 * `npm run bench` on tiny tiers: the harness runs end to end (simulator, tap, target, every
 * baseline, backfill) and writes every group of figures with a baseline and a ratio. The real
 * figures come from `npm run bench` (docs/performance.md); nothing here asserts a speed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import type { Figure } from '../../bench/figures.js';
import { tempDir } from '../helpers/tap.js';
import { runProcess } from '../helpers/tools.js';

test('the benchmark harness writes results.json and chart.svg with every group, each figure with its baseline', async () => {
  const out = await tempDir();
  const result = await runProcess(process.execPath, [
    'dist/bench/run.js',
    '--tiers',
    '2000,4000',
    '--backfill-days',
    '4',
    '--increment-base',
    '1000',
    '--narrow-rows',
    '2000',
    '--out',
    out,
  ]);
  expect(result.code).toBe(0);
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { figures: Figure[]; machine: Record<string, unknown> };
  expect(new Set(results.figures.map((item) => item.group))).toEqual(new Set(['tap', 'loader', 'memory', 'incremental', 'backfill']));
  for (const item of results.figures) {
    expect(item.baseline).toBeGreaterThan(0);
    expect(item.ratio).toBeGreaterThan(0);
  }
  expect(results.figures.filter((item) => item.group === 'backfill').map((item) => item.label)).toHaveLength(4);
  // The loader against DuckDB's own merge, DuckDB's read_json_auto and target-duckdb, per tier.
  const loaderBaselines = results.figures.filter((item) => item.group === 'loader').map((item) => item.baselineLabel);
  for (const [label, count] of [
    ['DuckDB read_ndjson_objects + same merge', 2],
    ['DuckDB read_json_auto into one table', 4],
    // Two tiers and the narrow feed.
    ['target-duckdb 0.8.0 (no merge)', 3],
    ['the same at 2k (2x fewer rows)', 1],
    ["target-duckdb's file", 2],
  ] as const) {
    expect(loaderBaselines.filter((baseline) => baseline === label)).toHaveLength(count);
  }
  // +1,000 rows on each tier against the same on the small table.
  expect(results.figures.filter((item) => item.group === 'incremental').map((item) => item.baselineLabel)).toEqual([
    '+1000 rows on 1k',
    '+1000 rows on 1k',
  ]);
  expect(results.machine['cpus']).toBeGreaterThan(0);
  expect(await readFile(join(out, 'chart.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  expect(result.stdout).toMatch(/baseline \(same run\)/);
}, 180_000);
