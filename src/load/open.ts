import type { LoaderConfig } from '../config/loader-config.js';
import { ConfigError } from '../errors.js';
import { openDuckDb } from './duckdb-warehouse.js';
import type { Warehouse } from './warehouse.js';

/** The warehouse client for the configured engine. */
export async function openWarehouse(config: LoaderConfig): Promise<Warehouse> {
  switch (config.engine) {
    case 'duckdb':
      return openDuckDb(config.duckdb);
    case 'bigquery':
    case 'snowflake':
      throw new ConfigError(
        `config field 'engine': '${config.engine}' has its SQL dialect but no client in this version yet; use 'duckdb' (see the README's table of engines)`,
      );
  }
}
