/**
 * What `duckdb.memory_limit` means: the most the whole target process should hold, not only
 * DuckDB's buffer pool. DuckDB's own `memory_limit` bounds its pool; the process also holds Node
 * (~120 MB of RSS), the memory DuckDB's statements take outside the pool (JSON parsing, hash tables,
 * the compression at COMMIT) and what glibc keeps of it (docs/performance.md). So DuckDB gets a
 * share of the limit, and a batch is cut at what that pool can merge in one transaction.
 */

/** DuckDB's units: KB, MB, GB and TB are powers of 1000, KiB to TiB of 1024 (as `SET memory_limit` reads them). */
const UNITS: Record<string, number> = {
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** A size such as `1GB`, `512 MiB` or `1.5GB` in bytes; undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?) ?([KMGT]i?B)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? '').toUpperCase()];
  const bytes = Number(match[1]) * (unit ?? Number.NaN);
  return Number.isFinite(bytes) ? Math.floor(bytes) : undefined;
}

/** The smallest limit that leaves DuckDB a pool to work in next to Node's own memory. */
export const MIN_MEMORY_LIMIT_BYTES = 400e6;

/** Pure: what is wrong with a `duckdb.memory_limit` setting, as a config error's text; undefined when nothing. */
export function memoryLimitProblem(text: string): string | undefined {
  const bytes = parseSize(text);
  if (bytes === undefined) return "config field 'duckdb.memory_limit' must be a size such as 1GB or 512MB";
  if (bytes < MIN_MEMORY_LIMIT_BYTES)
    return `config field 'duckdb.memory_limit' is below ${MIN_MEMORY_LIMIT_BYTES / 1e6}MB, the least the target process (Node and DuckDB) needs; raise it`;
  return undefined;
}

/** DuckDB's pool: the rest of the limit is Node's and what DuckDB takes outside its pool. */
const POOL_SHARE = 0.6;
/**
 * What a merge transaction takes of the pool whatever its rows (measured with a few columns:
 * rows of 5 KB, 904 of them, did not fit a 153 MB pool; 5,000 fitted a 256 MB pool).
 */
const FIXED_POOL_BYTES = 140e6;
/** The share of the rest a batch may fill: its estimate is rough, an Out of Memory costs a retry. */
const BATCH_SHARE = 0.9;
/**
 * What one row takes of the pool until COMMIT: a value per column (NULL or not) in
 * `transactions_current` and `calls`, and its record text ~3.5 times over (staged, kept as
 * `_invoca_raw`, typed into both tables). The bench's rows (185 columns, 1.8 KB of UTF-8): ~8.9 KB.
 */
const BYTES_PER_COLUMN = 14;
const TEXT_FACTOR = 3.5;

/** A row's estimated share of DuckDB's pool: the tables' data columns, its record text's size in UTF-8 bytes. */
export function poolBytesOfRow(columns: number, textBytes: number): number {
  return columns * BYTES_PER_COLUMN + TEXT_FACTOR * textBytes;
}

export interface MemoryBudget {
  /** DuckDB's own `memory_limit`, in bytes. */
  poolBytes: number;
  /** The most a batch's rows may take of the pool (poolBytesOfRow each). */
  batchBytes: number;
}

export function memoryBudget(limitBytes: number): MemoryBudget {
  const poolBytes = Math.floor(limitBytes * POOL_SHARE);
  return { poolBytes, batchBytes: Math.max(0, Math.floor((poolBytes - FIXED_POOL_BYTES) * BATCH_SHARE)) };
}
