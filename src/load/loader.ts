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

/** A chain longer than this is not resolved further in one batch (Invoca's chains are 1 deep). */
const MAX_REROOT_PASSES = 16;

export interface BatchResult {
  staged: number;
  inserted: number;
  rerooted: number;
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
    await this.#ensureTables(plan);
    const warehouse = this.#warehouse;
    try {
      await warehouse.stage(plan, rows);
      await warehouse.begin();
      try {
        const inserted = await warehouse.execute(insertNewTransactions(plan));
        let rerooted = 0;
        for (let pass = 0; pass < MAX_REROOT_PASSES; pass++) {
          const changed = await warehouse.execute(rerootCorrections(plan));
          rerooted += changed;
          if (changed === 0) break;
        }
        await warehouse.execute(deleteStaleLineages(plan));
        await warehouse.execute(mergeCurrent(plan));
        await warehouse.execute(mergeCalls(plan));
        await warehouse.commit();
        return { staged: rows.length, inserted, rerooted };
      } catch (error) {
        await warehouse.rollback().catch((rollbackError: unknown) => {
          this.#logger.warn(`rollback failed: ${rollbackError instanceof Error ? rollbackError.message : String(rollbackError)}`);
        });
        throw error;
      }
    } finally {
      await warehouse.execute(dropStage(plan)).catch(() => 0);
    }
  }

  async #ensureTables(plan: MergePlan): Promise<void> {
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
