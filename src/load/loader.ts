/**
 * Loads one batch into a warehouse and merges it: tables and new columns first (DDL outside the
 * transaction where the engine needs that), the stage, then the merge statements of plan.ts in
 * one transaction, then the stage is dropped. A failure rolls the batch back whole.
 */
import type { JsonSchema } from '../config/validate.js';
import { ConfigError, WarehouseError } from '../errors.js';
import type { Logger } from '../log.js';
import { dataColumns } from './columns.js';
import {
  addMissingColumns,
  batchSteps,
  createLockTable,
  createTable,
  deleteEmptyCalls,
  deleteStaleLineages,
  dropStage,
  mergeCalls,
  mergeCurrent,
  RETIRED_COPY,
  takeLock,
  TABLES,
  type MergePlan,
  type OutputTable,
} from './plan.js';
import { createFirsts, createMergeState, createNewRows, createSourceTransactions, mapSourceColumns, MERGE_STATE_TABLE, readWatermark, sequenceColumn, writeWatermark, type SourcePlan } from './merge-source.js';
import { transactionScript } from './sql/bigquery.js';
import type { StagedRow, Warehouse } from './warehouse.js';

export interface BatchResult {
  staged: number;
  /** Undefined where the engine does not report counts (a BigQuery script). */
  inserted: number | undefined;
  rerooted: number | undefined;
}

/** Below this many rows a batch that runs out of memory is not split further: the error stands. */
const MIN_SPLIT_ROWS = 500;

export class Loader {
  readonly #warehouse: Warehouse;
  readonly #logger: Logger;
  /** Columns known to exist, per table: DDL is checked only when the schema brings new ones. */
  readonly #known = new Map<OutputTable, Set<string>>();
  #lockReady = false;

  constructor(warehouse: Warehouse, logger: Logger) {
    this.#warehouse = warehouse;
    this.#logger = logger;
  }

  /** The merge plan of a schema, given the columns the `transactions` table has (none: a first load). */
  plan(schema: JsonSchema, existing: Iterable<string> = this.#known.get('transactions') ?? []): MergePlan {
    const { dialect } = this.#warehouse;
    return { dialect, columns: dataColumns(schema, dialect, existing), stage: this.#warehouse.stageName() };
  }

  /** The plan of a batch: the column names depend on the columns the table already has. */
  async #planFor(schema: JsonSchema): Promise<MergePlan> {
    if (!this.#known.has('transactions')) {
      const existing = await this.#warehouse.columns(TABLES.transactions);
      if (existing) this.#known.set('transactions', existing);
    }
    return this.plan(schema);
  }

