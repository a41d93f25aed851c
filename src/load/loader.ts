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
  CALLS_STEP_BUILDERS,
  stepsInOrder,
  createLockTable,
  createTable,
  dropStage,
  rerootCorrections,
  rerootPendingFromSource,
  RETIRED_COPY,
  takeLock,
  TABLES,
  tableColumns,
  createHistoryView,
  HISTORY_VIEW,
  systemColumns,
  type MergePlan,
  type OutputTable,
} from './plan.js';
import {
  airbyteDataColumn,
  createFirsts,
  createMergeState,
  createNewRows,
  createSourceTransactions,
  insertSourceTransactions,
  mapSourceColumns,
  MAX_RAW_KEYS,
  MERGE_STATE_TABLE,
  rawTableSource,
  readWatermark,
  sequenceColumn,
  writeWatermark,
  type SourceColumn,
  type SourcePlan,
} from './merge-source.js';
import type { MergeStepName } from '../stream/merge-steps.js';
import { type BatchLimits, stageRows, type StagedRow, type Warehouse } from './warehouse.js';
import { wellFormed } from './well-formed.js';

/** A batch being loaded: rows are added as they arrive, then committed at once. */
export interface Batch {
  readonly rows: number;
  /**
   * Whether a row of this record text still fits the batch: within what the warehouse's memory
   * allows (Warehouse.batchLimits) and the size of the parts of a batch that once did not fit.
   * An empty batch takes any row.
   */
  fits(raw: string): boolean;
  /**
   * `record`: the row's record, whose keys are the fields this batch fills (the others are typed
   * NULL without reading the records). A row added without it makes the merge read every field.
   */
  add(row: StagedRow, record?: Readonly<Record<string, unknown>>): void;
  /** Stages what is not staged yet, merges it in one transaction and drops the stage. */
  commit(): Promise<BatchResult>;
  /** Gives the batch up (the run failed before its commit): releases its stage. Never throws. */
  discard(): Promise<void>;
}

export interface BatchResult {
  staged: number;
  /** Undefined where the engine does not report counts (a BigQuery script). */
  inserted: number | undefined;
  rerooted: number | undefined;
  /** Rows written into transactions_current and calls (new or changed), where the engine reports counts. */
  current: number | undefined;
  calls: number | undefined;
}

/**
 * Below this many rows a batch that runs out of memory is not split further: the error stands.
 * Low, as a batch of large records is small already (cut by memory-budget.ts); a split stops at
 * the first part that fails at this size, so a lower floor costs a few attempts, not many.
 */
const MIN_SPLIT_ROWS = 50;

function outputTableError(sourceTable: string): ConfigError {
  return new ConfigError(
    `config field 'source_table' names '${sourceTable}', an output table of target-invoca; name the table another loader wrote, in a schema of its own (an Airbyte connection that writes into target-invoca's schema needs another namespace)`,
  );
}

export class Loader {
  readonly #warehouse: Warehouse;
  readonly #logger: Logger;
  /** Columns known to exist, per table: DDL is checked only when the schema brings new ones. */
  readonly #known = new Map<OutputTable, Set<string>>();
  #viewColumns: Set<string> | undefined;
  /** The columns `transactions_current` had before this loader changed it: what names new columns. */
  #currentAtStart: Set<string> | undefined;
  #lockReady = false;
  /**
   * After a batch did not fit the warehouse's memory limit: the size of the parts that did. No
   * batch takes more rows from then on, so the target commits there instead of failing
   * again each time (a failed attempt costs the statement, a rollback and reading the batch back).
   */
  #rowLimit: number | undefined;

  constructor(warehouse: Warehouse, logger: Logger) {
    this.#warehouse = warehouse;
    this.#logger = logger;
  }

