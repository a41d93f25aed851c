/**
 * BigQuery through @google-cloud/bigquery: the batch is loaded as NDJSON by a load job into a
 * fresh stage table that expires by itself, then the merge runs as one multi-statement
 * transaction (BigQuery has no interactive transactions: the whole batch is one script, which
 * BigQuery rolls back if any statement fails). DDL stays outside the script, as BigQuery requires.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigQuery, type BigQueryOptions, type Job, type JobMetadata, type Query } from '@google-cloud/bigquery';
import { WarehouseError } from '../errors.js';
import { PACKAGE_VERSION } from '../paths.js';
import type { MergePlan } from './plan.js';
import { BIGQUERY_STAGE_FIELDS, bigqueryDialect, mergeScript } from './sql/bigquery.js';

export { SCRIPT_REPEATS, mergeScript } from './sql/bigquery.js';
import type { Logger } from '../log.js';
import {
  heldStage,
  retryConflicts,
  type StagedRow,
  type StatementCost,
  type Warehouse,
  statementExcerpt,
  type ConflictRetry,
} from './warehouse.js';

export interface BigQuerySettings {
  project_id: string;
  dataset: string;
  location?: string | undefined;
  credentials_path?: string | undefined;
  /** The service account key as JSON text (parseLoaderConfig checked that it parses). */
  credentials_json?: string | undefined;
  api_endpoint?: string | undefined;
  maximum_bytes_billed?: number | undefined;
  job_timeout_seconds?: number | undefined;
}

/** Options of every job the loader runs: labels to find and bill it by, its timeout, and the bytes-billed cap of a query. */
export interface JobGuards {
  labels: Record<string, string>;
  jobTimeoutMs: number;
  maximumBytesBilled?: string;
}

/**
 * The labels and limits of the loader's jobs (pure). Label values may hold lower-case letters,
 * digits, `_` and `-` only, up to 63 characters.
 */
export function jobGuards(settings: BigQuerySettings, version: string, runId: string): JobGuards {
  const label = (value: string): string =>
    value
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 63);
  return {
    labels: { app: 'target-invoca', version: label(version), run: label(runId) },
    jobTimeoutMs: (settings.job_timeout_seconds ?? 3600) * 1000,
    ...(settings.maximum_bytes_billed === undefined ? {} : { maximumBytesBilled: String(settings.maximum_bytes_billed) }),
  };
}

/** What a failed job means to the user: the setting to raise when one of the guards stopped it. */
export function jobFailure(text: string, settings: BigQuerySettings): string {
  if (/bytesBilledLimitExceeded|exceeded limit for bytes billed/i.test(text)) {
    return `a statement would bill more bytes than bigquery.maximum_bytes_billed (${settings.maximum_bytes_billed ?? 'unset'}) allows: raise it (BigQuery: ${text})`;
  }
  if (/timed out|jobTimeoutMs/i.test(text)) {
    return `a job ran longer than bigquery.job_timeout_seconds (${settings.job_timeout_seconds ?? 3600}) and BigQuery cancelled it; the batch was rolled back (BigQuery: ${text})`;
  }
  return text;
}

const STAGE_TTL_MS = 6 * 3_600_000;
const MAX_JOBS_KEPT = 500;

/** A query job's cost from its metadata (jobs.get / jobs.list). */
export function jobCost(metadata: JobMetadata): StatementCost {
  const statistics = metadata.statistics ?? {};
  const started = Number(statistics.startTime ?? 0);
  const ended = Number(statistics.endTime ?? started);
  return {
    statement: statementExcerpt(metadata.configuration?.query?.query ?? metadata.statistics?.query?.statementType ?? '?'),
    ms: Math.max(0, ended - started),
    bytes: Number(statistics.query?.totalBytesBilled ?? 0),
    slotMs: Number(statistics.totalSlotMs ?? statistics.query?.totalSlotMs ?? 0),
  };
}
/** Errors BigQuery answers when concurrent DML on a table collide: the batch is safe to run again. */
export const CONCURRENT_DML = /Could not serialize access|concurrent update|Transaction is aborted due to concurrent update/i;

export interface BigQueryBehaviour {
  logger?: Logger | undefined;
  /** Runs of a batch's script again after a concurrent-DML conflict (default 5). */
  conflictRetries?: number;
  conflictDelayMs?: number;
}

