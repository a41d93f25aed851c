import { randomBytes } from 'node:crypto';
import { HISTORY_VIEW, LOCK_TABLE, TABLES } from '../load/plan.js';
import type { Warehouse } from '../load/warehouse.js';

/** Tables `target-invoca check` may create, besides the loader's own (under the prefix too). */
export const PROBE_TABLES = ['probe', 'probe_source'] as const;

/** A prefix no real table has: `_invoca_check_<8 hex>_`. */
export function scratchPrefix(): string {
  return `_invoca_check_${randomBytes(4).toString('hex')}_`;
}

/**
 * The warehouse as the loader sees it, with every table of the configured schema renamed to
 * `prefix` + its name: the loader's own code runs unchanged and never touches the real tables.
 */
export function scratchWarehouse(warehouse: Warehouse, prefix: string): Warehouse & { stagesUsed(): string[] } {
  const dialect = { ...warehouse.dialect, table: (name: string) => warehouse.dialect.table(`${prefix}${name}`) };
  // BigQuery's stages are real tables of the dataset (expiring ones): the clean-up drops them too.
  const stages = new Set<string>();
  return {
    ...warehouse,
    dialect,
    columns: (table, schema) => warehouse.columns(schema === undefined ? `${prefix}${table}` : table, schema),
    findTable: (name, schema) => warehouse.findTable(schema === undefined ? `${prefix}${name}` : name, schema),
    newStageName: () => {
      const stage = warehouse.newStageName();
      stages.add(stage);
      return stage;
    },
    stagesUsed: () => [...stages],
  };
}

/** The names (before the prefix) of every table the check can create. */
export function scratchNames(): string[] {
  return [...Object.values(TABLES), LOCK_TABLE, ...PROBE_TABLES];
}

/** Every table the check can have created under `prefix`, as SQL, for the clean-up. */
export function scratchTables(warehouse: Warehouse, prefix: string): string[] {
  return scratchNames().map((name) => warehouse.dialect.table(`${prefix}${name}`));
}

/** The views the check can have created, as SQL: dropped first (some engines refuse to drop a table a view reads). */
export function scratchViews(warehouse: Warehouse, prefix: string): string[] {
  return [HISTORY_VIEW, 'probe_view'].map((name) => warehouse.dialect.table(`${prefix}${name}`));
}
