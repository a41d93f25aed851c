/**
 * target-invoca's config, validated against schemas/loader-config.json. Every problem is a
 * ConfigError naming the field; unknown keys are warnings.
 */
import { ConfigError } from '../errors.js';
import { readJsonFile } from './files.js';
import { LOADER_CONFIG_SCHEMA, type LoaderConfigFile } from './schemas.js';
import { secretValues, unknownKeyWarnings, validated, withoutNulls } from './validate.js';

export { LOADER_CONFIG_SCHEMA };

/** Checked only for the engine in use: the other engines' objects may be empty (Meltano writes them). */
const REQUIRED_BY_ENGINE = {
  bigquery: ['project_id', 'dataset'],
  snowflake: ['account', 'user', 'database', 'schema'],
} as const;

/** A loader config after validation, defaults filled in (the type is the schema's, src/config/schemas.ts). */
export type LoaderConfig = LoaderConfigFile;

export async function loadLoaderConfig(path: string): Promise<{ config: LoaderConfig; warnings: string[]; raw: unknown }> {
  const raw = await readJsonFile(path, 'config', (message, options) => new ConfigError(message, options));
  return { ...parseLoaderConfig(raw, path), raw };
}

export function parseLoaderConfig(raw: unknown, source = 'the config'): { config: LoaderConfig; warnings: string[] } {
  const value: unknown = withoutNulls(raw ?? {});
  const result = validated<LoaderConfig>(LOADER_CONFIG_SCHEMA, value, 'config');
  if ('problem' in result) throw new ConfigError(`${result.problem}; fix it in ${source}`);
  const config = result.value;
  const warnings = unknownKeyWarnings(config, Object.keys(LOADER_CONFIG_SCHEMA.properties), 'config');
  if (config.engine !== 'duckdb') {
    const settings: Readonly<Record<string, unknown>> = config[config.engine] ?? {};
    const missing = REQUIRED_BY_ENGINE[config.engine].find((key) => settings[key] === undefined);
    if (missing)
      throw new ConfigError(
        `config field '${config.engine}.${missing}' is required when engine is '${config.engine}'; fix it in ${source}`,
      );
  }
  return { config, warnings };
}

/** The secrets of a raw (not yet validated) loader config, for the redactor. */
export function loaderSecrets(rawConfig: unknown): string[] {
  return secretValues(LOADER_CONFIG_SCHEMA, rawConfig);
}
