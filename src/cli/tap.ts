/**
 * `tap-invoca`: parse argv, load config / catalog / state, run the mode, map errors to exit codes.
 * `run` is what the bin calls and what tests call directly, with their own stdout and signal.
 */
import type { Writable } from 'node:stream';
import { readJsonFile } from '../config/files.js';
import { openTapConfig } from '../config/open.js';
import type { Redactor } from '../config/redact.js';
import { createLogger, type LineSink } from '../log.js';
import { encodeSinger } from '../protocol/singer.js';
import { StreamWriter } from '../protocol/writer.js';
import { aboutJson, aboutMarkdown, aboutText } from '../tap/about.js';
import { buildCatalog, selectionFromCatalog, type Selection } from '../tap/catalog.js';
import { discover, followEvents, SELECT_ALL, syncEvents } from '../tap/session.js';
import { parseState } from '../tap/state.js';
import { cliParser, helpOrVersion } from './parser.js';
import { TapMetrics } from '../metrics/tap-metrics.js';
import { startMetricsServer } from '../metrics/server.js';
import { reportFatal } from './report.js';
import { check, tapOptions, type TapArgv } from './tap-args.js';

export interface TapIo {
  stdout: Writable;
  /** One log line (without newline) for stderr. */
  stderr: LineSink;
  /** Aborted on SIGTERM / SIGINT: the sync ends after the page being written, with its state. */
  signal?: AbortSignal;
  /** Told the config's redactor once it exists: the bin hides secrets in what it prints outside run(). */
  useRedactor?: (redact: Redactor) => void;
}

const BIN = 'tap-invoca';

export async function run(args: string[], io: TapIo): Promise<number> {
  let redact: Redactor = (text) => text;
  try {
    const parser = cliParser(
      args,
      BIN,
      '$0 --config config.json [--catalog catalog.json] [--state state.json] [--follow]\n$0 --config config.json --discover',
      tapOptions,
    );
    const argv: TapArgv = await parser.parseAsync();
    const mode = check(argv);
    const writer = new StreamWriter(io.stdout);
    if (mode.kind === 'help' || mode.kind === 'version') {
      await writer.write(await helpOrVersion(mode.kind, parser, BIN));
      return 0;
    }
    switch (mode.kind) {
      case 'about': {
        const text =
          mode.format === 'json' ? `${JSON.stringify(aboutJson(), null, 2)}\n` : mode.format === 'markdown' ? aboutMarkdown() : aboutText();
        await writer.write(text);
        return 0;
      }
    }
    const opened = await openTapConfig(mode.configPath);
    const { config, warnings } = opened;
    redact = opened.redact;
    io.useRedactor?.(redact);
    const logger = createLogger({ sink: io.stderr, redact });
    for (const warning of warnings) logger.warn(warning);

    if (mode.kind === 'discover') {
      const schema = await discover(config, logger, io.signal);
      await writer.write(`${JSON.stringify(buildCatalog(schema.toJSON()), null, 2)}\n`);
      return 0;
    }

    let selection: Selection = SELECT_ALL;
    let bookmark = parseState(undefined);
    if (mode.kind === 'sync') {
      if (mode.catalogPath !== undefined) {
        selection = selectionFromCatalog(await readJsonFile(mode.catalogPath, 'catalog'));
      }
      if (mode.statePath !== undefined) {
        bookmark = parseState(await readJsonFile(mode.statePath, 'state'), mode.statePath);
      }
      if (!selection.streamSelected) {
        logger.info('the transactions stream is not selected in the catalog: nothing to sync');
        return 0;
      }
    }

    const isTest = mode.kind === 'test';
    const follow = mode.kind === 'sync' && mode.follow;
    if (config.metricsPort !== undefined && !follow) logger.warn('metrics_port is served by --follow only: this run serves no metrics');
    const metrics = follow && config.metricsPort !== undefined ? new TapMetrics(config.healthMaxAgeSeconds, redact) : undefined;
    const server =
      metrics && (await startMetricsServer({ port: config.metricsPort ?? 0, registry: metrics.registry, health: metrics.health }));
    if (server) logger.info(`serving /metrics and /healthz on port ${server.port}`);
    let records = 0;
    try {
      const session = { config, logger, signal: io.signal, selection, bookmark, maxRecords: isTest ? 1 : undefined, metrics };
      const events = follow ? followEvents(session) : syncEvents(session);
      for await (const event of events) {
        if (isTest && event.type === 'state') continue;
        if (event.type === 'records') records += event.records.length;
        await writer.write(encodeSinger(event, new Date().toISOString()));
      }
    } finally {
      await server?.close();
    }
    if (isTest) logger.info(`connection test passed: read ${records} record${records === 1 ? '' : 's'}`);
    return 0;
  } catch (error) {
    return reportFatal(BIN, error, redact, io.stderr);
  }
}