  /**
   * The merge plan of a schema, given the columns `transactions_current` has (none: a first
   * load): the one table with a column for every field (`transactions` keeps the history's).
   */
  plan(schema: JsonSchema, existing: Iterable<string> = this.#known.get('current') ?? this.#currentAtStart ?? []): MergePlan {
    const { dialect } = this.#warehouse;
    return { dialect, columns: dataColumns(schema, dialect, existing), stage: this.#warehouse.newStageName() };
  }

  /** The plan of a batch: the column names depend on the columns the table already has. */
  async #planFor(schema: JsonSchema): Promise<MergePlan> {
    // Not kept as known: ensureTables still looks at the table once (an earlier version's columns to drop).
    if (!this.#known.has('current') && !this.#currentAtStart) this.#currentAtStart = await this.#warehouse.columns(TABLES.current);
    return this.plan(schema);
  }

  /** Stages the rows (with their records, see Batch.add) and merges them in one transaction (see `beginBatch`). */
  async loadBatch(
    schema: JsonSchema,
    rows: readonly StagedRow[],
    records?: readonly Readonly<Record<string, unknown>>[],
  ): Promise<BatchResult> {
    const batch = await this.beginBatch(schema);
    for (const [index, row] of rows.entries()) batch.add(row, records?.[index]);
    return batch.commit();
  }

  /**
   * A batch to which records are added as they arrive: into the warehouse's stage at once where
   * the engine can (DuckDB's appender), so the batch is never held whole in Node; else held by
   * the stage writer until `commit`, which stages them and runs the merge in one transaction. A
   * batch that is not committed leaves nothing behind but its stage, which the next batch replaces.
   */
  async beginBatch(schema: JsonSchema): Promise<Batch> {
    const plan = await this.#planFor(schema);
    await this.ensureTables(plan);
    const warehouse = this.#warehouse;
    const writer = await warehouse.openStage(plan);
    const limits = warehouse.batchLimits?.(plan.columns.length);
    const rowLimit = this.#rowLimit ?? Number.POSITIVE_INFINITY;
    // The target asks `fits` of each row and then adds it: the row's size is measured once.
    let measured: { raw: string; bytes: number } | undefined;
    const bytesOf = (limits: BatchLimits, raw: string): number => {
      if (measured?.raw !== raw) measured = { raw, bytes: limits.bytesOfRow(Buffer.byteLength(raw)) };
      return measured.bytes;
    };
    let count = 0;
    let bytes = 0;
    let present: Set<string> | undefined = new Set();
    return {
      get rows() {
        return count;
      },
      fits(raw) {
        return count === 0 || (count < rowLimit && (limits === undefined || bytes + bytesOf(limits, raw) <= limits.bytes));
      },
      add(row, record) {
        count++;
        if (limits) bytes += bytesOf(limits, row.raw);
        if (!record) present = undefined;
        else if (present) for (const field in record) present.add(field);
        writer.add(row);
      },
      commit: async () => {
        try {
          await writer.close();
          // Keys as the schema's fields are named: an unpaired surrogate repaired (well-formed.ts).
          const fields = present ? new Set([...present].map((field) => wellFormed(field))) : undefined;
          return await this.#mergeStaged(fields ? { ...plan, present: fields } : plan, count);
        } finally {
          await warehouse.execute(dropStage(plan)).catch(() => 0);
        }
      },
      discard: async () => {
        await writer.discard();
        await warehouse.execute(dropStage(plan)).catch(() => 0);
      },
    };
  }

  /**
   * The merge of what is staged, in one transaction. When the engine runs out of its memory
   * limit (DuckDB's `memory_limit` smaller than the batch needs), the transaction was rolled
   * back: the staged rows are read back, the stage is dropped (it is what fills the memory), and
   * the rows are loaded again in two halves of their delivery order, each its own stage and
   * transaction. Every merge step is idempotent, a transaction's first delivery is in the earlier
   * half, and the target echoes the state only after the last half is committed.
   */
  async #mergeStaged(plan: MergePlan, rows: number): Promise<BatchResult> {
    const warehouse = this.#warehouse;
    try {
      const steps = batchSteps(plan);
      const { changed } = await warehouse.runMerge({ steps });
      const rowsOf = (name: MergeStepName, writes = false): number | undefined =>
        changed === undefined
          ? undefined
          : steps.reduce(
              // A step's writes: its MERGE, or its INSERT where the engine replaces rows (not the DELETE before it).
              (total, step, index) =>
                total + (step.name === name && (!writes || /^(MERGE|INSERT) INTO /.test(step.sql)) ? (changed[index] ?? 0) : 0),
              0,
            );
      return {
        staged: rows,
        inserted: rowsOf('insert'),
        rerooted: rowsOf('reroot'),
        current: rowsOf('current', true),
        calls: rowsOf('calls', true),
      };
    } catch (error) {
      if (!(error instanceof WarehouseError) || !error.outOfMemory || rows < 2 * MIN_SPLIT_ROWS) throw error;
      const { dialect } = plan;
      const q = dialect.quote;
      const held = (
        await warehouse.query(
          `SELECT ${q('transaction_id')} AS id, ${q('_invoca_sequence')} AS seq, ${q('_invoca_raw')} AS raw FROM ${plan.stage} ORDER BY ${q('_invoca_sequence')}`,
        )
      ).map((row): StagedRow => ({ transactionId: String(row['id']), sequence: Number(row['seq']), raw: String(row['raw']) }));
      await warehouse.execute(dropStage(plan));
      const half = Math.ceil(held.length / 2);
      this.#logger.warn(
        `a batch of ${rows} rows did not fit the warehouse's memory limit; loading it in two halves of ${half} rows (a larger duckdb.memory_limit avoids the retry)`,
      );
      const results: BatchResult[] = [];
      for (const part of [held.slice(0, half), held.slice(half)]) {
        await stageRows(warehouse, plan, part);
        results.push(await this.#mergeStaged(plan, part.length));
      }
      if (this.#rowLimit === undefined || half < this.#rowLimit) {
        this.#rowLimit = half;
        this.#logger.warn(`batches of at most ${half} rows from now on in this run (they fit the memory limit)`);
      }
      const sum = (key: 'inserted' | 'rerooted' | 'current' | 'calls'): number | undefined =>
        results.some((result) => result[key] === undefined) ? undefined : results.reduce((total, result) => total + (result[key] ?? 0), 0);
      return { staged: rows, inserted: sum('inserted'), rerooted: sum('rerooted'), current: sum('current'), calls: sum('calls') };
    }
  }

