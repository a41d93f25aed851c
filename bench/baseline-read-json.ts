/**
 * The loader's floor: DuckDB alone reads the records of the same Singer file with its own JSON
 * reader and writes them into one table (no merge, no raw JSON kept): what a load can cost at
 * the least on this machine.
 *
 *   node dist/bench/baseline-read-json.js <singer.jsonl> <database>
 */
import { openDuckDb } from '../src/load/duckdb-warehouse.js';

const [singerPath = '', database = ''] = process.argv.slice(2);
const duckdb = await openDuckDb({ path: database, schema: 'main' });
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
await duckdb.execute(`CREATE TABLE records AS SELECT record.* FROM read_json_auto(${literal(singerPath)}) WHERE "type" = 'RECORD'`);
await duckdb.close();
