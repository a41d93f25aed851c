/**
 * The loader's baseline: DuckDB itself reads the same NDJSON file target-invoca read (the
 * tap's Singer messages, with `read_ndjson_objects`, DuckDB's own JSON reader: no Node in the
 * way) and then runs the very same merge statements, batch by batch, through the same Loader,
 * in batches of the size target-invoca commits. Only how the stage is filled differs.
 *
 *   node dist/bench/baseline-loader.js <singer.jsonl> <database> <batch_rows> <memory_limit>
 */
import type { JsonSchema } from '../src/config/validate.js';
import { dataColumns } from '../src/load/columns.js';
import { openDuckDb } from '../src/load/duckdb-warehouse.js';
import { Loader } from '../src/load/loader.js';
import { heldStage, stageRows, type StagedRow, type Warehouse } from '../src/load/warehouse.js';
import { createLogger } from '../src/log.js';

const [singerPath = '', database = '', batchText = '100000', memoryLimit = '1GB'] = process.argv.slice(2);
const requestedRows = Number(batchText);
const duckdb = await openDuckDb({ path: database, schema: 'main', memory_limit: memoryLimit });
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

// The records are kept in tables of the baseline's own file (not temporary ones), so that at 1M
// rows they can leave the buffer pool instead of filling memory_limit.

await duckdb.execute(
  `CREATE TABLE _bench_messages AS SELECT row_number() OVER () AS n, json FROM read_ndjson_objects(${literal(singerPath)})`,
);
await duckdb.execute(
  `CREATE TABLE _bench_records AS SELECT row_number() OVER (ORDER BY n) AS n, json->'record' AS json FROM _bench_messages WHERE json->>'type' = 'RECORD'`,
);
const [{ schemaText } = { schemaText: '{}' }] = (await duckdb.query(
  `SELECT CAST(json->'schema' AS VARCHAR) AS "schemaText" FROM _bench_messages WHERE json->>'type' = 'SCHEMA' ORDER BY n DESC LIMIT 1`,
)) as { schemaText: string }[];
await duckdb.execute('DROP TABLE _bench_messages');
const schema = JSON.parse(schemaText) as JsonSchema;
const [{ total } = { total: 0 }] = (await duckdb.query('SELECT COUNT(*) AS total FROM _bench_records')) as { total: number }[];
// Batches of the size target-invoca commits: as many rows as its share of DuckDB's pool takes
// (the records' average size), at most batch_rows.
const { batchLimits, ...engine } = duckdb;
const [{ averageBytes } = { averageBytes: 0 }] = (await duckdb.query(
  'SELECT AVG(strlen(CAST(json AS VARCHAR))) AS "averageBytes" FROM _bench_records',
)) as { averageBytes: number }[];
const limits = batchLimits?.(dataColumns(schema, duckdb.dialect).length);
const batchRows = Math.min(
  requestedRows,
  limits ? Math.max(1, Math.floor(limits.bytes / limits.bytesOfRow(Number(averageBytes)))) : requestedRows,
);
let offset = 0;
// The same warehouse, except that the stage is filled by DuckDB from the file it read (so not
// through the appender): the loader is handed no rows, only their count.
const warehouse: Warehouse = {
  ...engine,
  openStage: async (plan) =>
    heldStage(async (rows) => {
      // The loader's retry of a batch that did not fit memory_limit hands back real rows, in halves.
      if (rows[0] !== undefined) return stageRows(duckdb, plan, rows);
      await duckdb.execute(
        `CREATE TEMP TABLE ${plan.stage} AS SELECT json->>'transaction_id' AS transaction_id, CAST(json->>'_invoca_sequence' AS BIGINT) AS _invoca_sequence, ` +
          `CAST(json AS VARCHAR) AS _invoca_raw FROM _bench_records WHERE n > ${offset} AND n <= ${offset + batchRows}`,
      );
    }),
};
const loader = new Loader(warehouse, createLogger({ sink: () => undefined }));
for (offset = 0; offset < Number(total); offset += batchRows) {
  const size = Math.min(batchRows, Number(total) - offset);
  // The loader only counts the rows it is given; the stage above holds them.
  await loader.loadBatch(schema, new Array<StagedRow>(size));
}
await duckdb.close();
