/**
 * `npm run bench`: the performance figures of docs/performance.md, each against a baseline run
 * in the same invocation. Everything runs as real processes over loopback: the simulator, the
 * tap, target-invoca with a DuckDB file, and the baselines (bench/baseline-*.ts).
 *
 *   node dist/bench/run.js [--tiers 100000,1000000] [--full] [--increment-base 10000] [--narrow-rows 100000] [--out bench]
 *
 * Per tier: the tap and its baseline to /dev/null (and, at the first tier, through a pipe to a
 * slow reader); `tap | target` into a DuckDB file with the stream copied to a file; then from that
 * file: target-invoca alone, DuckDB with read_ndjson_objects and the same merge, DuckDB's
 * read_json_auto into one table, and target-duckdb (a Python Singer target); then a run adding
 * 1,000 new rows, against the same on a 10k-row table (`--increment-base`).
 * A narrow tier: 100k rows of 25 fields under the full catalog, from the file, against
 * target-duckdb. The tap with personal data hashed against the tap without, on 100k rows. Then the backfill at 1, 2, 4 and 8 windows against the sequential cursor walk. `--full` adds a
 * 5M tier (memory and the incremental run; rates are measured up to 1M).
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSize } from '../src/load/memory-budget.js';
import { chart } from './chart.js';
import { figure, machine, table, type Figure } from './figures.js';
import {
  ACCOUNT,
  measure,
  measurePipeline,
  measurePython,
  startSimulator,
  TOKEN,
  type Measured,
  type SimulatorProcess,
} from './processes.js';

const TAP = 'dist/src/bin/tap-invoca.js';
const TARGET = 'dist/src/bin/target-invoca.js';
/** target-duckdb's venv, made by scripts/setup-tools.sh (`npm run bench` runs it). */
const TARGET_DUCKDB_PYTHON = '.venv-target-duckdb/bin/python';
const MEMORY_LIMIT = '1GB';
const BATCH_ROWS = 100_000;
const SLOW_READER_BYTES_PER_SECOND = 25e6;
/** Issue #24's budgets for target-invoca's peak RSS: 1 GB at the default memory_limit, and never above memory_limit + 512 MB. */
const RSS_BUDGET_MB = 1000;
const RSS_CEILING_MB = (parseSize(MEMORY_LIMIT) ?? 0) / 1e6 + 512;

interface Options {
  tiers: number[];
  /** The table size the incremental figures are compared with (10k). */
  incrementBase: number;
  /** The rows of the narrow tier (100k). */
  narrowRows: number;
  backfillDays: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const tiers = (value('--tiers') ?? (argv.includes('--full') ? '100000,1000000,5000000' : '100000,1000000')).split(',').map(Number);
  if (tiers.some((tier) => !Number.isInteger(tier) || tier < 1000))
    throw new Error('--tiers takes row counts of at least 1000, e.g. 100000,1000000');
  return {
    tiers,
    incrementBase: Number(value('--increment-base') ?? 10_000),
    narrowRows: Number(value('--narrow-rows') ?? 100_000),
    backfillDays: Number(value('--backfill-days') ?? 40),
    out: value('--out') ?? 'bench',
  };
}

const work = join(tmpdir(), `tap-invoca-bench-${process.pid}`);
const log = (message: string): void => {
  process.stderr.write(`bench: ${message}\n`);
};
const tierName = (rows: number): string => (rows >= 1e6 ? `${rows / 1e6}M` : `${rows / 1e3}k`);

