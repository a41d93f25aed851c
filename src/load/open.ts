import type { LoaderConfig } from '../config/loader-config.js';
import type { Logger } from '../log.js';
import type { BigQuerySettings } from './bigquery-warehouse.js';
import { openDuckDb } from './duckdb-warehouse.js';
import type { SnowflakeSettings } from './snowflake-warehouse.js';
import type { Warehouse } from './warehouse.js';

/**
 * The warehouse client for the configured engine; the cloud clients load only when used. The
 * engine's settings have their required keys: parseLoaderConfig checks them for the engine in use.
 */
export async function openWarehouse(config: LoaderConfig, logger?: Logger): Promise<Warehouse> {
  switch (config.engine) {
    case 'duckdb':
      return openDuckDb(config.duckdb);
    case 'bigquery': {
      const { openBigQuery } = await import('./bigquery-warehouse.js');
      return openBigQuery(config.bigquery as BigQuerySettings, {}, { logger });
    }
    case 'snowflake': {
      const { openSnowflake } = await import('./snowflake-warehouse.js');
      return openSnowflake(config.snowflake as SnowflakeSettings);
    }
  }
}