/** The client's options from the settings: where the jobs run and which credentials they use. */
export function bigQueryClientOptions(settings: BigQuerySettings): BigQueryOptions {
  return {
    projectId: settings.project_id,
    ...(settings.location ? { location: settings.location } : {}),
    ...(settings.credentials_path ? { keyFilename: settings.credentials_path } : {}),
    ...(settings.credentials_json
      ? { credentials: JSON.parse(settings.credentials_json) as NonNullable<BigQueryOptions['credentials']> }
      : {}),
    ...(settings.api_endpoint ? { apiEndpoint: settings.api_endpoint } : {}),
  };
}

export async function openBigQuery(
  settings: BigQuerySettings,
  clientOptions: Partial<BigQueryOptions> = {},
  behaviour: BigQueryBehaviour = {},
): Promise<Warehouse> {
  const client = new BigQuery({ ...bigQueryClientOptions(settings), ...clientOptions });
  const dialect = bigqueryDialect(settings.project_id, settings.dataset);
  const dataset = client.dataset(settings.dataset);
  const runId = randomBytes(4).toString('hex');
  let stageCount = 0;
  // Each plan's stage table by its name as SQL: every batch loads its own (a load job creates it).
  const stageTables = new Map<string, string>();

  // Jobs run where the dataset is: the configured location, else the dataset's own (a dataset in
  // the EU cannot be queried from the default US), else BigQuery's default for a new dataset.
  let location = settings.location;

  const guards = jobGuards(settings, PACKAGE_VERSION, runId);
  const jobOptions = (sql: string): Query => ({ query: sql, ...guards, ...(location ? { location } : {}) });

  // The jobs of this client, newest last, for statementCosts (a bounded number).
  const jobs: { job: Job; startedAt: number }[] = [];
  const startJob = async (sql: string): Promise<Job> => {
    const startedAt = performance.now();
    const [job] = await client.createQueryJob(jobOptions(sql));
    jobs.push({ job, startedAt });
    if (jobs.length > MAX_JOBS_KEPT) jobs.shift();
    return job;
  };

  const run = async (sql: string): Promise<number> => {
    try {
      const job = await startJob(sql);
      await job.getQueryResults();
      const affected = job.metadata?.statistics?.query?.numDmlAffectedRows;
      return affected === undefined ? 0 : Number(affected);
    } catch (error) {
      const text = message(error);
      throw new WarehouseError(`BigQuery failed: ${jobFailure(text, settings)} (in: ${statementExcerpt(sql)})`, {
        cause: error,
        retryable: CONCURRENT_DML.test(text),
      });
    }
  };

  // A script's rows are those of its last statement.
  const query = async (sql: string): Promise<Record<string, unknown>[]> => {
    try {
      const [rows] = await (await startJob(sql)).getQueryResults();
      return rows as Record<string, unknown>[];
    } catch (error) {
      const text = message(error);
      throw new WarehouseError(`BigQuery failed: ${jobFailure(text, settings)}`, { cause: error, retryable: CONCURRENT_DML.test(text) });
    }
  };

  /** A batch into its stage table: NDJSON in a temporary file, one load job, the table created first with an expiry. */
  const loadStage = async (stageTable: string, rows: readonly StagedRow[]): Promise<void> => {
    const directory = await mkdtemp(join(tmpdir(), 'target-invoca-bq-'));
    const file = join(directory, 'batch.ndjson');
    try {
      await writeFile(
        file,
        rows
          .map((row) => JSON.stringify({ transaction_id: row.transactionId, _invoca_sequence: row.sequence, _invoca_raw: row.raw }))
          .join('\n'),
      );
      const [table] = await dataset.createTable(stageTable, {
        schema: { fields: BIGQUERY_STAGE_FIELDS.map((field) => ({ ...field })) },
        // A crashed run leaves no stage behind for long.
        expirationTime: String(Date.now() + STAGE_TTL_MS),
      });
      // (The client's load takes the load configuration only: no labels or timeout on this job.)
      const [job] = await table.load(file, { sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_APPEND' });
      const errors = (job as { status?: { errorResult?: { message?: string } } }).status?.errorResult;
      if (errors) throw new WarehouseError(`BigQuery load job into ${stageTable} failed: ${errors.message ?? 'unknown error'}`);
    } catch (error) {
      if (error instanceof WarehouseError) throw error;
      throw new WarehouseError(`BigQuery could not stage the batch: ${message(error)}`, { cause: error });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  };

  // Another job's DML on the same table (a second target, a dbt run) aborts a script: BigQuery
  // rolled it back whole, so it runs again after a wait.
  const conflictPolicy = (what: string): ConflictRetry => ({
    retries: behaviour.conflictRetries ?? 5,
    initialDelayMs: behaviour.conflictDelayMs ?? 2_000,
    onRetry: (error, retry, delayMs) =>
      behaviour.logger?.warn(
        `${error.message.split(' (in: ')[0]}; running ${what} again (retry ${retry}) in ${(delayMs / 1000).toFixed(1)}s`,
      ),
  });

  try {
    const [existing] = await dataset.get({ autoCreate: true, ...(location ? { location } : {}) });
    const found = (existing.metadata as { location?: unknown } | undefined)?.location;
    if (!location && typeof found === 'string' && found !== '') {
      location = found;
      behaviour.logger?.info(`BigQuery dataset ${settings.project_id}.${settings.dataset} is in ${found}: its jobs run there`);
    }
  } catch (error) {
    throw new WarehouseError(`cannot open BigQuery dataset ${settings.project_id}.${settings.dataset}: ${message(error)}`, {
      cause: error,
    });
  }

  return {
    dialect,
    // Whoever may write the file or dataset may alter its tables.
    ownershipProblems: async () => [],
    async identity() {
      // SESSION_USER() is the principal the jobs run as; a client that may not query says so.
      const who = await query('SELECT SESSION_USER() AS who').then(
        (rows) => String(rows[0]?.['who'] ?? 'unknown'),
        (error: unknown) => `unknown (SESSION_USER() failed: ${message(error)})`,
      );
      return { who, where: `dataset ${settings.project_id}.${settings.dataset}, location ${location ?? "BigQuery's default"}` };
    },
    async statementCosts(fromMs, toMs) {
      const costs: StatementCost[] = [];
      for (const { job, startedAt } of jobs) {
        if (startedAt < fromMs || startedAt > toMs) continue;
        const [metadata] = await job.getMetadata();
        // jobs.list's default projection leaves out each job's configuration (its SQL).
        const children =
          Number(metadata.statistics?.numChildJobs ?? 0) > 0
            ? (await client.getJobs({ parentJobId: job.id ?? '', projection: 'full' }))[0]
            : [job];
        // jobs.list gives a script's children newest first.
        const ordered = [...children].sort(
          (a, b) => Number(a.metadata?.statistics?.startTime ?? 0) - Number(b.metadata?.statistics?.startTime ?? 0),
        );
        for (const child of ordered) costs.push(jobCost(child.metadata ?? {}));
      }
      return costs;
    },
    async columns(table) {
      try {
        const [metadata] = await dataset.table(table).getMetadata();
        const fields = (metadata as { schema?: { fields?: { name: string }[] } }).schema?.fields ?? [];
        return new Set(fields.map((field) => field.name));
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw new WarehouseError(`BigQuery failed to read table ${table}: ${message(error)}`, { cause: error });
      }
    },
    async findTable(table, datasetId = settings.dataset) {
      // BigQuery's dataset and table names are case-sensitive: the name as given.
      try {
        const [metadata] = await client.dataset(datasetId).table(table).getMetadata();
        const fields = (metadata as { schema?: { fields?: { name: string }[] } }).schema?.fields ?? [];
        return {
          sql: `${dialect.quoteStored(settings.project_id)}.${dialect.quoteStored(datasetId)}.${dialect.quoteStored(table)}`,
          columns: new Set(fields.map((field) => field.name)),
        };
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw new WarehouseError(`BigQuery failed to read table ${datasetId}.${table}: ${message(error)}`, { cause: error });
      }
    },
    execute: run,
    newStageName() {
      const table = `_invoca_stage_${runId}_${++stageCount}`;
      const sql = dialect.table(table);
      stageTables.set(sql, table);
      return sql;
    },
    async openStage(plan: MergePlan) {
      const stageTable = stageTables.get(plan.stage);
      if (stageTable === undefined) throw new Error(`no BigQuery stage is named ${plan.stage}: take the plan's stage from newStageName()`);
      return heldStage((rows) => loadStage(stageTable, rows));
    },
    async runMerge(merge) {
      // A script reports no per-statement counts: the loader logs them as unknown.
      const script = mergeScript(merge, dialect.callDates?.declare);
      const rows = await retryConflicts(async () => {
        try {
          return await query(script);
        } catch (error) {
          throw error instanceof WarehouseError
            ? new WarehouseError(`${error.message} (in: ${statementExcerpt(script)})`, { cause: error.cause, retryable: error.retryable })
            : error;
        }
      }, conflictPolicy('the merge'));
      return { changed: undefined, rows };
    },
    query,
    async close() {
      // The client holds no connection to close.
    },
  };
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
