/**
 * The Singer target: reads SCHEMA, RECORD and STATE lines, batches the records of the
 * `transactions` stream, loads and merges each batch, and echoes a STATE only once every record
 * before it is committed (so a resumed run never skips an uncommitted record).
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { JsonSchema } from '../config/validate.js';
import { InputError } from '../errors.js';
import type { Logger } from '../log.js';
import { RECORD_LINE_PREFIX, STREAM } from '../stream/contract.js';
import { SequenceClock } from '../stream/sequence.js';
import type { Batch, BatchResult, Loader } from './loader.js';
import { wellFormed } from './well-formed.js';

export interface TargetOptions {
  loader: Loader;
  logger: Logger;
  batchSizeRows: number;
  batchMaxSeconds: number;
  /** Writes one state line (the STATE value as JSON) to stdout. */
  emitState: (line: string) => Promise<void>;
  signal?: AbortSignal | undefined;
  nowMs?: () => number;
  /** Told of each commit and of the rows waiting (the metrics). */
  metrics?: CommitObserver | undefined;
}

/** What the target reports as it goes. */
export interface CommitObserver {
  committing(): void;
  committed(result: BatchResult, seconds: number, atMs: number): void;
  /** The reason, an error's message (redacted by the observer). */
  commitFailed(message: string): void;
  pending(rows: number): void;
}

export interface TargetSummary {
  records: number;
  batches: number;
  inserted: number;
  statesEmitted: number;
}

/**
 * The batch being filled: its rows (in the warehouse's stage as they arrive, see
 * Loader.beginBatch) and its timer, which commits it `batch_max_seconds` after its first row
 * even when no more input comes (a quiet `tap-invoca --follow`).
 */
class OpenBatch {
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly batch: Batch,
    maxSeconds: number,
    onDue: () => void,
  ) {
    // setTimeout fires at once above 2^31 - 1 ms (24.8 days).
    this.#timer = setTimeout(onDue, Math.min(maxSeconds * 1000, MAX_TIMER_MS));
  }

  get rows(): number {
    return this.batch.rows;
  }

  stopTimer(): void {
    clearTimeout(this.#timer);
  }
}

export async function runTarget(input: Readable, options: TargetOptions): Promise<TargetSummary> {
  const { loader, logger } = options;
  const now = options.nowMs ?? Date.now;
  const summary: TargetSummary = { records: 0, batches: 0, inserted: 0, statesEmitted: 0 };
  const startedMs = now();
  let schema: JsonSchema | undefined;
  let open: OpenBatch | undefined;
  /** The last STATE read, until every record before it is committed. */
  let pendingState: { value: unknown } | undefined;
  let fallbackClock: SequenceClock | undefined;
  const ignoredStreams = new Set<string>();
  // After a failed commit nothing more is flushed and no state is echoed: a state echoed then
  // would let the next run skip rows that were never committed.
  let failed = false;
  let timerError: unknown;
  let lineNumber = 0;
  let lastInputMs = now();
  const pendingRows = (): number => open?.rows ?? 0;

  // Reading input and the batch timer take turns through `exclusive`, so one flush runs at a
  // time and none runs in the middle of a message.
  let turn: Promise<void> = Promise.resolve();
  const exclusive = (task: () => Promise<void>): Promise<void> => {
    const run = turn.then(task);
    turn = run.catch(() => undefined);
    return run;
  };

  const heartbeat = setInterval(() => {
    if (now() - lastInputMs < HEARTBEAT_MS) return;
    logger.info(
      `idle: no input for ${Math.round((now() - lastInputMs) / 1000)} s; ${summary.records} records in ${summary.batches} batches so far${pendingRows() > 0 ? `, ${pendingRows()} rows waiting for their batch` : ''}`,
    );
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const lines = createInterface({ input, crlfDelay: Infinity });
  // SIGTERM / SIGINT: stop reading now, even while the tap is quiet; what came is flushed below.
  options.signal?.addEventListener('abort', () => lines.close(), { once: true });
  try {
    for await (const line of lines) {
      await exclusive(() => handleLine(line));
      if (options.signal?.aborted || timerError !== undefined) break;
    }
    // A flush the timer started may still run: its error ends the run.
    await turn;
    if (timerError !== undefined) throw timerError;
  } catch (error) {
    // Bad input ends the run, but what came before it is complete: load it and echo its state.
    if (error instanceof InputError && timerError === undefined) await exclusive(flush);
    // Any other failure gives up the open batch: its stage is released, nothing is committed.
    else await open?.batch.discard();
    throw error;
  } finally {
    open?.stopTimer();
    clearInterval(heartbeat);
  }
  await exclusive(flush);
  return summary;

  async function handleLine(line: string): Promise<void> {
    if (failed) return;
    lastInputMs = now();
    lineNumber++;
    if (line.trim() === '') return;
    const message = parseMessage(line, lineNumber);
    if (message['type'] === 'SCHEMA') await onSchema(message);
    else if (message['type'] === 'RECORD') await onRecord(message, line);
    else if (message['type'] === 'STATE') await onState(message);
  }

  async function onSchema(message: Record<string, unknown>): Promise<void> {
    if (message['stream'] !== STREAM) return;
    const next = message['schema'];
    if (!next || typeof next !== 'object') throw new InputError(`line ${lineNumber}: SCHEMA without a schema object`);
    // Records already pending were written under the old schema: load them with it first.
    if (pendingRows() > 0) await flush();
    // A field name that is not valid Unicode is named as the record's key will be (recordJson).
    schema = wellFormed(next as JsonSchema);
  }

  async function onRecord(message: Record<string, unknown>, line: string): Promise<void> {
    const stream = String(message['stream']);
    if (stream !== STREAM) {
      if (!ignoredStreams.has(stream)) logger.warn(`ignoring records of stream '${stream}': target-invoca loads '${STREAM}' only`);
      ignoredStreams.add(stream);
      return;
    }
    if (!schema) throw new InputError(`line ${lineNumber}: a RECORD of stream ${STREAM} came before its SCHEMA`);
    const record = message['record'];
    if (!record || typeof record !== 'object' || Array.isArray(record))
      throw new InputError(`line ${lineNumber}: RECORD without a record object`);
    const fields = record as Record<string, unknown>;
    const id = fields['transaction_id'];
    if (typeof id !== 'string' || id === '') throw new InputError(`line ${lineNumber}: the record has no transaction_id`);
    let sequence = fields['_invoca_sequence'];
    if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence)) {
      // Records from another tap: number them here, in arrival order, as tap-invoca would.
      fallbackClock ??= new SequenceClock(undefined, now());
      if (!fallbackClock.last) logger.warn('records carry no _invoca_sequence: the target numbers them in arrival order');
      sequence = fallbackClock.next();
    }
    const row = {
      transactionId: wellFormed(id),
      sequence: sequence as number,
      raw: recordText(line, message) ?? recordJson(fields, id, logger),
    };
    // A batch is committed before the row that would take it past what memory allows.
    if (open && !open.batch.fits(row.raw)) await flush();
    open ??= await openBatch(schema);
    open.batch.add(row, fields);
    summary.records++;
    options.metrics?.pending(open.rows);
    if (open.rows >= options.batchSizeRows) await flush();
  }

  async function onState(message: Record<string, unknown>): Promise<void> {
    pendingState = { value: message['value'] };
    if (pendingRows() === 0) await flush();
  }

  async function openBatch(batchSchema: JsonSchema): Promise<OpenBatch> {
    const opened: OpenBatch = new OpenBatch(await loader.beginBatch(batchSchema), options.batchMaxSeconds, () => {
      exclusive(async () => {
        if (open === opened && opened.rows > 0) await flush();
      }).catch((error: unknown) => {
        timerError = error;
        lines.close();
      });
    });
    return opened;
  }

  /** Commits the open batch, then echoes the pending state. */
  async function flush(): Promise<void> {
    open?.stopTimer();
    if (failed) return;
    if (open && open.rows > 0) {
      const committing = open.batch;
      open = undefined;
      let result: BatchResult;
      const commitStartedMs = now();
      options.metrics?.committing();
      try {
        result = await committing.commit();
      } catch (error) {
        failed = true;
        pendingState = undefined;
        options.metrics?.commitFailed(error instanceof Error ? error.message : String(error));
        throw error;
      }
      options.metrics?.committed(result, (now() - commitStartedMs) / 1000, now());
      options.metrics?.pending(pendingRows());
      summary.batches++;
      summary.inserted += result.inserted ?? 0;
      const seconds = Math.max(0.001, (now() - startedMs) / 1000);
      logger.info(
        `batch ${summary.batches}: ${result.staged} rows staged, ${result.inserted ?? 'n/a'} new, ${result.rerooted ?? 'n/a'} re-rooted; ` +
          `${summary.records} rows so far, ${Math.round(summary.records / seconds)} rows/s`,
      );
    }
    if (pendingState) {
      const { value } = pendingState;
      pendingState = undefined;
      await options.emitState(JSON.stringify(value));
      summary.statesEmitted++;
    }
  }
}

