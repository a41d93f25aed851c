/**
 * target-invoca's config, validated against schemas/loader-config.json. Every problem is a
 * ConfigError naming the field; unknown keys are warnings.
 */
import { ConfigError } from '../errors.js';
import type { DuckDbSettings } from '../load/duckdb-warehouse.js';
import { packageJson } from '../paths.js';
import { readJsonFile } from './files.js';
import { firstSchemaProblem, unknownKeyWarnings, withoutNulls, type JsonSchema } from './validate.js';

export const LOADER_CONFIG_SCHEMA = packageJson<JsonSchema>('schemas/loader-config.json');

/** Checked only for the engine in use: the other engines' objects may be empty (Meltano writes them). */
const REQUIRED_BY_ENGINE = {
  bigquery: ['project_id', 'dataset'],
  snowflake: ['account', 'user', 'database', 'schema'],
} as const;

export interface LoaderConfig {
  engine: 'duckdb' | 'bigquery' | 'snowflake';
  duckdb: DuckDbSettings;
  bigquery?: Record<string, unknown>;
  snowflake?: Record<string, unknown> & { password?: string; private_key_passphrase?: string };
  batch_size_rows: number;
  batch_max_seconds: number;
  source_table?: string;
}

export async function loadLoaderConfig(path: string): Promise<{ config: LoaderConfig; warnings: string[]; raw: unknown }> {
  const raw = await readJsonFile(path, 'config', (message, options) => new ConfigError(message, options));
  return { ...parseLoaderConfig(raw, path), raw };
}

export function parseLoaderConfig(raw: unknown, source = 'the config'): { config: LoaderConfig; warnings: string[] } {
  const value: unknown = withoutNulls(raw ?? {});
  const problem = firstSchemaProblem(LOADER_CONFIG_SCHEMA, value, 'config');
  if (problem) throw new ConfigError(`${problem}; fix it in ${source}`);
  const config = value as LoaderConfig;
  const warnings = unknownKeyWarnings(value as Record<string, unknown>, Object.keys(LOADER_CONFIG_SCHEMA.properties ?? {}), 'config');
  if (config.engine !== 'duckdb') {
    const settings = config[config.engine] ?? {};
    const missing = REQUIRED_BY_ENGINE[config.engine].find((key) => settings[key] === undefined);
    if (missing)
      throw new ConfigError(
        `config field '${config.engine}.${missing}' is required when engine is '${config.engine}'; fix it in ${source}`,
      );
  }
  return { config, warnings };
}
