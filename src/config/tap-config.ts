/**
 * The tap's config: read, validated against schemas/tap-config.json (defaults filled in), and
 * turned into typed settings. Every problem is a ConfigError naming the field.
 */
import { ConfigError } from '../errors.js';
import type { AccountType } from '../invoca/columns.js';
import { ACCEPTED_SPELLINGS, toTransactionTypeFilter, type TransactionTypeFilter } from '../stream/transaction-types.js';
import { TAP_CONFIG_SCHEMA, type TapConfigFile } from './schemas.js';
import { endpointProblem } from './endpoints.js';
import { parseConfig, type ParsedConfig } from './parsed.js';
import type { Redactor } from './redact.js';
import { secretValues } from './secrets.js';
import { unknownKeyWarnings, validated, withoutNulls } from './validate.js';
import { MERGE_API_COLUMNS } from '../stream/merge-fields.js';
import { BASE_SCHEMA } from '../stream/schema.js';
import {
  expandPersonalColumns,
  HASH_KEY_MAX_BYTES,
  HASH_KEY_MIN_BYTES,
  PERSONAL_COLUMNS_CONSTANT,
  type HashSettings,
} from '../tap/protect.js';

export { TAP_CONFIG_SCHEMA };

export interface TapConfig {
  apiToken: string;
  accountId: string;
  accountType: AccountType;
  baseUrl: string;
  apiVersion: string;
  pageSize: number;
  /** `YYYY-MM-DD`: the date part of `start_date`. */
  startDate: string | undefined;
  /** Parallel date windows for a first sync with a start date; undefined: the cursor walk. */
  backfillConcurrency: number | undefined;
  includeColumns: string[];
  /** With $invoca_personal_columns expanded: Invoca knows no such constant. */
  excludeColumns: string[];
  /** What the tap hashes before writing (protect.ts); undefined: nothing. */
  hash: HashSettings | undefined;
  transactionTypes: TransactionTypeFilter[];
  requestTimeoutMs: number;
  maxRetries: number;
  retryInitialDelayMs: number;
  /** Invoca's polling floor between runs, and the interval of `--follow`. */
  minPollIntervalSeconds: number;
  /** The most one API response may hold. */
  maxResponseBytes: number;
  /** --follow gives up after this many failed polls in a row. */
  maxConsecutiveFailedPolls: number;
  /** Where --follow serves /metrics and /healthz (undefined: nowhere). */
  metricsPort: number | undefined;
  /** /healthz is 503 once the last successful poll is older than this. */
  healthMaxAgeSeconds: number;
}

/** A config ready to use: its settings, the warnings to log, and the redactor for its secrets. */
/** Invoca's FAQ: poll at any interval above five minutes (docs/design.md, "Invoca's Transactions API"). */
export const INVOCA_POLL_FLOOR_SECONDS = 300;

/**
 * Pure: validates a parsed config object. `source` names the file in messages. Every message it
 * throws is redacted already: it is built before any logger exists.
 */
export function parseTapConfig(raw: unknown, source = 'the config'): ParsedConfig<TapConfig> {
  return parseConfig(tapSecrets(raw), source, (redact) => checkTapConfig(raw, redact));
}

