/**
 * The loader's baseline: DuckDB itself reads the records' NDJSON file (`read_ndjson_objects`,
 * DuckDB's own JSON reader, no Node in the way) and then runs the very same merge statements as
 * target-invoca, batch by batch, through the same Loader. Only how the stage is filled differs.
 *
 *   node dist/bench/baseline-loader.js <records.ndjson> <schema.json> <database> <batch_rows> <memory_limit>
 */
import { readFileSync } from 'node:fs';
import type { JsonSchema } from '../src/config/validate.js';
import { openDuckDb } from '../src/load/duckdb-warehouse.js';
import { Loader } from '../src/load/loader.js';
import type { StagedRow, Warehouse } from '../src/load/warehouse.js';
import { createLogger } from '../src/log.js';

const [recordsPath = '', schemaPath = '', database = '', batchText = '100000', memoryLimit = '1GB'] = process.argv.slice(2);
const batchRows = Number(batchText);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as JsonSchema;
const duckdb = await openDuckDb({ path: database, schema: 'main', memory_limit: memoryLimit });
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

await duckdb.execute(
  `CREATE TEMP TABLE _bench_records AS SELECT row_number() OVER () AS n, json FROM read_ndjson_objects(${literal(recordsPath)})`,
);
const [{ total } = { total: 0 }] = (await duckdb.query('SELECT COUNT(*) AS total FROM _bench_records')) as { total: number }[];
let offset = 0;
// The same warehouse, except that the stage is filled by DuckDB from the file it read.
const warehouse: Warehouse = {
  ...duckdb,
  async stage(plan) {
    await duckdb.execute(
      `CREATE TEMP TABLE ${plan.stage} AS SELECT json->>'transaction_id' AS transaction_id, CAST(json->>'_invoca_sequence' AS BIGINT) AS _invoca_sequence, ` +
        `CAST(json AS VARCHAR) AS _invoca_raw FROM _bench_records WHERE n > ${offset} AND n <= ${offset + batchRows}`,
    );
  },
};
const loader = new Loader(warehouse, createLogger({ sink: () => undefined }));
for (offset = 0; offset < Number(total); offset += batchRows) {
  const size = Math.min(batchRows, Number(total) - offset);
  // The loader only counts the rows it is given; the stage above holds them.
  await loader.loadBatch(schema, new Array<StagedRow>(size));
}
await duckdb.close();
