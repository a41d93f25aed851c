/**
 * `target-invoca check`: on the user's own warehouse, with their own role, before the first real
 * batch: who we are and where we write, whether each operation the loader needs is allowed, the
 * loader's own batch code on a synthetic feed into scratch tables compared with the model's
 * expectation, what its statements cost, and everything it created dropped again.
 */
import { Loader } from '../load/loader.js';
import { HISTORY_VIEW, TABLES } from '../load/plan.js';
import type { StatementCost, Warehouse, WarehouseIdentity } from '../load/warehouse.js';
import type { Logger } from '../log.js';
import { type Expected, MergeOracle } from './expected.js';
import { type CheckFeed, checkFeed, stagedRows } from './feed.js';
import { HOSTILE_FIELDS } from './hostile-fields.js';
import { columnNameOf } from '../load/columns.js';
import { grantHint, grantProbes } from './probes.js';
import { readBack } from './read-back.js';
import { scratchNames, scratchTables, scratchViews, scratchWarehouse } from './scratch.js';
import { projectCost } from './projection.js';

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface CheckStep {
  name: 'connect' | 'grants' | 'merge' | 'cost' | 'clean up';
  status: StepStatus;
  /** One line: what was found, or what failed. */
  detail: string;
  ms: number;
  /** Lines below the detail: one per operation, statement or projection. */
  items?: string[];
  costs?: StatementCost[];
}

export interface CheckReport {
  engine: string;
  prefix: string;
  identity?: WarehouseIdentity;
  steps: CheckStep[];
  passed: boolean;
}

export interface CheckOptions {
  /** Connects with the configured credentials (the first step). */
  open: () => Promise<Warehouse>;
  engine: string;
  prefix: string;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** For the cost projection: how often the user's schedule runs a batch. */
  batchesPerDay: number;
  /** Hides the config's secrets in every line of the report, before lines are folded. */
  redact?: (text: string) => string;
}

