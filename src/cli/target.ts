/**
 * `target-invoca`: a Singer target that loads the `transactions` stream into a warehouse and runs
 * the correction merge there. `run` is what the bin calls and what tests call directly.
 */
import type { Readable, Writable } from 'node:stream';
import { readJsonFile } from '../config/files.js';
import { openLoaderConfig } from '../config/open.js';
import type { Redactor } from '../config/redact.js';
import type { JsonSchema } from '../config/validate.js';
import { CatalogError, CheckFailedError, ConfigError } from '../errors.js';
import { checkReportText, firstFailure } from '../check/report.js';
import { runCheck } from '../check/run-check.js';
import { scratchPrefix } from '../check/scratch.js';
import { describeAsText, describeSql } from '../load/describe.js';
import { Loader } from '../load/loader.js';
import { openWarehouse } from '../load/open.js';
import { runTarget } from '../load/target.js';
import { createLogger, type LineSink } from '../log.js';
import { packagePath } from '../paths.js';
import { StreamWriter } from '../protocol/writer.js';
import { cliParser, helpOrVersion } from './parser.js';
import { startMetricsServer } from '../metrics/server.js';
import { TargetMetrics } from '../metrics/target-metrics.js';
import { reportFatal } from './report.js';
import { check, targetOptions, type TargetArgv } from './target-args.js';
import { STREAM } from '../stream/contract.js';

export interface TargetIo {
  stdin: Readable;
  stdout: Writable;
  stderr: LineSink;
  signal?: AbortSignal;
  /** Told the config's redactor once it exists: the bin hides secrets in what it prints outside run(). */
  useRedactor?: (redact: Redactor) => void;
}

const BIN = 'target-invoca';

export async function run(args: string[], io: TargetIo): Promise<number> {
  let redact: Redactor = (text) => text;
  try {
    const parser = cliParser(
      args,
      BIN,
      '$0 --config loader.json < singer-messages\n$0 merge --config loader.json   (merge a raw table another target loaded: source_table)\n' +
        '$0 sql --config loader.json [--catalog catalog.json] [--format text|json]   (print the SQL it runs, connecting to nothing)\n' +
        '$0 check --config loader.json [--format text|json] [--schedule-minutes 5]   (prove grants, merge and cost on your warehouse, in scratch tables)',
      targetOptions,
    );
    const argv: TargetArgv = await parser.parseAsync();
    const mode = check(argv);
    const writer = new StreamWriter(io.stdout);
    if (mode.kind === 'help' || mode.kind === 'version') {
      await writer.write(await helpOrVersion(mode.kind, parser, BIN));
      return 0;
    }
    const opened = await openLoaderConfig(mode.configPath);
    const { config, warnings } = opened;
    redact = opened.redact;
    io.useRedactor?.(redact);
    const logger = createLogger({ sink: io.stderr, redact });
    for (const warning of warnings) logger.warn(warning);
    if (mode.kind === 'sql') {
      const description = describeSql(config, await transactionsSchema(mode.catalogPath));
      await writer.write(mode.format === 'json' ? `${JSON.stringify(description, null, 2)}\n` : describeAsText(description));
      return 0;
    }
    if (mode.kind === 'check') {
      const report = await runCheck({
        open: () => openWarehouse(config, logger),
        engine: config.engine,
        prefix: scratchPrefix(),
        logger,
        signal: io.signal,
        batchesPerDay: Math.round(1440 / mode.scheduleMinutes),
        redact,
      });
      await writer.write(
        mode.format === 'json'
          ? `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value), 2)}\n`
          : redact(checkReportText(report)),
      );
      if (!report.passed) throw new CheckFailedError(firstFailure(report));
      return 0;
    }
    if (mode.kind === 'merge' && !config.source_table) {
      throw new ConfigError(
        `config field 'source_table' is required for target-invoca merge: the raw table another target loaded; add it to ${mode.configPath}`,
      );
    }
    const warehouse = await openWarehouse(config, logger);
    try {
      if (mode.kind === 'merge' && config.source_table) {
        const result = await new Loader(warehouse, logger).mergeFromSource(config.source_table);
        logger.info(`merged ${result.newTransactions} new transactions from ${config.source_table}`);
        return 0;
      }
      const metrics =
        config.metrics_port === undefined
          ? undefined
          : new TargetMetrics(config.health_max_age_seconds ?? Math.max(900, 3 * config.batch_max_seconds), redact);
      const server =
        metrics && (await startMetricsServer({ port: config.metrics_port ?? 0, registry: metrics.registry, health: metrics.health }));
      if (server) logger.info(`serving /metrics and /healthz on port ${server.port}`);
      try {
        const summary = await runTarget(io.stdin, {
          loader: new Loader(warehouse, logger),
          logger,
          batchSizeRows: config.batch_size_rows,
          batchMaxSeconds: config.batch_max_seconds,
          emitState: (line) => writer.write(`${line}\n`),
          signal: io.signal,
          metrics,
        });
        logger.info(
          `done: ${summary.records} records, ${summary.inserted} new transactions, ${summary.batches} batches, ${summary.statesEmitted} states`,
        );
      } finally {
        await server?.close();
      }
    } finally {
      await warehouse.close();
    }
    return 0;
  } catch (error) {
    return reportFatal(BIN, error, redact, io.stderr);
  }
}

/** The schema of the `transactions` stream of a Singer catalog (the shipped catalog.json by default). */
async function transactionsSchema(catalogPath: string | undefined): Promise<JsonSchema> {
  const path = catalogPath ?? packagePath('catalog.json');
  const catalog = await readJsonFile(path, 'catalog');
  const streams = (catalog as { streams?: unknown }).streams;
  const stream = Array.isArray(streams)
    ? (streams as { tap_stream_id?: unknown; stream?: unknown; schema?: unknown }[]).find(
        (entry) => (entry.tap_stream_id ?? entry.stream) === STREAM,
      )
    : undefined;
  if (!stream?.schema || typeof stream.schema !== 'object')
    throw new CatalogError(`--catalog ${path} has no transactions stream with a schema; make one with tap-invoca --discover`);
  return stream.schema as JsonSchema;
}
