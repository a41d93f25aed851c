/**
 * target-invoca's config, validated against schemas/loader-config.json. Every problem is a
 * ConfigError naming the field (already redacted); unknown top-level keys are warnings.
 */
import { ConfigError } from '../errors.js';
import { memoryLimitProblem } from '../load/memory-budget.js';
import { endpointProblem, isLoopbackHost } from './endpoints.js';
import { parseJsonText } from './files.js';
import { parseConfig, type ParsedConfig } from './parsed.js';
import { LOADER_CONFIG_SCHEMA, type LoaderConfigFile } from './schemas.js';
import { secretValues } from './secrets.js';
import { unknownKeyWarnings, validated, withoutNulls } from './validate.js';

export { LOADER_CONFIG_SCHEMA };

/** The warehouses that are configured in a block of their own, besides the embedded default. */
const WAREHOUSE_ENGINES = ['bigquery', 'snowflake'] as const;

/** Checked only for the engine in use: the other engines' objects may be empty (Meltano writes them). */
const REQUIRED_BY_ENGINE = {
  bigquery: ['project_id', 'dataset'],
  snowflake: ['account', 'user', 'database', 'schema'],
} as const;

/** A loader config after validation, defaults filled in (the type is the schema's, src/config/schemas.ts). */
export type LoaderConfig = LoaderConfigFile;

/** Pure: validates a parsed loader config; `source` names the file in messages. */
export function parseLoaderConfig(raw: unknown, source = 'the config'): ParsedConfig<LoaderConfig> {
  return parseConfig(loaderSecrets(raw), source, (redact) => {
    const value: unknown = withoutNulls(raw ?? {});
    const engineWarnings = checkEngine(value);
    checkSnowflakeAccount(value);
    const result = validated<LoaderConfig>(LOADER_CONFIG_SCHEMA, value, 'config', redact);
    if ('problem' in result) throw new ConfigError(result.problem);
    const config = result.value;
    const warnings = [...engineWarnings, ...unknownKeyWarnings(config, Object.keys(LOADER_CONFIG_SCHEMA.properties), 'config')];
    if (config.engine === 'bigquery' && config.bigquery) splitDataset(config.bigquery);
    if (config.engine !== 'duckdb') {
      const settings: Readonly<Record<string, unknown>> = config[config.engine] ?? {};
      const missing = REQUIRED_BY_ENGINE[config.engine].find((key) => settings[key] === undefined);
      if (missing) throw new ConfigError(`config field '${config.engine}.${missing}' is required when engine is '${config.engine}'`);
    }
    if (config.engine === 'snowflake' && config.snowflake) warnings.push(...checkSnowflake(config.snowflake));
    if (config.engine === 'bigquery' && config.bigquery) checkBigQuery(config.bigquery);
    const memoryProblem = config.engine === 'duckdb' && config.duckdb?.memory_limit && memoryLimitProblem(config.duckdb.memory_limit);
    if (memoryProblem) throw new ConfigError(memoryProblem);
    return { config, warnings };
  });
}

/** The secrets of a raw (not yet validated) loader config, for the redactor. */
export function loaderSecrets(rawConfig: unknown): string[] {
  return secretValues(LOADER_CONFIG_SCHEMA, rawConfig);
}

function isFilledObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0;
}

/**
 * `engine` defaults to duckdb, so a config written for a warehouse that forgets it (or names the
 * other one) would load into a local file while the user believes the rows went to BigQuery.
 */
function checkEngine(value: unknown): string[] {
  if (!isFilledObject(value)) return [];
  const blocks = WAREHOUSE_ENGINES.filter((engine) => isFilledObject(value[engine]));
  const engine = value['engine'];
  const [first] = blocks;
  if (engine === undefined && first) {
    throw new ConfigError(
      `config has ${blocks.map((block) => `'${block}'`).join(' and ')} settings but no 'engine', which would load into a local DuckDB file; set "engine": "${first}"`,
    );
  }
  if ((engine === 'bigquery' || engine === 'snowflake') && !isFilledObject(value[engine]) && first) {
    throw new ConfigError(
      `config field 'engine' is '${engine}' but the config has '${first}' settings and no '${engine}' ones; set "engine": "${first}", or add the '${engine}' settings`,
    );
  }
  if (engine === 'duckdb' && first) return [`config has '${first}' settings, which are ignored: engine is 'duckdb'`];
  return [];
}