class StepFailed extends Error {}

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const redact = options.redact ?? ((text: string) => text);
  const oneLine = (error: unknown): string =>
    redact(error instanceof Error ? error.message : String(error))
      .replace(/\s+/g, ' ')
      .trim();
  const report: CheckReport = { engine: options.engine, prefix: options.prefix, steps: [], passed: false };
  const stopped = (): string | undefined =>
    options.signal?.aborted ? `stopped: ${String((options.signal.reason as Error | undefined)?.message ?? 'aborted')}` : undefined;
  const step = async (name: CheckStep['name'], work: (result: CheckStep) => Promise<void>): Promise<boolean> => {
    const result: CheckStep = { name, status: 'passed', detail: '', ms: 0 };
    report.steps.push(result);
    const reason = stopped() ?? (report.steps.some((earlier) => earlier.status === 'failed') ? 'an earlier step failed' : undefined);
    if (reason && name !== 'clean up') {
      result.status = 'skipped';
      result.detail = reason;
      return false;
    }
    const started = Date.now();
    try {
      await work(result);
    } catch (error) {
      result.status = 'failed';
      if (!(error instanceof StepFailed) || result.detail === '') result.detail = oneLine(error);
    }
    result.ms = Date.now() - started;
    options.logger.info(`check: ${name}: ${result.status}${result.detail ? `: ${result.detail}` : ''}`);
    return result.status === 'passed';
  };

  let warehouse: Warehouse | undefined;
  await step('connect', async (result) => {
    warehouse = await options.open();
    report.identity = await warehouse.identity();
    result.detail = `${report.identity.who}; writes to ${report.identity.where}`;
  });
  if (!warehouse) {
    for (const name of ['grants', 'merge', 'cost', 'clean up'] as const)
      report.steps.push({ name, status: 'skipped', detail: 'not connected: nothing was done or created', ms: 0 });
    return report;
  }
  const real = warehouse;
  const scratch = scratchWarehouse(real, options.prefix);
  const feed = checkFeed();
  const loader = new Loader(scratch, options.logger);
  // When the batches ran (performance.now()): their statements are the ones costed.
  const batchWindows: { fromMs: number; toMs: number }[] = [];
  try {
    await step('grants', async (result) => {
      const plan = loader.plan(feed.schema);
      result.items = [];
      for (const probe of grantProbes(scratch, plan, (name) => scratch.dialect.table(name))) {
        if (stopped()) throw new Error(stopped());
        try {
          await probe.run();
          result.items.push(`ok    ${probe.operation}`);
        } catch (error) {
          const text = oneLine(error);
          result.items.push(`FAIL  ${probe.operation}: ${text}`);
          result.detail = `cannot ${probe.operation}: ${text}${grantHint(real.dialect.name, text)}`;
          throw new StepFailed();
        }
      }
      const problems = await real.ownershipProblems();
      for (const problem of problems) result.items.push(`FAIL  ${problem}`);
      if (problems[0]) {
        result.detail = problems[0];
        throw new StepFailed();
      }
      result.detail = `each operation a batch performs was allowed (${result.items.length} done once on scratch tables)`;
    });

    await step('merge', async (result) => {
      const oracle = new MergeOracle();
      result.items = [];
      for (const [index, batch] of feed.batches.entries()) {
        if (stopped()) throw new Error(stopped());
        const fromMs = performance.now();
        const loaded = await loader.loadBatch(feed.schema, stagedRows(batch));
        batchWindows.push({ fromMs, toMs: performance.now() });
        oracle.load(batch);
        const differences = compare(await readBack(scratch), oracle.expected());
        result.items.push(
          `batch ${index + 1}: ${batch.length} records${loaded.inserted === undefined ? '' : `, ${loaded.inserted} new transactions`}: ${differences.length === 0 ? 'as expected' : 'DIFFERENT'}`,
        );
        if (differences.length > 0) {
          result.detail = `after batch ${index + 1} the tables differ from the expectation: ${differences.slice(0, 3).join('; ')}`;
          throw new StepFailed();
        }
      }
      const expected = oracle.expected();
      const mismatched = await customValueMismatches(scratch, loader, feed, expected);
      result.items.push(
        `custom fields of a call: ${mismatched.length === 0 ? `all ${HOSTILE_FIELDS.length} values found in their own columns` : 'DIFFERENT'}`,
      );
      if (mismatched.length > 0) {
        result.detail = `custom-field values differ in calls: ${mismatched.slice(0, 3).join('; ')}`;
        throw new StepFailed();
      }
      result.detail = `two batches (${feed.batches.map((batch) => batch.length).join(' and ')} records, hostile custom-field names, corrections out of order, a re-rooting, two legs) merged exactly as expected: ${expected.transactions} transactions, ${expected.current.size} lineages, ${expected.calls.size} calls`;
    });

    await step('cost', async (result) => {
      const costs: StatementCost[] = [];
      for (const window of batchWindows) costs.push(...(await real.statementCosts(window.fromMs, window.toMs)));
      const realCount = await countRows(real, TABLES.transactions);
      const mergeStep = report.steps.find((earlier) => earlier.name === 'merge');
      const projection = projectCost({
        engine: real.dialect.name,
        costs,
        batches: feed.batches.length,
        batchMs: mergeStep?.ms ?? 0,
        realTransactions: realCount,
        ...(report.identity?.autoSuspendSeconds === undefined ? {} : { autoSuspendSeconds: report.identity.autoSuspendSeconds }),
        batchesPerDay: options.batchesPerDay,
      });
      result.costs = costs;
      result.items = projection.lines;
      result.detail = projection.summary;
    });
  } finally {
    await step('clean up', async (result) => {
      // Every DROP is tried, whatever the one before did; then whatever is still there is named.
      const tables = [...scratchTables(real, options.prefix), ...scratch.stagesUsed()];
      const failures: string[] = [];
      for (const view of scratchViews(real, options.prefix))
        await real.execute(`DROP VIEW IF EXISTS ${view}`).catch((error: unknown) => failures.push(`${view}: ${oneLine(error)}`));
      for (const table of tables)
        await real.execute(`DROP TABLE IF EXISTS ${table}`).catch((error: unknown) => failures.push(`${table}: ${oneLine(error)}`));
      const left: string[] = [];
      for (const name of [...scratchNames(), HISTORY_VIEW])
        if (await scratch.columns(name).catch(() => undefined)) left.push(scratch.dialect.table(name));
      if (left.length > 0 || failures.length > 0) {
        result.items = failures;
        throw new Error(
          `scratch tables left (drop them by hand): ${left.join(', ') || failures.map((failure) => failure.split(':')[0]).join(', ')}`,
        );
      }
      result.detail = `dropped every table it created (${options.prefix}*, and its stages); the real tables were not written`;
    });
    await real.close().catch(() => undefined);
  }
  report.passed = report.steps.every((done) => done.status === 'passed');
  return report;
}