function checkTapConfig(raw: unknown, redact: Redactor): { config: TapConfig; warnings: string[] } {
  if (raw === undefined) throw new ConfigError('config is empty; it needs at least api_token and account_id');
  // A copy: ajv fills defaults in place, and the caller's object stays as it was.
  const value: unknown = withoutNulls(raw);
  const result = validated<TapConfigFile>(TAP_CONFIG_SCHEMA, value, 'config', redact);
  if ('problem' in result) throw new ConfigError(`${result.problem}`);
  const checked = result.value;
  const warnings = unknownKeyWarnings(checked, Object.keys(TAP_CONFIG_SCHEMA.properties), 'config');
  const endpoint = endpointProblem(checked.base_url, "config field 'base_url'", 'API token', { hostOnly: true });
  if (endpoint) throw new ConfigError(`${endpoint}`);
  const unknownType = checked.transaction_types.find((type) => toTransactionTypeFilter(type) === undefined);
  if (unknownType !== undefined) {
    throw new ConfigError(
      `config field 'transaction_types' has ${JSON.stringify(unknownType.slice(0, 40))}, which is no transaction type; use ${ACCEPTED_SPELLINGS}`,
    );
  }
  if (checked.min_poll_interval_seconds < INVOCA_POLL_FLOOR_SECONDS && isInvocaHost(checked.base_url)) {
    throw new ConfigError(
      `config field 'min_poll_interval_seconds' is ${checked.min_poll_interval_seconds}, below Invoca's floor of ${INVOCA_POLL_FLOOR_SECONDS} seconds for ${checked.base_url}`,
    );
  }
  if (checked.start_date !== undefined && !isCalendarDay(checked.start_date.slice(0, 10))) {
    throw new ConfigError(`config field 'start_date' is not a real date (got "${checked.start_date}")`);
  }
  const hash = hashSettings(checked);
  if (!hash && checked.hash_key !== undefined)
    warnings.push("config field 'hash_key' is set but hash_columns names no column: nothing is hashed");
  return {
    config: {
      apiToken: checked.api_token,
      accountId: String(checked.account_id),
      accountType: checked.account_type,
      baseUrl: checked.base_url.replace(/\/+$/, ''),
      apiVersion: checked.api_version,
      pageSize: checked.page_size,
      startDate: checked.start_date?.slice(0, 10),
      backfillConcurrency: checked.backfill_concurrency,
      includeColumns: checked.include_columns,
      excludeColumns: expandPersonalColumns(checked.exclude_columns),
      hash,
      transactionTypes: [...new Set(checked.transaction_types.map((type) => toTransactionTypeFilter(type) as TransactionTypeFilter))],
      requestTimeoutMs: checked.request_timeout_seconds * 1000,
      maxRetries: checked.max_retries,
      retryInitialDelayMs: checked.retry_initial_delay_seconds * 1000,
      minPollIntervalSeconds: checked.min_poll_interval_seconds,
      maxResponseBytes: checked.max_response_mb * 1024 * 1024,
      maxConsecutiveFailedPolls: checked.max_consecutive_failed_polls ?? failedPollsInAnHour(checked.min_poll_interval_seconds),
      metricsPort: checked.metrics_port,
      healthMaxAgeSeconds: checked.health_max_age_seconds ?? Math.max(900, 3 * checked.min_poll_interval_seconds),
    },
    warnings,
  };
}

/**
 * `hash_columns` with its key: a key of 32 to 64 bytes is required as soon as one column is
 * named; the merge's own columns and money cannot be hashed (the merge joins and sums them).
 */
function hashSettings(checked: TapConfigFile): HashSettings | undefined {
  const columns = expandPersonalColumns(checked.hash_columns);
  if (columns.length === 0) return undefined;
  const key = checked.hash_key;
  if (key === undefined) throw new ConfigError("config field 'hash_key' is required when hash_columns names a column");
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes < HASH_KEY_MIN_BYTES || bytes > HASH_KEY_MAX_BYTES) {
    throw new ConfigError(
      `config field 'hash_key' is ${bytes < HASH_KEY_MIN_BYTES ? 'shorter' : 'longer'} than it may be: it must be ${HASH_KEY_MIN_BYTES} to ${HASH_KEY_MAX_BYTES} bytes; make one with: openssl rand -hex 32`,
    );
  }
  const unhashable = columns.find((column) => MERGE_API_COLUMNS.includes(column) || isMoney(column));
  if (unhashable !== undefined) {
    throw new ConfigError(
      `config field 'hash_columns' names '${unhashable.slice(0, 80)}', which the correction merge ${isMoney(unhashable) ? 'sums' : 'reads'}: it cannot be hashed`,
    );
  }
  const named = checked.hash_columns.filter((column) => column !== PERSONAL_COLUMNS_CONSTANT);
  return { columns, named, key, phoneCountryCode: String(checked.phone_country_code) };
}

/** A documented number field (money): summed per call, never text. */
function isMoney(column: string): boolean {
  const type = BASE_SCHEMA.properties?.[column]?.type;
  return (Array.isArray(type) ? type : [type]).includes('number');
}

/** An hour of polls at the interval (--follow polls at least a second apart). */
export function failedPollsInAnHour(minPollIntervalSeconds: number): number {
  return Math.ceil(3600 / Math.max(1, minPollIntervalSeconds));
}

/** The secrets of a raw (not yet validated) config, for the redactor: set before validation can fail. */
export function tapSecrets(rawConfig: unknown): string[] {
  return secretValues(TAP_CONFIG_SCHEMA, rawConfig);
}

/** Invoca itself (invoca.net and its subdomains), where its polling floor applies. */
function isInvocaHost(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'invoca.net' || host.endsWith('.invoca.net');
}

/** A real calendar day: JavaScript's Date.parse rolls 2026-02-31 over into March instead of failing. */
function isCalendarDay(day: string): boolean {
  const parsed = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(parsed) && new Date(parsed).toISOString().slice(0, 10) === day;
}