  /**
   * `target-invoca merge`: merges the rows another loader wrote into `sourceTable` since the last
   * merge (see merge-source.ts) into all three tables. The source is a table of columns (a Singer
   * target's, or an Airbyte destination's final table) or an Airbyte raw table (`_airbyte_data`).
   */
  async mergeFromSource(sourceTable: string): Promise<{ newTransactions: number }> {
    const warehouse = this.#warehouse;
    const { dialect } = warehouse;
    const source = await this.#sourcePlan(sourceTable);
    if (!source) {
      this.#logger.info(`${sourceTable} has no records yet: nothing to merge`);
      return { newTransactions: 0 };
    }
    const { plan } = source;
    await this.ensureTables(plan);
    await warehouse.execute(createMergeState(dialect));
    const [state] = await warehouse.query(readWatermark(dialect, sourceTable));
    const watermark = state?.['watermark'] === null || state?.['watermark'] === undefined ? -1 : Number(state['watermark']);
    const prepare = [createNewRows(source, watermark), createFirsts(source), createSourceTransactions(source)];
    // The lineages and calls are merged from `transactions` once it holds the new rows, re-rooted
    // whatever the length of their chains (the snapshot follows two links only); the typed rows
    // of the source's transactions come from the snapshot.
    const fromHistory: MergePlan = {
      dialect,
      columns: plan.columns,
      stage: plan.stage,
      ...(plan.transactions ? { arrived: plan.transactions } : {}),
    };
    const steps = stepsInOrder(fromHistory, {
      lock: () => [{ sql: takeLock(dialect) }],
      insert: () => [{ sql: insertSourceTransactions(source) }],
      reroot: () => [{ sql: rerootCorrections(plan), repeat: true, onlyIf: rerootPendingFromSource(plan) }],
      ...CALLS_STEP_BUILDERS,
      watermark: () => writeWatermark(source, sourceTable, watermark).map((sql) => ({ sql })),
    });
    const countNew = `SELECT COUNT(*) AS ${dialect.quote('n')} FROM ${plan.stage}`;
    const { rows } = await warehouse.runMerge({
      prepare,
      temporary: [source.firsts, plan.transactions ?? '', plan.stage].filter((table) => table !== ''),
      steps,
      result: countNew,
    });
    return { newTransactions: Number(rows[0]?.['n'] ?? 0) };
  }

