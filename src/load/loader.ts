/**
 * Loads one batch into a warehouse and merges it: tables and new columns first (DDL outside the
 * transaction where the engine needs that), the stage, then the merge statements of plan.ts in
 * one transaction, then the stage is dropped. A failure rolls the batch back whole.
 */
import type { JsonSchema } from '../config/validate.js';
import { WarehouseError } from '../errors.js';
import type { Logger } from '../log.js';
import { dataColumns } from './columns.js';
import {
  addMissingColumns,
  createTable,
  deleteStaleLineages,
  dropStage,
  insertNewTransactions,
  mergeCalls,
  mergeCurrent,
  rerootCorrections,
  TABLES,
  type MergePlan,
  type OutputTable,
} from './plan.js';
import type { StagedRow, Warehouse } from './warehouse.js';

export interface BatchResult {
  staged: number;
  /** Undefined where the engine does not report counts (a BigQuery script). */
  inserted: number | undefined;
  rerooted: number | undefined;
}

export class Loader {
  readonly #warehouse: Warehouse;
  readonly #logger: Logger;
  /** Columns known to exist, per table: DDL is checked only when the schema brings new ones. */
  readonly #known = new Map<OutputTable, Set<string>>();

  constructor(warehouse: Warehouse, logger: Logger) {
    this.#warehouse = warehouse;
    this.#logger = logger;
  }

  plan(schema: JsonSchema): MergePlan {
    return { dialect: this.#warehouse.dialect, columns: dataColumns(schema, this.#warehouse.dialect), stage: this.#warehouse.stageName() };
  }

  async loadBatch(schema: JsonSchema, rows: readonly StagedRow[]): Promise<BatchResult> {
    const plan = this.plan(schema);
    await this.ensureTables(plan);
    const warehouse = this.#warehouse;
    try {
      await warehouse.stage(plan, rows);
      const [inserted, rerooted] = await warehouse.runInTransaction([
        { sql: insertNewTransactions(plan) },
        { sql: rerootCorrections(plan), repeat: true },
        { sql: deleteStaleLineages(plan) },
        { sql: mergeCurrent(plan) },
        { sql: mergeCalls(plan) },
      ]);
      return { staged: rows.length, inserted, rerooted };
    } finally {
      await warehouse.execute(dropStage(plan)).catch(() => 0);
    }
  }

  /** Creates the three tables, or adds the plan's new columns to them (DDL, outside any transaction). */
  async ensureTables(plan: MergePlan): Promise<void> {
    for (const table of Object.keys(TABLES) as OutputTable[]) {
      const known = this.#known.get(table);
      if (known && plan.columns.every((column) => known.has(column.column))) continue;
      const existing = await this.#warehouse.columns(TABLES[table]);
      if (existing === undefined) {
        await this.#warehouse.execute(createTable(plan, table));
        this.#logger.info(`created table ${TABLES[table]}`);
      } else {
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