  /**
   * Stages and merges the rows in one transaction. When the engine runs out of its memory limit
   * (DuckDB's `memory_limit` smaller than the batch needs), the batch was rolled back and is
   * loaded again in two halves, each its own transaction: every merge step is idempotent, and the
   * target echoes the state only after the last half is committed.
   */
  async loadBatch(schema: JsonSchema, rows: readonly StagedRow[]): Promise<BatchResult> {
    try {
      return await this.#loadOnce(schema, rows);
    } catch (error) {
      if (!(error instanceof WarehouseError) || !error.outOfMemory || rows.length < 2 * MIN_SPLIT_ROWS) throw error;
      const half = Math.ceil(rows.length / 2);
      this.#logger.warn(`a batch of ${rows.length} rows did not fit the warehouse's memory limit; loading it in two halves of ${half} rows (a lower batch_size_rows avoids the retry)`);
      const first = await this.loadBatch(schema, rows.slice(0, half));
      const second = await this.loadBatch(schema, rows.slice(half));
      const sum = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a + b);
      return { staged: rows.length, inserted: sum(first.inserted, second.inserted), rerooted: sum(first.rerooted, second.rerooted) };
    }
  }

  async #loadOnce(schema: JsonSchema, rows: readonly StagedRow[]): Promise<BatchResult> {
    const plan = await this.#planFor(schema);
    await this.ensureTables(plan);
    const warehouse = this.#warehouse;
    try {
      await warehouse.stage(plan, rows);
      const [, inserted, rerooted] = await warehouse.runInTransaction(batchSteps(plan));
      return { staged: rows.length, inserted, rerooted };
    } finally {
      await warehouse.execute(dropStage(plan)).catch(() => 0);
    }
  }

  /**
   * `target-invoca merge`: merges the rows another target loaded into `sourceTable` since the
   * last merge (see merge-source.ts). Writes only transactions_current, calls and the watermark.
   */
  async mergeFromSource(sourceTable: string): Promise<{ newTransactions: number }> {
    const warehouse = this.#warehouse;
    const { dialect } = warehouse;
    // `table` (in the configured schema) or `schema.table` (DuckDB, PostgreSQL).
    const [sourceSchema, sourceName] = sourceTable.includes('.') ? (sourceTable.split('.', 2) as [string, string]) : [undefined, sourceTable];
    if (sourceSchema === undefined && [...Object.values(TABLES), MERGE_STATE_TABLE].includes(sourceName as never)) {
      throw new ConfigError(`config field 'source_table' names '${sourceTable}', an output table of target-invoca; name the raw table another target loaded`);
    }
    const sourceColumns = await warehouse.columns(sourceName, sourceSchema);
    if (!sourceColumns) throw new ConfigError(`config field 'source_table': there is no table '${sourceTable}'${sourceSchema ? '' : ' in the configured schema'}`);
    const sequence = sequenceColumn(sourceColumns);
    if (!sequence) {
      throw new ConfigError(`config field 'source_table': '${sourceTable}' has no _invoca_sequence column (was it loaded from tap-invoca?)`);
    }
    let columns;
    try {
      columns = mapSourceColumns([...sourceColumns], dialect);
    } catch (error) {
      throw new ConfigError(`config field 'source_table': ${error instanceof Error ? error.message : String(error)}`);
    }
    // BigQuery keeps temporary tables only inside one script: there the merge runs as one.
    const scripted = warehouse.runScript !== undefined;
    const plan: MergePlan = {
      dialect,
      columns,
      stage: scripted ? dialect.quote('_invoca_new_rows') : warehouse.stageName(),
      transactions: dialect.quote('_invoca_source_transactions'),
    };
    const source: SourcePlan = { plan, firsts: dialect.quote('_invoca_source_firsts'), columns, sequence, source: sourceSchema ? `${dialect.quote(sourceSchema)}.${dialect.quote(sourceName)}` : dialect.table(sourceName) };
    await this.ensureTables(plan, ['current', 'calls']);
    await warehouse.execute(createMergeState(dialect));
    const [state] = await warehouse.query(readWatermark(dialect, sourceTable));
    const watermark = state?.['watermark'] === null || state?.['watermark'] === undefined ? -1 : Number(state['watermark']);
    const prepare = [createNewRows(source, watermark), createFirsts(source), createSourceTransactions(source)];
    const steps = [
      { sql: takeLock(dialect) },
      { sql: deleteStaleLineages(plan) },
      { sql: mergeCurrent(plan) },
      { sql: mergeCalls(plan) },
      { sql: deleteEmptyCalls(plan) },
      ...writeWatermark(source, sourceTable, watermark).map((sql) => ({ sql })),
    ];
    const countNew = `SELECT COUNT(*) AS ${dialect.quote('n')} FROM ${plan.stage}`;
    if (warehouse.runScript) {
      const [count] = await warehouse.runScript([...prepare, transactionScript(steps).replace(/;$/, ''), countNew]);
      return { newTransactions: Number(count?.['n'] ?? 0) };
    }
    const temporary = [source.firsts, plan.transactions ?? '', plan.stage];
    const dropAll = async (): Promise<void> => {
      for (const table of temporary) await warehouse.execute(`DROP TABLE IF EXISTS ${table}`).catch(() => 0);
    };
    await dropAll();
    try {
      for (const statement of prepare) await warehouse.execute(statement);
      const [count] = await warehouse.query(countNew);
      await warehouse.runInTransaction(steps);
      return { newTransactions: Number(count?.['n'] ?? 0) };
    } finally {
      await dropAll();
    }
  }

  /** Creates the output tables, or adds the plan's new columns to them (DDL, outside any transaction). */
  async ensureTables(plan: MergePlan, tables: readonly OutputTable[] = Object.keys(TABLES) as OutputTable[]): Promise<void> {
    if (!this.#lockReady) {
      for (const statement of createLockTable(plan.dialect)) await this.#warehouse.execute(statement);
      this.#lockReady = true;
    }
    for (const table of tables) {
      const known = this.#known.get(table);
      if (known && plan.columns.every((column) => known.has(column.column))) continue;
      const existing = await this.#warehouse.columns(TABLES[table]);
      if (existing === undefined) {
        await this.#warehouse.execute(createTable(plan, table));
        this.#logger.info(`created table ${TABLES[table]}`);
      } else {
        const retired = table === 'transactions' ? undefined : [...existing].find((name) => name.toLowerCase() === RETIRED_COPY);
        if (retired) {
          await this.#warehouse.execute(`ALTER TABLE ${plan.dialect.table(TABLES[table])} DROP COLUMN ${plan.dialect.quoteStored(retired)}`);
          this.#logger.info(`dropped ${retired} from ${TABLES[table]}: the record as delivered is kept once, in transactions`);
        }
        for (const statement of addMissingColumns(plan, table, existing)) {
          await this.#warehouse.execute(statement);
          this.#logger.info(`added a column to ${TABLES[table]}: ${statement.split(' ADD COLUMN ')[1] ?? ''}`);
        }
      }
      const columns = await this.#warehouse.columns(TABLES[table]);
      if (!columns) throw new WarehouseError(`table ${TABLES[table]} is missing right after it was created`);
      this.#known.set(table, columns);
    }
  }
}