  /**
   * The source table of `target-invoca merge`, found and read: its columns mapped, or its records'
   * fields; undefined for a raw table without records yet (its fields are not known).
   */
  async #sourcePlan(sourceTable: string): Promise<SourcePlan | undefined> {
    const warehouse = this.#warehouse;
    const { dialect } = warehouse;
    const parts = sourceTable.split('.');
    if (parts.length > 2 || parts.some((part) => part.trim() === '')) {
      throw new ConfigError(
        `config field 'source_table' must be a table name or schema.table (a dataset on BigQuery), not '${sourceTable.slice(0, 200)}'`,
      );
    }
    const [sourceSchema, sourceName] = parts.length === 2 ? (parts as [string, string]) : [undefined, parts[0] ?? ''];
    // The output tables are written in the configured schema: a source there by one of their names
    // would be written into (an Airbyte final table `transactions` in the loader's own schema).
    const outputNames: string[] = [...Object.values(TABLES), MERGE_STATE_TABLE];
    const outputName = outputNames.includes(sourceName.toLowerCase());
    if (sourceSchema === undefined && outputName) throw outputTableError(sourceTable);
    const found = await warehouse.findTable(sourceName, sourceSchema);
    if (!found)
      throw new ConfigError(
        `config field 'source_table': there is no table '${sourceTable}'${sourceSchema ? '' : ' in the configured schema (name another schema as schema.table)'}`,
      );
    const isOutput = outputName && found.sql === dialect.table(sourceName.toLowerCase());
    if (isOutput || [...found.columns].some((name) => name.toLowerCase() === '_invoca_version')) throw outputTableError(sourceTable);
    const dataColumn = airbyteDataColumn(found.columns);
    const names = {
      // The new rows' table: temporary, made by the merge's `prepare` (not a batch's stage).
      stage: dialect.quote('_invoca_new_rows'),
      transactions: dialect.quote('_invoca_source_transactions'),
      firsts: dialect.quote('_invoca_source_firsts'),
    };
    if (dataColumn) {
      const keys = (
        await warehouse.query(dialect.jsonKeys(dialect.storedJson(`r.${dialect.quoteStored(dataColumn)}`), `${found.sql} AS r`))
      )
        .map((row) => String(Object.values(row)[0]))
        .sort();
      if (keys.length > MAX_RAW_KEYS) {
        throw new ConfigError(
          `config field 'source_table': the records in '${sourceTable}' have ${keys.length} fields, more than ${MAX_RAW_KEYS}: not an Invoca feed`,
        );
      }
      if (keys.length === 0) return undefined;
      if (!keys.includes('transaction_id') || !keys.includes('_invoca_sequence')) {
        throw new ConfigError(
          `config field 'source_table': the records in '${sourceTable}' (${dataColumn}) have no transaction_id or no _invoca_sequence (were they read by source-invoca?)`,
        );
      }
      const raw = rawTableSource(dialect, found.sql, dataColumn, keys);
      return {
        plan: { dialect, columns: raw.columns, stage: names.stage, transactions: names.transactions },
        firsts: names.firsts,
        ...raw,
      };
    }
    const sequence = sequenceColumn(found.columns);
    if (!sequence) {
      throw new ConfigError(
        `config field 'source_table': '${sourceTable}' has no _invoca_sequence column (was it loaded from tap-invoca?)`,
      );
    }
    let columns: SourceColumn[];
    try {
      columns = mapSourceColumns([...found.columns], dialect);
    } catch (error) {
      throw new ConfigError(`config field 'source_table': ${error instanceof Error ? error.message : String(error)}`);
    }
    return {
      plan: { dialect, columns, stage: names.stage, transactions: names.transactions },
      firsts: names.firsts,
      columns,
      sequence,
      source: found.sql,
    };
  }

  /** Creates the output tables, or adds the plan's new columns to them (DDL, outside any transaction). */
  async ensureTables(plan: MergePlan, tables: readonly OutputTable[] = Object.keys(TABLES) as OutputTable[]): Promise<void> {
    if (!this.#lockReady) {
      for (const statement of createLockTable(plan.dialect)) await this.#warehouse.execute(statement);
      this.#lockReady = true;
    }
    for (const table of tables) {
      const known = this.#known.get(table);
      if (known && tableColumns(plan, table).every((column) => known.has(column.column))) continue;
      const existing = await this.#warehouse.columns(TABLES[table]);
      if (existing === undefined) {
        await this.#warehouse.execute(createTable(plan, table));
        this.#logger.info(`created table ${TABLES[table]}`);
      } else {
        const retired = table === 'transactions' ? undefined : [...existing].find((name) => name.toLowerCase() === RETIRED_COPY);
        if (retired) {
          await this.#warehouse.execute(
            `ALTER TABLE ${plan.dialect.table(TABLES[table])} DROP COLUMN ${plan.dialect.quoteStored(retired)}`,
          );
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
    if (tables.includes('transactions')) await this.#ensureHistoryView(plan);
  }

  /**
   * The `transactions_history` view, created or replaced when it lacks a column of the plan; never
   * replaced by one that would lose a column it has (a run whose schema lacks an earlier field, or
   * `target-invoca merge` with its source's columns): then it waits for a run whose plan has them all.
   */
  async #ensureHistoryView(plan: MergePlan): Promise<void> {
    const stored = (name: string): string => this.#warehouse.dialect.storedName(name);
    const wanted = new Set(plan.columns.map((column) => stored(column.column)));
    if (this.#viewColumns && [...wanted].every((name) => this.#viewColumns?.has(name))) return;
    const existing = this.#viewColumns ?? (await this.#warehouse.columns(HISTORY_VIEW));
    const system = new Set(systemColumns('transactions').map((column) => stored(column.name)));
    const lacksColumns = !existing || [...wanted].some((name) => !existing.has(name));
    const wouldLose = [...(existing ?? [])].filter((name) => !system.has(name) && !wanted.has(name));
    if (lacksColumns && wouldLose.length === 0) {
      for (const statement of createHistoryView(plan)) await this.#warehouse.execute(statement);
      this.#logger.info(`${existing ? 'replaced' : 'created'} view ${HISTORY_VIEW}: every version in transactions, every field typed`);
      this.#viewColumns = new Set([...wanted, ...system]);
      return;
    }
    if (lacksColumns)
      this.#logger.info(
        `view ${HISTORY_VIEW} not replaced: this run's schema lacks ${wouldLose.length} of its columns; a run with every field replaces it`,
      );
    this.#viewColumns = existing;
  }
}
