/**
 * The operations a loader performs, each done once on scratch tables: what proves the grants
 * on every engine, whatever the role hierarchy, future grants or IAM conditions say.
 */
import { dropStage, type MergePlan } from '../load/plan.js';
import type { DialectName } from '../load/sql/dialect.js';
import { stageRows, type Warehouse } from '../load/warehouse.js';

export interface Probe {
  /** What the loader needs it for, as the report names it. */
  operation: string;
  run(): Promise<unknown>;
}

/** The probes in order; each needs the ones before it. `table(name)` names a scratch table. */
export function grantProbes(warehouse: Warehouse, plan: MergePlan, table: (name: string) => string): Probe[] {
  const { dialect } = warehouse;
  const q = dialect.quote;
  const probe = table('probe');
  const source = table('probe_source');
  const columns = `(${q('id')} ${dialect.type('string')}, ${q('amount')} ${dialect.type('decimal')})`;
  const run = (sql: string) => () => warehouse.execute(sql);
  return [
    { operation: 'create a table', run: run(`CREATE TABLE ${probe} ${columns}`) },
    { operation: 'insert rows', run: run(`INSERT INTO ${probe} (${q('id')}, ${q('amount')}) VALUES ('a', 1), ('b', 2)`) },
    {
      operation: 'add a column (what a new custom field needs)',
      run: run(`ALTER TABLE ${probe} ADD COLUMN ${q('extra')} ${dialect.type('string')}`),
    },
    { operation: 'update rows', run: run(`UPDATE ${probe} SET ${q('amount')} = 3 WHERE ${q('id')} = 'a'`) },
    {
      operation: 'merge (MERGE INTO ... USING)',
      run: async () => {
        await warehouse.execute(`CREATE TABLE ${source} ${columns}`);
        await warehouse.execute(`INSERT INTO ${source} (${q('id')}, ${q('amount')}) VALUES ('a', 4), ('c', 5)`);
        return warehouse.execute(
          `MERGE INTO ${probe} AS d USING ${source} AS s ON d.${q('id')} = s.${q('id')} ` +
            `WHEN MATCHED THEN UPDATE SET ${q('amount')} = s.${q('amount')} ` +
            `WHEN NOT MATCHED THEN INSERT (${q('id')}, ${q('amount')}) VALUES (s.${q('id')}, s.${q('amount')})`,
        );
      },
    },
    { operation: 'delete rows', run: run(`DELETE FROM ${probe} WHERE ${q('id')} = 'b'`) },
    {
      operation: 'create and drop a view (transactions_history)',
      run: async () => {
        await warehouse.execute(`CREATE VIEW ${table('probe_view')} AS SELECT ${q('id')} FROM ${probe}`);
        return warehouse.execute(`DROP VIEW ${table('probe_view')}`);
      },
    },
    {
      operation: "load the batch's stage (its temporary table)",
      run: async () => {
        await stageRows(warehouse, plan, [{ transactionId: 'probe', sequence: 1, raw: '{"transaction_id":"probe"}' }]);
        return warehouse.execute(dropStage(plan));
      },
    },
    {
      operation: 'drop a table',
      run: async () => {
        await warehouse.execute(`DROP TABLE ${source}`);
        return warehouse.execute(`DROP TABLE ${probe}`);
      },
    },
  ];
}

/** What to grant when a probe fails, where the engine's own error does not already say. */
export function grantHint(engine: DialectName, errorText: string): string {
  if (engine === 'bigquery' && /denied|permission/i.test(errorText)) {
    return '; the loader needs roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project (README, "Minimum grants for the loader")';
  }
  if (engine === 'duckdb' && /read-only|permission|readonly/i.test(errorText)) {
    return '; the DuckDB file (and its folder, for the write-ahead log) must be writable by this user';
  }
  return '';
}
