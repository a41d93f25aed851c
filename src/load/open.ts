import type { LoaderConfig } from '../config/loader-config.js';
import { ConfigError } from '../errors.js';
import { openBigQuery, type BigQuerySettings } from './bigquery-warehouse.js';
import { openDuckDb } from './duckdb-warehouse.js';
import type { Warehouse } from './warehouse.js';

/** The warehouse client for the configured engine. */
export async function openWarehouse(config: LoaderConfig): Promise<Warehouse> {
  switch (config.engine) {
    case 'duckdb':
      return openDuckDb(config.duckdb);
    case 'bigquery':
      return openBigQuery(config.bigquery as unknown as BigQuerySettings);
    case 'snowflake':
      throw new ConfigError(
        `config field 'engine': 'snowflake' has its SQL dialect but no client in this version yet; use 'duckdb' or 'bigquery' (see the README's table of engines)`,
      );
  }
}
