/**
 * PostgreSQL semantics for the merge tests: PGlite (PostgreSQL 18 in WASM, in-process) behind the
 * same Warehouse interface as the real engines. It is a test engine, not a product engine, so it
 * lives with the tests. The batch is staged with bound INSERTs, 500 rows per statement.
 */
import { PGlite } from '@electric-sql/pglite';
import { createStage, type MergePlan } from '../../src/load/plan.js';
import { postgresDialect } from './postgres-dialect.js';
import { heldStage, runMergeInSession, type StagedRow, type Warehouse } from '../../src/load/warehouse.js';

export async function openPglite(schema = 'invoca'): Promise<Warehouse & { db: PGlite }> {
  const db = await PGlite.create();
  const dialect = postgresDialect(schema);
  await db.exec(`CREATE SCHEMA IF NOT EXISTS ${dialect.quote(schema)}`);
  const stage = '_invoca_stage';
  return {
    db,
    dialect,
    identity: async () => ({ who: 'PGlite', where: `in memory, schema ${schema}` }),
    statementCosts: async () => [],
    ownershipProblems: async () => [],
    async columns(table, inSchema = schema) {
      const result = await db.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
        [inSchema, table],
      );
      return result.rows.length === 0 ? undefined : new Set(result.rows.map((row) => row.column_name));
    },
    async findTable(table, inSchema = schema) {
      const result = await db.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [inSchema, table],
      );
      if (result.rows.length === 0) return undefined;
      return {
        sql: `${dialect.quoteStored(inSchema)}.${dialect.quoteStored(table)}`,
        columns: new Set(result.rows.map((row) => row.column_name)),
      };
    },
    async execute(sql) {
      const result = await db.query(sql);
      return result.affectedRows ?? 0;
    },
    newStageName: () => dialect.quote(stage),
    async openStage(plan: MergePlan) {
      return heldStage(async (rows: readonly StagedRow[]) => {
        await db.exec(`DROP TABLE IF EXISTS ${dialect.quote(stage)}`);
        await db.exec(createStage(plan, true));
        for (let start = 0; start < rows.length; start += 500) {
          const chunk = rows.slice(start, start + 500);
          const values = chunk.map((_, index) => `($${index * 3 + 1}, $${index * 3 + 2}, $${index * 3 + 3})`).join(', ');
          await db.query(
            `INSERT INTO ${dialect.quote(stage)} VALUES ${values}`,
            chunk.flatMap((row) => [row.transactionId, row.sequence, row.raw]),
          );
        }
      });
    },
    runMerge: (merge) =>
      runMergeInSession(
        {
          execute: async (sql) => (await db.query(sql)).affectedRows ?? 0,
          query: async (sql) => (await db.query<Record<string, unknown>>(sql)).rows,
        },
        merge,
        { begin: 'BEGIN', commit: 'COMMIT', rollback: 'ROLLBACK' },
      ),
    async query(sql) {
      return (await db.query<Record<string, unknown>>(sql)).rows;
    },
    close: () => db.close(),
  };
}
