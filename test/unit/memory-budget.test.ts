import { describe, expect, test } from '@jest/globals';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { memoryBudget, memoryLimitProblem, parseSize, poolBytesOfRow } from '../../src/load/memory-budget.js';

describe('duckdb.memory_limit', () => {
  test.each([
    ['1GB', 1e9],
    ['512MB', 512e6],
    ['1.5GB', 1.5e9],
    ['512 MiB', 512 * 1024 ** 2],
    ['2GiB', 2 * 1024 ** 3],
    ['300000KB', 300e6],
    ['1TB', 1e12],
    ['1gb', 1e9],
  ])('%s is %d bytes, as DuckDB reads it', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(['lots', '1G', 'GB', '1.2.3GB', '-1GB', '1 GB x', '', '1e9B', '1PB'])('%j is not a size', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  test('the default gives DuckDB 600 MB, a batch ~46,600 of the bench rows (185 columns, 1.8 KB of text each)', () => {
    const budget = memoryBudget(1e9);
    expect(budget.poolBytes).toBe(600e6);
    expect(Math.floor(budget.batchBytes / poolBytesOfRow(185, 1_800))).toBe(46_569);
    // Larger records, or more columns: fewer rows.
    expect(Math.floor(budget.batchBytes / poolBytesOfRow(185, 5_000))).toBe(20_607);
    expect(Math.floor(budget.batchBytes / poolBytesOfRow(400, 1_800))).toBe(34_789);
  });

  test('the budget grows with the limit; the least limit leaves room for a batch', () => {
    const least = memoryBudget(400e6);
    const large = memoryBudget(4e9);
    expect(least.poolBytes).toBe(240e6);
    expect(least.batchBytes).toBe(90e6);
    expect(large.batchBytes / least.batchBytes).toBeGreaterThan(20);
  });

  test.each([
    ['lots', /^config field 'duckdb.memory_limit' must be a size such as 1GB or 512MB$/],
    ['100MB', /^config field 'duckdb.memory_limit' is below 400MB, the least the target process \(Node and DuckDB\) needs; raise it$/],
    ['399MB', /is below 400MB/],
    ['400MB', undefined],
  ])('%s: %p', (text, problem) => {
    const found = memoryLimitProblem(text);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  test('the config is refused when the limit is too small for the process, before anything opens', () => {
    expect(() => parseLoaderConfig({ duckdb: { memory_limit: '128MB' } })).toThrow(/duckdb.memory_limit' is below 400MB/);
    expect(() => parseLoaderConfig({ duckdb: { memory_limit: '1.2.3GB' } })).toThrow(/duckdb.memory_limit/);
    expect(parseLoaderConfig({}).config.duckdb?.memory_limit).toBe('1GB');
    // As DuckDB reads it, in any case.
    expect(parseLoaderConfig({ duckdb: { memory_limit: '2gib' } }).config.duckdb?.memory_limit).toBe('2gib');
    // Another engine's config does not read the DuckDB block.
    expect(() =>
      parseLoaderConfig({ engine: 'bigquery', bigquery: { project_id: 'p', dataset: 'd' }, duckdb: { memory_limit: '1MB' } }),
    ).not.toThrow();
  });
});
