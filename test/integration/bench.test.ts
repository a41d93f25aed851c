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
  const result = await runProcess(process.execPath, ['dist/bench/run.js', '--tiers', '2000,4000', '--backfill-days', '4', '--out', out]);
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
  for (const label of ['DuckDB read_ndjson_objects + same merge', 'DuckDB read_json_auto into one table', 'target-duckdb 0.8.0 (no merge)', "target-duckdb's file"]) {
    expect(loaderBaselines.filter((baseline) => baseline === label)).toHaveLength(2);
  }
  expect(results.machine['cpus']).toBeGreaterThan(0);
  expect(await readFile(join(out, 'chart.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  expect(result.stdout).toMatch(/baseline \(same run\)/);
}, 180_000);
