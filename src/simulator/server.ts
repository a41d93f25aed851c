/**
 * The local Invoca API: `GET /api/{version}/{role}s/transactions/{id}.json` with Invoca's documented
 * auth, paging, filters, columns, errors and statuses, plus control routes for tests:
 *
 *   GET  /healthz          "ok" once listening
 *   GET  /_sim/stats       request counts, the last requested URLs, the feed size
 *   POST /_sim/append      {"rows": N}: N new rows (new calls, late events and corrections)
 *   POST /_sim/faults      [FaultSpec, ...]: replaces the pending faults
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ColumnRequestError, parseColumnSelection, type ColumnSelection, type Role } from './columns.js';
import { FaultQueue, parseFaults, type FaultSpec } from './faults.js';
import { hostileRow } from './hostile.js';
import { personalColumns } from './personal.js';
import { CUSTOM_COLUMNS, Feed, LATE_CUSTOM_COLUMN, type FeedOptions, type SimRow } from './feed.js';

export interface SimulatorOptions extends Partial<FeedOptions> {
  port?: number;
  host?: string;
  token: string;
  accountId: string;
  accountType?: Role;
  /** Delay added to every transactions request (a slow network or a busy API). */
  latencyMs?: number;
  /** Mix rows that do not look like the docs into the feed (hostile.ts). */
  hostile?: boolean;
  /** Rows carry NARROW_FIELDS only: an account that fills few columns (the bench's narrow feed). */
  narrow?: boolean;
  /** Rows carry the caller's personal data (personal.ts): names, e-mail, address, data append. */
  personal?: boolean;
  faults?: FaultSpec[];
}

/**
 * The fields of a narrow row: keys, the call's time and place, the parties and the money. With
 * the four the tap derives (start_time, start_date_local, corrected_at_utc, _invoca_sequence),
 * a record of 25 fields.
 */
export const NARROW_FIELDS: readonly string[] = [
  'transaction_id',
  'transaction_type',
  'corrects_transaction_id',
  'corrected_at',
  'complete_call_id',
  'advertiser_id',
  'advertiser_name',
  'advertiser_campaign_id',
  'advertiser_campaign_name',
  'affiliate_id',
  'affiliate_name',
  'advertiser_payin_localized',
  'affiliate_payout_localized',
  'margin_localized',
  'call_fee_localized',
  'calling_phone_number',
  'city',
  'region',
  'duration',
  'start_time_local',
  'start_time_utc',
];

export interface SimulatorStats {
  requests: number;
  transactionRequests: number;
  rowsServed: number;
  /** Bytes of the 200 bodies of transactions pages served (UTF-8). */
  bytesServed: number;
  faultsServed: number;
  /** Requests that carried the token in the URL (`oauth_token`): a client must never do this. */
  tokenInUrl: number;
  /** The last 200 transactions request URLs (path and query). */
  recentUrls: string[];
  feedRows: number;
}

export interface RunningSimulator {
  url: string;
  port: number;
  feed: Feed;
  append(rows: number): void;
  setFaults(faults: FaultSpec[]): void;
  stats(): SimulatorStats;
  /** Closes the idle keep-alive connections, so a client's next request connects (and resolves the host) again. */
  dropIdleConnections(): void;
  close(): Promise<void>;
}

/** Versions the simulator accepts; others get Invoca's 400 "invalid API Version for route". */
export const KNOWN_VERSIONS = [
  '2016-10-01',
  '2017-04-01',
  '2017-09-01',
  '2018-02-01',
  '2019-02-01',
  '2019-05-01',
  '2020-10-01',
  '2021-08-09',
  '2023-10-09',
];
/** From this version on, signals roll up into `Post Call Event` rows; before it they are `Signal` rows. */
const ROLLUP_VERSION = '2020-10-01';

const TYPE_FILTERS: Readonly<Record<string, readonly string[]>> = {
  Call: ['Call'],
  PostCallEvent: ['Post Call Event'],
  Sale: ['Sale', 'Reported Conversion'],
  Signal: ['Signal'],
};

const ROLE_SEGMENTS: Readonly<Record<string, Role>> = {
  networks: 'network',
  advertisers: 'advertiser',
  affiliates: 'affiliate',
};

const DAY_MS = 86_400_000;
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 4000;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