/** The hostile custom fields of one call's row in `calls`, each against the value its latest version carried. */
async function customValueMismatches(warehouse: Warehouse, loader: Loader, feed: CheckFeed, expected: Expected): Promise<string[]> {
  const { dialect } = warehouse;
  const q = dialect.quote;
  const callId = 'CALL-A';
  const latestId = expected.calls.get(callId)?.transactionId;
  const latest = feed.batches.flat().find((record) => record.transaction_id === latestId);
  if (!latest) return [`no latest version of ${callId}`];
  const { columns } = loader.plan(feed.schema);
  const select = HOSTILE_FIELDS.map((field, index) => `${q(columnNameOf(columns, field))} AS ${q(`v${index}`)}`).join(', ');
  const [row] = await warehouse.query(
    `SELECT ${select} FROM ${dialect.table(TABLES.calls)} WHERE ${q(columnNameOf(columns, 'complete_call_id'))} = ${dialect.literal(callId)}`,
  );
  if (!row) return [`no row for ${callId}`];
  return HOSTILE_FIELDS.flatMap((field, index) => {
    const want = latest[field] ?? null;
    const got = row[dialect.storedName(`v${index}`)] ?? null;
    return got === want
      ? []
      : [`${JSON.stringify(field).slice(0, 40)}: ${JSON.stringify(got)?.slice(0, 60)}, expected ${JSON.stringify(want).slice(0, 60)}`];
  });
}

/** Where the tables differ from the expectation, one line each. */
function compare(actual: Expected, expected: Expected): string[] {
  const differences: string[] = [];
  if (actual.transactions !== expected.transactions)
    differences.push(`transactions has ${actual.transactions} rows, expected ${expected.transactions}`);
  for (const [root, id] of expected.current) {
    const got = actual.current.get(root);
    if (got !== id) differences.push(`transactions_current for ${root}: ${got ?? 'no row'}, expected ${id}`);
  }
  for (const root of actual.current.keys())
    if (!expected.current.has(root)) differences.push(`transactions_current has an unexpected lineage ${root}`);
  for (const [callId, call] of expected.calls) {
    const got = actual.calls.get(callId);
    if (!got) differences.push(`calls has no row for ${callId}`);
    else if (got.legs !== call.legs || got.payin !== call.payin || got.transactionId !== call.transactionId)
      differences.push(
        `calls ${callId}: ${got.legs} legs, payin ${got.payin}, latest ${got.transactionId}; expected ${call.legs}, ${call.payin}, ${call.transactionId}`,
      );
  }
  for (const callId of actual.calls.keys()) if (!expected.calls.has(callId)) differences.push(`calls has an unexpected call ${callId}`);
  return differences;
}

/**
 * The rows of a real table, for the projection: a failure (a table that requires a partition
 * filter, a role that may not read it) is an unknown size, not a failed check.
 */
async function countRows(warehouse: Warehouse, table: string): Promise<number | undefined> {
  if (!(await warehouse.columns(table))) return 0;
  const n = warehouse.dialect.quote('n');
  try {
    const [row] = await warehouse.query(`SELECT COUNT(*) AS ${n} FROM ${warehouse.dialect.table(table)}`);
    return Number(row?.[warehouse.dialect.storedName('n')] ?? 0);
  } catch {
    return undefined;
  }
}