function jsonFile(name: string, value: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

async function tier(rows: number, options: Options, figures: Figure[], memory: Map<string, Map<number, number>>): Promise<void> {
  const name = tierName(rows);
  const sim = await startSimulator({ rows, seed: 42 });
  const tapConfig = jsonFile(`tap-${name}.json`, {
    api_token: TOKEN,
    account_id: ACCOUNT,
    base_url: sim.url,
    min_poll_interval_seconds: 0,
  });
  const served = async <T>(run: () => Promise<T>): Promise<{ result: T; bytes: number }> => {
    const before = (await sim.stats()).bytesServed;
    const result = await run();
    return { result, bytes: (await sim.stats()).bytesServed - before };
  };
  const remember = (program: string, peak: number): void => {
    if (!memory.has(program)) memory.set(program, new Map());
    memory.get(program)?.set(rows, peak);
  };
  try {
    const first = rows === options.tiers[0];
    const fullRates = rows <= 1_000_000;
    if (fullRates) {
      log(`${name}: tap and baseline to /dev/null`);
      const base = await served(() => measure('dist/bench/baseline-tap.js', [sim.url, TOKEN, ACCOUNT], { stdout: { kind: 'null' } }));
      const tap = await served(() => measure(TAP, ['--config', tapConfig], { stdout: { kind: 'null' } }));
      remember('tap-invoca', tap.result.peakRssMb);
      for (const [unit, of] of [
        ['records/s', (_: { bytes: number }, run: Measured) => rows / run.seconds],
        ['MB/s', (item: { bytes: number }, run: Measured) => item.bytes / 1e6 / run.seconds],
      ] as const) {
        const value = of(tap, tap.result);
        const baseline = of(base, base.result);
        figures.push(
          figure({
            group: 'tap',
            label: `${name} to /dev/null, ${unit}`,
            value,
            baseline,
            unit,
            baselineLabel: 'request+parse+write loop',
            ratio: value / baseline,
            ratioLabel: 'of baseline',
            ...(unit === 'records/s' ? { target: { atLeast: 0.8 } } : {}),
            detail: `tap peak RSS ${tap.result.peakRssMb.toFixed(0)} MB, baseline ${base.result.peakRssMb.toFixed(0)} MB`,
          }),
        );
      }
      if (first) {
        log(`${name}: tap and baseline through a pipe to a reader of ${SLOW_READER_BYTES_PER_SECOND / 1e6} MB/s`);
        const slow = { kind: 'slow', bytesPerSecond: SLOW_READER_BYTES_PER_SECOND } as const;
        const baseSlow = await measure('dist/bench/baseline-tap.js', [sim.url, TOKEN, ACCOUNT], { stdout: slow });
        const tapSlow = await measure(TAP, ['--config', tapConfig], { stdout: slow });
        figures.push(
          figure({
            group: 'tap',
            label: `${name} to a slow reader, records/s`,
            value: rows / tapSlow.seconds,
            baseline: rows / baseSlow.seconds,
            unit: 'records/s',
            baselineLabel: 'same loop, same reader',
            ratio: baseSlow.seconds / tapSlow.seconds,
            ratioLabel: 'of baseline',
            target: { atLeast: 0.8 },
            detail: `peak RSS ${tapSlow.peakRssMb.toFixed(0)} MB (to /dev/null: ${memory.get('tap-invoca')?.get(rows)?.toFixed(0)} MB)`,
          }),
        );
      }
    } else {
      log(`${name}: tap to /dev/null (memory)`);
      const tap = await measure(TAP, ['--config', tapConfig], { stdout: { kind: 'null' } });
      remember('tap-invoca', tap.peakRssMb);
    }

    const database = join(work, `target-${name}.duckdb`);
    const loaderConfig = jsonFile(`loader-${name}.json`, {
      duckdb: { path: database, memory_limit: MEMORY_LIMIT },
      batch_size_rows: BATCH_ROWS,
    });
    const singer = fullRates ? join(work, `singer-${name}.jsonl`) : undefined;
    log(`${name}: tap-invoca | target-invoca${singer ? ' (the stream copied to a file for the baseline)' : ''}`);
    const loaded = await measurePipeline(['--config', tapConfig], ['--config', loaderConfig], singer);
    remember('target-invoca (DuckDB)', loaded.targetPeakRssMb);
    const previous = loadTimes.at(-1);
    loadTimes.push({ rows, seconds: loaded.seconds });
    if (previous) {
      const growth = rows / previous.rows;
      figures.push(
        figure({
          group: 'loader',
          label: `${name} tap | target vs ${tierName(previous.rows)}, seconds`,
          value: loaded.seconds,
          baseline: previous.seconds,
          unit: 's',
          baselineLabel: `the same at ${tierName(previous.rows)} (${growth}x fewer rows)`,
          ratio: loaded.seconds / previous.seconds,
          ratioLabel: 'x its time',
          target: { atMost: growth * 1.1 },
        }),
      );
    }
    if (singer) {
      log(`${name}: target-invoca alone, from that file`);
      const fromFileDatabase = join(work, `from-file-${name}.duckdb`);
      const fromFile = await measure(
        TARGET,
        [
          '--config',
          jsonFile(`loader-file-${name}.json`, {
            duckdb: { path: fromFileDatabase, memory_limit: MEMORY_LIMIT },
            batch_size_rows: BATCH_ROWS,
          }),
        ],
        { stdin: singer, stdout: { kind: 'null' } },
      );
      const ourFileMb = statSync(fromFileDatabase).size / 1e6;
      log(`${name}: the DuckDB baselines load the same file`);
      const baselineDatabase = join(work, `baseline-${name}.duckdb`);
      const baseline = await measure('dist/bench/baseline-loader.js', [singer, baselineDatabase, String(BATCH_ROWS), MEMORY_LIMIT], {
        stdout: { kind: 'null' },
      });
      const readJsonDatabase = join(work, `read-json-${name}.duckdb`);
      const readJson = await measure('dist/bench/baseline-read-json.js', [singer, readJsonDatabase], { stdout: { kind: 'null' } });
      log(`${name}: target-duckdb (a Python Singer target, one table, no merge) loads the same file`);
      const targetDuckdbDatabase = join(work, `target-duckdb-${name}.duckdb`);
      const targetDuckdb = await measurePython(
        TARGET_DUCKDB_PYTHON,
        'target_duckdb',
        ['--config', jsonFile(`target-duckdb-${name}.json`, { filepath: targetDuckdbDatabase, default_target_schema: 'raw' })],
        { stdin: singer, stdout: { kind: 'null' } },
      );
      const theirFileMb = statSync(targetDuckdbDatabase).size / 1e6;
      for (const path of [fromFileDatabase, baselineDatabase, readJsonDatabase, targetDuckdbDatabase, singer])
        rmSync(path, { force: true });
      figures.push(
        figure({
          group: 'loader',
          label: `${name} into DuckDB (load + merge), rows/s`,
          value: rows / loaded.seconds,
          baseline: rows / baseline.seconds,
          unit: 'rows/s',
          baselineLabel: 'DuckDB read_ndjson_objects + same merge',
          ratio: baseline.seconds / loaded.seconds,
          ratioLabel: 'of baseline',
          target: { atLeast: 0.7 },
          detail: `tap | target; target peak RSS ${loaded.targetPeakRssMb.toFixed(0)} MB, memory_limit ${MEMORY_LIMIT}`,
        }),
        figure({
          group: 'loader',
          label: `${name} from the file into DuckDB, seconds`,
          value: fromFile.seconds,
          baseline: readJson.seconds,
          unit: 's',
          baselineLabel: 'DuckDB read_json_auto into one table',
          ratio: fromFile.seconds / readJson.seconds,
          ratioLabel: 'x its time',
          target: { atMost: 3 },
          detail: `target-invoca peak RSS ${fromFile.peakRssMb.toFixed(0)} MB, read_json_auto ${readJson.peakRssMb.toFixed(0)} MB`,
        }),
        versusTargetDuckdb(
          `${name} from the file`,
          fromFile,
          targetDuckdb,
          3,
          `target-duckdb peak RSS ${targetDuckdb.peakRssMb.toFixed(0)} MB`,
        ),
        figure({
          group: 'loader',
          label: `${name} from the file, target-invoca peak RSS, MB`,
          value: fromFile.peakRssMb,
          baseline: readJson.peakRssMb,
          unit: 'MB',
          baselineLabel: 'DuckDB read_json_auto into one table',
          ratio: fromFile.peakRssMb / readJson.peakRssMb,
          ratioLabel: 'x its peak',
          detail:
            `budget ${RSS_BUDGET_MB} MB: ${fromFile.peakRssMb <= RSS_BUDGET_MB ? 'met' : 'MISSED'}; ` +
            `memory_limit + 512 MB (${RSS_CEILING_MB} MB): ${fromFile.peakRssMb <= RSS_CEILING_MB ? 'met' : 'MISSED'}; target-duckdb ${targetDuckdb.peakRssMb.toFixed(0)} MB`,
        }),
        figure({
          group: 'loader',
          label: `${name} DuckDB file size, MB`,
          value: ourFileMb,
          baseline: theirFileMb,
          unit: 'MB',
          baselineLabel: "target-duckdb's file",
          ratio: ourFileMb / theirFileMb,
          ratioLabel: 'x theirs',
          target: { atMost: 1.5 },
        }),
      );
    }

    const added = await increment(sim, tapConfig, database, loaded.states.at(-1), name);
    incrementalBaseline ??= await incrementOnSmallTable(options.incrementBase);
    figures.push(
      figure({
        group: 'incremental',
        label: `+${INCREMENT_ROWS} rows on ${name}, seconds`,
        value: added.seconds,
        baseline: incrementalBaseline.seconds,
        unit: 's',
        baselineLabel: `+${INCREMENT_ROWS} rows on ${tierName(options.incrementBase)}`,
        ratio: added.seconds / incrementalBaseline.seconds,
        ratioLabel: 'x',
        target: { atMost: 1.5 },
        detail: `median of ${INCREMENT_RUNS} runs; the same rows into an empty file ${added.emptySeconds.toFixed(2)} s; database ${added.databaseMb.toFixed(0)} MB`,
      }),
    );
    rmSync(database, { force: true });
  } finally {
    await sim.stop();
  }
}

/** The tap | target time of each tier so far, for the growth figure. */
const loadTimes: { rows: number; seconds: number }[] = [];

/** The cost of a five-minute poll: a batch of 1,000 new rows (some correcting older calls). */
const INCREMENT_ROWS = 1000;
const INCREMENT_RUNS = 3;
let incrementalBaseline: Incremental | undefined;

interface Incremental {
  seconds: number;
  emptySeconds: number;
  databaseMb: number;
}

/**
 * +INCREMENT_ROWS rows into `database` (loaded from `sim`, whose last state is `state`): the
 * median of INCREMENT_RUNS runs, each on a fresh copy of the file, and the same rows into an
 * empty file.
 */
async function increment(
  sim: SimulatorProcess,
  tapConfig: string,
  database: string,
  state: string | undefined,
  name: string,
): Promise<Incremental> {
  log(`${name}: +${INCREMENT_ROWS} rows, ${INCREMENT_RUNS} runs`);
  await sim.append(INCREMENT_ROWS);
  const rows = join(work, `increment-${name}.jsonl`);
  await measure(TAP, ['--config', tapConfig, '--state', jsonFile(`state-${name}.json`, JSON.parse(state ?? '{}'))], {
    stdout: { kind: 'file', path: rows },
  });
  const copy = join(work, `increment-${name}.duckdb`);
  const config = jsonFile(`loader-increment-${name}.json`, { duckdb: { path: copy, memory_limit: MEMORY_LIMIT } });
  const seconds: number[] = [];
  for (let run = 0; run < INCREMENT_RUNS; run++) {
    copyFileSync(database, copy);
    // On disk before the run: otherwise the loader's first commit (an fsync of its WAL) pays for
    // writing back the whole copy, ~0.2 s at 1M rows, which is the bench's cost, not the loader's.
    const descriptor = openSync(copy, 'r+');
    fsyncSync(descriptor);
    closeSync(descriptor);
    seconds.push((await measure(TARGET, ['--config', config], { stdin: rows, stdout: { kind: 'null' } })).seconds);
  }
  rmSync(copy, { force: true });
  const fresh = await measure(TARGET, ['--config', config], { stdin: rows, stdout: { kind: 'null' } });
  const databaseMb = statSync(database).size / 1e6;
  for (const path of [copy, rows]) rmSync(path, { force: true });
  return { seconds: seconds.sort((a, b) => a - b)[Math.floor(INCREMENT_RUNS / 2)] ?? Number.NaN, emptySeconds: fresh.seconds, databaseMb };
}

/** The incremental baseline: the same +INCREMENT_ROWS on a smaller table. */
async function incrementOnSmallTable(rows: number): Promise<Incremental> {
  const name = tierName(rows);
  const sim = await startSimulator({ rows, seed: 42 });
  try {
    const tapConfig = jsonFile(`tap-${name}.json`, {
      api_token: TOKEN,
      account_id: ACCOUNT,
      base_url: sim.url,
      min_poll_interval_seconds: 0,
    });
    const database = join(work, `target-${name}.duckdb`);
    log(`${name}: tap-invoca | target-invoca (the table for the incremental baseline)`);
    const loaded = await measurePipeline(
      ['--config', tapConfig],
      [
        '--config',
        jsonFile(`loader-${name}.json`, { duckdb: { path: database, memory_limit: MEMORY_LIMIT }, batch_size_rows: BATCH_ROWS }),
      ],
    );
    const result = await increment(sim, tapConfig, database, loaded.states.at(-1), name);
    rmSync(database, { force: true });
    return result;
  } finally {
    await sim.stop();
  }
}

/** target-invoca against target-duckdb on the same Singer file: how many times faster. */
function versusTargetDuckdb(label: string, ours: Measured, theirs: Measured, atLeast: number, detail: string): Figure {
  return figure({
    group: 'loader',
    label: `${label}, vs target-duckdb, seconds`,
    value: ours.seconds,
    baseline: theirs.seconds,
    unit: 's',
    baselineLabel: 'target-duckdb 0.8.0 (no merge)',
    ratio: theirs.seconds / ours.seconds,
    ratioLabel: 'x faster',
    target: { atLeast },
    detail,
  });
}

/**
 * The narrow feed: records of 25 fields (simulator --narrow) under the full catalog, as an account
 * that fills few columns sends them, from the Singer file into DuckDB against target-duckdb.
 */
async function narrowTier(rows: number, figures: Figure[]): Promise<void> {
  const name = `${tierName(rows)} narrow`;
  const sim = await startSimulator({ rows, seed: 42, narrow: 'true' });
  try {
    const tapConfig = jsonFile('tap-narrow.json', {
      api_token: TOKEN,
      account_id: ACCOUNT,
      base_url: sim.url,
      min_poll_interval_seconds: 0,
    });
    const singer = join(work, 'singer-narrow.jsonl');
    log(`${name}: tap to a file`);
    await measure(TAP, ['--config', tapConfig], { stdout: { kind: 'file', path: singer } });
    log(`${name}: target-invoca and target-duckdb from that file`);
    const ours = join(work, 'narrow.duckdb');
    const fromFile = await measure(
      TARGET,
      ['--config', jsonFile('loader-narrow.json', { duckdb: { path: ours, memory_limit: MEMORY_LIMIT }, batch_size_rows: BATCH_ROWS })],
      { stdin: singer, stdout: { kind: 'null' } },
    );
    const theirs = join(work, 'target-duckdb-narrow.duckdb');
    const targetDuckdb = await measurePython(
      TARGET_DUCKDB_PYTHON,
      'target_duckdb',
      ['--config', jsonFile('target-duckdb-narrow.json', { filepath: theirs, default_target_schema: 'raw' })],
      { stdin: singer, stdout: { kind: 'null' } },
    );
    figures.push(
      versusTargetDuckdb(
        `${name} (25 fields) from the file`,
        fromFile,
        targetDuckdb,
        2,
        `target-invoca peak RSS ${fromFile.peakRssMb.toFixed(0)} MB, target-duckdb ${targetDuckdb.peakRssMb.toFixed(0)} MB`,
      ),
    );
    for (const path of [singer, ours, theirs]) rmSync(path, { force: true });
  } finally {
    await sim.stop();
  }
}

/**
 * The tap with the caller's personal data hashed (`$invoca_personal_columns`) against the same
 * tap without it, on the simulator's feed with personal data (--personal), to /dev/null: the
 * median of three runs each, alternated.
 */
async function hashingTier(rows: number, figures: Figure[]): Promise<void> {
  const sim = await startSimulator({ rows, seed: 42, personal: 'true' });
  try {
    const base = { api_token: TOKEN, account_id: ACCOUNT, base_url: sim.url, min_poll_interval_seconds: 0 };
    const plain = jsonFile('tap-personal.json', base);
    const hashed = jsonFile('tap-hashed.json', {
      ...base,
      hash_columns: ['$invoca_personal_columns'],
      hash_key: 'bench-hash-key-0123456789abcdef0123456789',
    });
    log(`${tierName(rows)} personal: the tap with and without hash_columns, 3 runs each`);
    const seconds: Record<'plain' | 'hashed', number[]> = { plain: [], hashed: [] };
    for (let run = 0; run < 3; run++) {
      seconds.plain.push((await measure(TAP, ['--config', plain], { stdout: { kind: 'null' } })).seconds);
      seconds.hashed.push((await measure(TAP, ['--config', hashed], { stdout: { kind: 'null' } })).seconds);
    }
    const median = (list: number[]): number => [...list].sort((a, b) => a - b)[1] ?? Number.NaN;
    figures.push(
      figure({
        group: 'tap',
        label: `${tierName(rows)} with $invoca_personal_columns hashed, to /dev/null, seconds`,
        value: median(seconds.hashed),
        baseline: median(seconds.plain),
        unit: 's',
        baselineLabel: 'the same tap and feed, nothing hashed',
        ratio: median(seconds.hashed) / median(seconds.plain),
        ratioLabel: 'x its time',
        target: { atMost: 1.2 },
        detail: 'median of 3 runs each; the feed carries 18 personal fields per row',
      }),
    );
  } finally {
    await sim.stop();
  }
}

async function backfill(options: Options, figures: Figure[]): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const days = options.backfillDays;
  const rowsPerDay = 1000;
  const startMs = Date.parse(`${today}T12:00:00Z`) - (days - 1) * 86_400_000;
  const sim = await startSimulator({
    rows: days * rowsPerDay,
    'rows-per-day': rowsPerDay,
    'start-date': new Date(startMs).toISOString().slice(0, 10),
    'latency-ms': 200,
    seed: 9,
  });
  const startDate = new Date(Date.parse(`${today}T00:00:00Z`) - Math.round(days * 0.75) * 86_400_000).toISOString().slice(0, 10);
  try {
    const run = async (concurrency: number | undefined): Promise<Measured> => {
      const config = jsonFile(`backfill-${concurrency ?? 0}.json`, {
        api_token: TOKEN,
        account_id: ACCOUNT,
        base_url: sim.url,
        start_date: startDate,
        page_size: 1000,
        ...(concurrency ? { backfill_concurrency: concurrency } : {}),
      });
      return measure(TAP, ['--config', config], { stdout: { kind: 'null' } });
    };
    log(`backfill: ${days} days of ${rowsPerDay} calls, start_date ${startDate}, 200 ms per request, page_size 1000`);
    const sequential = await run(undefined);
    for (const concurrency of [1, 2, 4, 8]) {
      const parallel = await run(concurrency);
      figures.push(
        figure({
          group: 'backfill',
          label: `${concurrency} window${concurrency > 1 ? 's' : ''} in parallel, seconds`,
          value: parallel.seconds,
          baseline: sequential.seconds,
          unit: 's',
          baselineLabel: 'sequential cursor walk',
          ratio: sequential.seconds / parallel.seconds,
          ratioLabel: 'x faster',
        }),
      );
    }
  } finally {
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  mkdirSync(work, { recursive: true });
  const started = performance.now();
  const figures: Figure[] = [];
  const memory = new Map<string, Map<number, number>>();
  try {
    for (const rows of options.tiers) await tier(rows, options, figures, memory);
    const smallest = options.tiers[0] ?? 0;
    for (const [program, peaks] of memory) {
      const base = peaks.get(smallest);
      if (base === undefined) continue;
      for (const [rows, peak] of peaks) {
        if (rows === smallest) continue;
        figures.push(
          figure({
            group: 'memory',
            label: `${program} peak RSS at ${tierName(rows)}`,
            value: peak,
            baseline: base,
            unit: 'MB',
            baselineLabel: `peak at ${tierName(smallest)}`,
            ratio: peak / base,
            ratioLabel: 'x',
            target: { atMost: 1.2 },
          }),
        );
      }
    }
    await narrowTier(options.narrowRows, figures);
    await hashingTier(options.narrowRows, figures);
    await backfill(options, figures);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const results = { date: new Date().toISOString(), machine: machine(), tiers: options.tiers, seconds: Math.round(seconds), figures };
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(
    join(options.out, 'chart.svg'),
    chart(figures, `tap-invoca benchmarks (${results.machine['cpus']} cores), ratio to the baseline of the same run`),
  );
  process.stdout.write(
    `${table(figures)}\n\nmachine: ${JSON.stringify(results.machine)}\nwrote ${join(options.out, 'results.json')} and chart.svg in ${seconds.toFixed(0)} s\n`,
  );
}

await main();