/** While no input comes, a line on stderr at most this often. */
const HEARTBEAT_MS = 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The record's JSON text cut out of its line, when the line is laid out as tap-invoca writes it
 * (`type`, `stream`, `record`, then an optional `time_extracted`, no spaces): that saves
 * serialising the parsed record again, a third of the target's own time. Undefined for any other
 * layout, and for text with an escaped surrogate (which recordJson checks): the caller then
 * serialises the parsed record.
 */
export function recordText(line: string, message: Record<string, unknown>): string | undefined {
  if (!line.startsWith(RECORD_LINE_PREFIX)) return undefined;
  const keys = Object.keys(message);
  let tail = '}';
  if (keys.length === 4 && keys[3] === 'time_extracted') tail = `,"time_extracted":${JSON.stringify(message['time_extracted'])}}`;
  else if (keys.length !== 3) return undefined;
  if (!line.endsWith(tail)) return undefined;
  const text = line.slice(RECORD_LINE_PREFIX.length, line.length - tail.length);
  // A second "record" key (JSON.parse keeps the last one) would put two values in the cut.
  if (!text.startsWith('{') || !text.endsWith('}') || text.includes('"record":') || SURROGATE_ESCAPE.test(text)) return undefined;
  return text;
}

/** JSON.stringify writes an unpaired UTF-16 surrogate as an escape (backslash u d800), which no warehouse JSON parser accepts. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/** The record as JSON text for the stage; unpaired surrogates (invalid text), in keys and values, become U+FFFD. */
function recordJson(fields: Record<string, unknown>, id: string, logger: Logger): string {
  const json = JSON.stringify(fields);
  if (!SURROGATE_ESCAPE.test(json)) return json;
  const repaired = JSON.stringify(wellFormed(fields));
  if (repaired !== json)
    logger.warn(`record ${wellFormed(id)}: a key or string holds an unpaired UTF-16 surrogate (not valid Unicode); stored as U+FFFD`);
  return repaired;
}

function parseMessage(line: string, lineNumber: number): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new InputError(`line ${lineNumber} of the input is not JSON: ${line.slice(0, 80)}`, { cause: error });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(`line ${lineNumber} of the input is not a Singer message object`);
  }
  return parsed as Record<string, unknown>;
}