/** An account given as a URL (copied from the browser) gets the identifier in it suggested. */
function checkSnowflakeAccount(value: unknown): void {
  const snowflake = isFilledObject(value) ? value['snowflake'] : undefined;
  const account = isFilledObject(snowflake) ? snowflake['account'] : undefined;
  if (typeof account !== 'string' || !/:\/\/|snowflakecomputing\.com/i.test(account)) return;
  // The identifier is read from the host name alone: a pasted URL may hold a user and password.
  let host = account;
  try {
    host = new URL(account.includes('://') ? account : `https://${account}`).hostname;
  } catch {
    host = '';
  }
  const identifier = /^([a-z0-9_.-]+?)\.snowflakecomputing\.com$/i.exec(host)?.[1];
  throw new ConfigError(
    `config field 'snowflake.account' must be an account identifier, not a URL${identifier ? `: use "${identifier}"` : ' (the part before .snowflakecomputing.com)'}`,
  );
}

type SnowflakeBlock = NonNullable<LoaderConfig['snowflake']>;
type BigQueryBlock = NonNullable<LoaderConfig['bigquery']>;

/** Pure: what is wrong with a Snowflake block's choice of credentials (none, or the key twice), if anything. */
export function snowflakeAuthProblem(settings: {
  private_key_path?: string | undefined;
  private_key?: string | undefined;
  password?: string | undefined;
}): string | undefined {
  if (!settings.private_key_path && !settings.private_key && !settings.password)
    return "config field 'snowflake.private_key_path' (key-pair auth) or 'snowflake.password' is required when engine is 'snowflake' (or 'snowflake.private_key', the key as text)";
  if (settings.private_key_path && settings.private_key)
    return "config fields 'snowflake.private_key_path' and 'snowflake.private_key' are the same key twice; keep one";
  return undefined;
}

function checkSnowflake(settings: SnowflakeBlock): string[] {
  const authProblem = snowflakeAuthProblem(settings);
  if (authProblem) throw new ConfigError(authProblem);
  if (settings.private_key !== undefined) {
    // A secret store or an environment variable often hands a PEM over with its newlines as \n.
    settings.private_key = settings.private_key.replace(/\\n/g, '\n').replace(/\r\n?/g, '\n').trim();
    if (!/^-----BEGIN (ENCRYPTED )?PRIVATE KEY-----\n[\s\S]+\n-----END (ENCRYPTED )?PRIVATE KEY-----$/.test(settings.private_key)) {
      throw new ConfigError(
        "config field 'snowflake.private_key' must be a PKCS#8 private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----)",
      );
    }
  }
  if (settings.protocol === 'http' && !(settings.host && isLoopbackHost(settings.host))) {
    throw new ConfigError(
      "config field 'snowflake.protocol' is http, which would send the credentials in cleartext; http is allowed only with a snowflake.host on this machine (127.0.0.1, ::1, localhost): remove protocol",
    );
  }
  return (settings.private_key_path || settings.private_key) && settings.password
    ? ["config has both a private key and 'snowflake.password': key-pair auth is used and the password is not"]
    : [];
}

function checkBigQuery(settings: BigQueryBlock): void {
  if (settings.credentials_json !== undefined) {
    if (settings.credentials_path) {
      throw new ConfigError("config fields 'bigquery.credentials_path' and 'bigquery.credentials_json' are the same key twice; keep one");
    }
    const key = parseJsonText(settings.credentials_json, "config field 'bigquery.credentials_json'", ConfigError);
    const fields = key !== null && typeof key === 'object' && !Array.isArray(key) ? (key as Record<string, unknown>) : {};
    const serviceAccount = fields['type'] === 'service_account';
    if (
      typeof fields['type'] !== 'string' ||
      (serviceAccount && (typeof fields['client_email'] !== 'string' || typeof fields['private_key'] !== 'string'))
    ) {
      throw new ConfigError(
        'config field \'bigquery.credentials_json\' must be the JSON of a service account key file (an object with "type": "service_account", client_email and private_key)',
      );
    }
    // Stored back in its plain form (no byte order mark), which the warehouse client reads as is.
    settings.credentials_json = JSON.stringify(key);
  }
  if (settings.api_endpoint) {
    const problem = endpointProblem(settings.api_endpoint, "config field 'bigquery.api_endpoint'", 'OAuth token', { hostOnly: false });
    if (problem) throw new ConfigError(problem);
  }
}

/** `project.dataset` is split into its parts; its project must be the project the jobs run in. */
function splitDataset(settings: BigQueryBlock): void {
  const dot = settings.dataset?.lastIndexOf('.') ?? -1;
  if (settings.dataset === undefined || dot === -1) return;
  const project = settings.dataset.slice(0, dot);
  const dataset = settings.dataset.slice(dot + 1);
  settings.project_id ??= project;
  if (project !== settings.project_id) {
    throw new ConfigError(
      `config field 'bigquery.dataset' names project '${project}' but project_id is '${settings.project_id}'; the loader writes to the project it runs its jobs in: set dataset to "${dataset}" and project_id to the project that holds it`,
    );
  }
  settings.dataset = dataset;
}