function invocaError(status: number, errorClass: string, message: string): HttpProblem {
  return new HttpProblem(status, { errors: { class: errorClass, invalid_data: message } });
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const feed = new Feed({
    seed: options.seed ?? 1,
    rows: options.rows ?? 1000,
    rowsPerDay: options.rowsPerDay ?? 1000,
    startMs: options.startMs ?? Date.parse('2026-01-01T08:00:00Z'),
    utcOffsetMinutes: options.utcOffsetMinutes ?? -420,
    emptyDays: options.emptyDays ?? [],
    lateColumnAt: options.lateColumnAt,
    correctionTarget: options.correctionTarget ?? 'root',
  });
  const role = options.accountType ?? 'network';
  const faults = new FaultQueue();
  faults.replace(options.faults ?? []);
  const stats: SimulatorStats = {
    requests: 0,
    transactionRequests: 0,
    rowsServed: 0,
    bytesServed: 0,
    faultsServed: 0,
    tokenInUrl: 0,
    recentUrls: [],
    feedRows: feed.count,
  };
  let previousBody: string | undefined;

  const transactions = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    stats.transactionRequests++;
    stats.recentUrls.push(`${url.pathname}${url.search}`);
    if (stats.recentUrls.length > 200) stats.recentUrls.shift();
    if (options.latencyMs) await sleep(options.latencyMs);
    const fault = faults.next();
    if (fault) stats.faultsServed++;
    if (fault?.kind === 'latency') await sleep(fault.delayMs ?? 1000);
    if (fault?.kind === 'repeat' && previousBody !== undefined) {
      sendJsonText(response, 200, previousBody);
      return;
    }
    if (fault && fault.kind !== 'latency' && fault.kind !== 'repeat') {
      serveFault(response, fault, () => pageBody(request, url));
      return;
    }
    const body = pageBody(request, url);
    // A request its client gave up on (a timeout) delivered nothing: it is no "previous page".
    if (!request.socket.destroyed) previousBody = body;
    sendJsonText(response, 200, body);
  };

  /** The JSON text of the page this request asks for; throws HttpProblem for a bad request. */
  const pageBody = (request: IncomingMessage, url: URL): string => {
    const match = /^\/api\/([^/]+)\/([^/]+)\/transactions\/([^/]+)\.([a-z]+)$/.exec(url.pathname);
    if (!match) throw invocaError(404, 'RecordNotFound', `no route for ${url.pathname}`);
    const [, version = '', roleSegment = '', accountId = '', format = ''] = match;
    const queryToken = url.searchParams.get('oauth_token');
    if (queryToken !== null) stats.tokenInUrl++;
    const token = request.headers.authorization ?? queryToken;
    if (token !== options.token) throw invocaError(401, 'Unauthorized', 'API token is missing or invalid');
    if (!KNOWN_VERSIONS.includes(version)) throw invocaError(400, 'ApiVersionError', 'invalid API Version for route');
    if (ROLE_SEGMENTS[roleSegment] !== role) {
      throw invocaError(403, 'Forbidden', `this token cannot read ${roleSegment} transactions`);
    }
    if (decodeURIComponent(accountId) !== options.accountId) {
      throw invocaError(404, 'RecordNotFound', `${roleSegment.slice(0, -1)} ${decodeURIComponent(accountId)} not found`);
    }
    if (format !== 'json') throw invocaError(400, 'FormatError', `the simulator serves only .json, not .${format}`);
    const query = parseQuery(url, role);
    const indexes = selectIndexes(feed, query, version);
    const rowAt = options.hostile
      ? (index: number) => hostileRow(feed.row(index), index, (earlier) => feed.row(earlier))
      : (index: number) => feed.row(index);
    const withPersonal = options.personal
      ? (row: SimRow, index: number): SimRow => ({ ...row, ...personalColumns(String(row['complete_call_id']), index) })
      : (row: SimRow): SimRow => row;
    const narrowed = options.narrow ? narrowRow : (row: SimRow): SimRow => row;
    const rows = indexes.map((index) => shapeRow(narrowed(withPersonal(rowAt(index), index)), query.columns, version));
    stats.rowsServed += rows.length;
    const text = JSON.stringify(rows);
    stats.bytesServed += Buffer.byteLength(text);
    return text;
  };

  const server: Server = createServer((request, response) => {
    stats.requests++;
    const url = new URL(request.url ?? '/', 'http://simulator');
    handle(request, response, url).catch((error: unknown) => {
      if (error instanceof HttpProblem) {
        sendJsonText(response, error.status, JSON.stringify(error.body));
      } else {
        sendJsonText(response, 500, JSON.stringify({ errors: { class: 'InternalError', invalid_data: String(error) } }));
      }
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    if (url.pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (url.pathname === '/_sim/stats') {
      stats.feedRows = feed.count;
      sendJsonText(response, 200, JSON.stringify(stats));
    } else if (url.pathname === '/_sim/append' && request.method === 'POST') {
      const body = (await readJson(request)) as { rows?: unknown };
      if (typeof body.rows !== 'number' || !Number.isInteger(body.rows) || body.rows < 0) {
        throw new HttpProblem(400, { error: 'rows must be a non-negative integer' });
      }
      feed.append(body.rows);
      sendJsonText(response, 200, JSON.stringify({ feedRows: feed.count }));
    } else if (url.pathname === '/_sim/faults' && request.method === 'POST') {
      try {
        faults.replace(parseFaults(await readJson(request)));
      } catch (error) {
        throw new HttpProblem(400, { error: error instanceof Error ? error.message : String(error) });
      }
      sendJsonText(response, 200, JSON.stringify({ pending: faults.size }));
    } else if (url.pathname.startsWith('/api/') && request.method === 'GET') {
      await transactions(request, response, url);
    } else {
      throw invocaError(404, 'RecordNotFound', `no route for ${request.method} ${url.pathname}`);
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    feed,
    append: (rows) => feed.append(rows),
    setFaults: (specs) => faults.replace(specs),
    stats: () => ({ ...stats, recentUrls: [...stats.recentUrls], feedRows: feed.count }),
    dropIdleConnections: () => server.closeIdleConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ParsedQuery {
  limit: number;
  startAfter: string | undefined;
  window: { fromMs: number; toMs: number } | undefined;
  types: readonly string[] | undefined;
  columns: ColumnSelection;
}

function parseQuery(url: URL, role: Role): ParsedQuery {
  const params = url.searchParams;
  const limitText = params.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== null) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) {
      throw new HttpProblem(403, { errors: { limit: ['must be a positive integer'] } });
    }
    limit = Math.min(MAX_LIMIT, Number(limitText));
  }
  const from = params.get('from');
  const to = params.get('to');
  let window: ParsedQuery['window'];
  // Invoca filters by date only when both ends are sent (docs/design.md, "Invoca's Transactions API").
  if (from !== null && to !== null) {
    for (const [name, value] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
        throw new HttpProblem(403, { errors: { [name]: ['must be a date as YYYY-MM-DD'] } });
      }
    }
    window = { fromMs: Date.parse(`${from}T00:00:00Z`), toMs: Date.parse(`${to}T00:00:00Z`) + DAY_MS };
  }
  const typeValues = [...params.getAll('transaction_type[]'), ...params.getAll('transaction_type')];
  let types: string[] | undefined;
  if (typeValues.length > 0) {
    types = [];
    for (const value of typeValues) {
      const returned = TYPE_FILTERS[value];
      if (!returned) throw new HttpProblem(403, { errors: { transaction_type: [`${value} is not a valid transaction type`] } });
      types.push(...returned);
    }
  }
  let columns: ColumnSelection;
  try {
    columns = parseColumnSelection(role, params.get('include_columns'), params.get('exclude_columns'));
  } catch (error) {
    if (error instanceof ColumnRequestError) throw new HttpProblem(403, { errors: { include_columns: [error.message] } });
    throw error;
  }
  return { limit, startAfter: params.get('start_after_transaction_id') || undefined, window, types, columns };
}

/** The feed indexes of one page, in the order Invoca returns them. */
function selectIndexes(feed: Feed, query: ParsedQuery, version: string): number[] {
  let cursor: number | undefined;
  if (query.startAfter !== undefined) {
    cursor = feed.indexOf(query.startAfter);
    if (cursor === undefined) {
      throw invocaError(403, 'InvalidArgument', `start_after_transaction_id ${query.startAfter} was not found`);
    }
  }
  const matchesType = (index: number): boolean =>
    query.types === undefined || query.types.includes(returnedType(String(feed.row(index)['transaction_type']), version));
  const selected: number[] = [];
  if (!query.window) {
    // Without a date window: transaction order, from the cursor on.
    for (let index = cursor === undefined ? 0 : cursor + 1; index < feed.count && selected.length < query.limit; index++) {
      if (matchesType(index)) selected.push(index);
    }
    return selected;
  }
  // With a date window (local dates of the API user): call start order, then transaction order.
  const offsetMs = feed.options.utcOffsetMinutes * 60_000;
  const firstCall = feed.firstIndexStartingAt(query.window.fromMs - offsetMs);
  const endCall = feed.firstIndexStartingAt(query.window.toMs - offsetMs);
  const cursorKey = cursor === undefined ? undefined : [feed.callIndex(cursor), cursor];
  const candidates: [number, number][] = [];
  const scanEnd = Math.min(feed.count, endCall + feed.reach);
  for (let index = firstCall; index < scanEnd; index++) {
    const callIndex = feed.callIndex(index);
    if (callIndex < firstCall || callIndex >= endCall) continue;
    if (cursorKey && (callIndex < (cursorKey[0] as number) || (callIndex === cursorKey[0] && index <= (cursorKey[1] as number)))) {
      continue;
    }
    candidates.push([callIndex, index]);
  }
  candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [, index] of candidates) {
    if (selected.length >= query.limit) break;
    if (matchesType(index)) selected.push(index);
  }
  return selected;
}

function returnedType(type: string, version: string): string {
  return type === 'Post Call Event' && version < ROLLUP_VERSION ? 'Signal' : type;
}

function narrowRow(row: SimRow): SimRow {
  return Object.fromEntries(NARROW_FIELDS.filter((field) => field in row).map((field) => [field, row[field]]));
}

function shapeRow(row: SimRow, columns: ColumnSelection, version: string): SimRow {
  const customColumns = LATE_CUSTOM_COLUMN in row ? [...CUSTOM_COLUMNS, LATE_CUSTOM_COLUMN] : CUSTOM_COLUMNS;
  const shaped = columns.apply(row, customColumns);
  if ('transaction_type' in shaped) shaped['transaction_type'] = returnedType(String(shaped['transaction_type']), version);
  if (version < '2019-02-01') delete shaped['custom_data'];
  return shaped;
}

function serveFault(response: ServerResponse, fault: FaultSpec, normalBody: () => string): void {
  switch (fault.kind) {
    case 'status': {
      const status = fault.status ?? 500;
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (status === 502 || status === 504) {
        // Gateways in front of Invoca answer with HTML, not with Invoca's JSON envelope.
        const title = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
        sendText(response, status, `<html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`, 'text/html', headers);
      } else if (status === 429) {
        sendText(
          response,
          status,
          JSON.stringify({ errors: { class: 'TooManyRequests', invalid_data: 'rate limit exceeded' } }),
          'application/json',
          headers,
        );
      } else {
        const body = JSON.stringify({ errors: { class: 'InternalServerError', invalid_data: `error handle ${1000 + status}` } });
        sendText(response, status, body, 'application/json', headers);
      }
      return;
    }
    case 'html':
      sendText(
        response,
        fault.status ?? 200,
        '<!DOCTYPE html><html><head><title>Invoca is down for maintenance</title></head><body>Back soon.</body></html>',
        'text/html',
      );
      return;
    case 'not-array':
      sendJsonText(response, 200, JSON.stringify({ errors: { class: 'ServerError', invalid_data: 'unexpected response' } }));
      return;
    case 'malformed': {
      // Complete, but not JSON: an unquoted key and a trailing comma in the first row.
      const body = normalBody();
      sendJsonText(response, 200, body.length > 2 ? `[{transaction_id: 1,},${body.slice(1)}` : '[{,}]');
      return;
    }
    case 'truncated': {
      const body = normalBody();
      sendJsonText(response, 200, body.slice(0, Math.max(1, Math.floor(body.length / 2))));
      return;
    }
    case 'reset': {
      const body = Buffer.from(normalBody());
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      response.write(body.subarray(0, Math.floor(body.length / 2)), () => response.socket?.destroy());
      return;
    }
    case 'latency':
    case 'repeat':
      return;
  }
}

function sendJsonText(response: ServerResponse, status: number, body: string): void {
  sendText(response, status, body, 'application/json; charset=utf-8');
}

function sendText(response: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers });
  response.end(body);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new HttpProblem(400, { error: 'body is not JSON' });
  }
}
