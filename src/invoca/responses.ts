/**
 * Turning one HTTP answer into rows or into a typed error. Pure: the client does the I/O.
 */
import type { Redactor } from '../config/redact.js';
import { ApiBodyError, ApiStatusError } from '../errors.js';

const asIs: Redactor = (text) => text;

export type InvocaRow = Record<string, unknown>;

/** What to check for each status that no retry can fix (docs/design.md, "Invoca's Transactions API"). */
const STATUS_ADVICE: Readonly<Record<number, string>> = {
  400: 'check api_version (Invoca answers 400 for a version the route does not know)',
  401: 'check api_token (it must be a valid Invoca API token)',
  403: "check that the token's user may read this account, and the include_columns, transaction_types and start_after_transaction_id values",
  404: 'check account_id, account_type and base_url',
};

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** How much of an error body is read: Invoca's error envelope and a gateway page's title are near its start. */
export const ERROR_BODY_BYTES = 64 * 1024;

export function statusError(
  request: string,
  status: number,
  body: string,
  retryAfterSeconds: number | undefined,
  redact: Redactor = asIs,
): ApiStatusError {
  const retryable = RETRYABLE_STATUSES.has(status);
  const detail = serverMessage(body, redact);
  const advice = STATUS_ADVICE[status];
  const parts = [`Invoca answered HTTP ${status} to ${request}`];
  if (detail) parts.push(`: ${detail}`);
  if (advice) parts.push(`; ${advice}`);
  return new ApiStatusError(parts.join(''), { status, retryable, retryAfterSeconds, serverDetail: detail });
}

/**
 * The first request of a run after the state's cursor answered `error`. Invoca answers 403 or 404
 * for a cursor it no longer knows, and only a new start fixes that; but it answers 403 for other
 * reasons too (a token that may not read the account). When the server names the cursor the
 * message says what to do about it; else the usual message gains the cursor as a possible cause.
 */
export function cursorError(error: unknown, cursor: string): unknown {
  if (!(error instanceof ApiStatusError) || (error.status !== 403 && error.status !== 404)) return error;
  const fix = 'remove the state and set start_date to the day of the last call loaded (SELECT MAX(start_time) FROM calls), then run again';
  const namesCursor = /start_after_transaction_id/i.test(error.serverDetail) || error.serverDetail.includes(cursor);
  const message = namesCursor
    ? `Invoca answered HTTP ${error.status} to the first page after the cursor in the state (${error.serverDetail}): it does not know transaction ${cursor} any more; ${fix}`
    : `${error.message}; or, if Invoca no longer knows the state's cursor (transaction ${cursor}): ${fix}`;
  return new ApiStatusError(message, { status: error.status, retryable: false, serverDetail: error.serverDetail }, { cause: error });
}

/**
 * Where JSON.parse failed, without its excerpt of the body: V8 quotes the text around the error,
 * which is a caller's data (a phone number, a name) and must not reach a log.
 */
function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `invalid at position ${position}`;
  if (/end of JSON input|Unterminated/i.test(message)) return 'it ends before the JSON does';
  return 'an unexpected character';
}

/** Rows from a 200 body; anything but a JSON array of objects is an error naming the request. */
export function parseRows(request: string, body: string, contentType: string | undefined, redact: Redactor = asIs): InvocaRow[] {
  if (contentType?.includes('html') || /^\s*</.test(body.slice(0, 1000))) throw htmlPageError(request, body, redact);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new ApiBodyError(
      `Invoca sent a body that is not valid JSON (${body.length} bytes, likely truncated) for ${request}: ${jsonProblem(error)}`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed)) {
    throw new ApiBodyError(`Invoca sent JSON that is not an array for ${request}: ${serverMessage(body, redact)}`);
  }
  for (let index = 0; index < parsed.length; index++) {
    const row: unknown = parsed[index];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new ApiBodyError(`Invoca sent a row that is not an object (row ${index}) for ${request}`);
    }
  }
  return parsed as InvocaRow[];
}

/** An HTML page where JSON was expected (a proxy's or gateway's error page): retryable. */
export function htmlPageError(request: string, body: string, redact: Redactor = asIs): ApiBodyError {
  return new ApiBodyError(`Invoca sent an HTML page instead of JSON for ${request}: ${serverMessage(body, redact) || 'no title'}`);
}

/**
 * A short, one-line description of an error body: Invoca's `{"errors": {...}}` envelope, an HTML
 * page's title, or the start of the text.
 */
export function serverMessage(body: string, redact: Redactor = asIs): string {
  // Only the start is read, and every step below is linear in it: a hostile body of a million
  // '<' must not block the event loop (and with it the request timeout and SIGTERM). A server
  // that echoes the token is redacted before anything is cut or collapsed.
  const text = redact(body.slice(0, ERROR_BODY_BYTES)).trim();
  if (text.length === 0) return '';
  if (text.startsWith('{')) {
    const envelope = invocaErrors(text);
    if (envelope !== undefined) return envelope;
  }
  const title = htmlTitle(text);
  if (title) return oneLine(title);
  return oneLine(withoutTags(text));
}

/** Invoca's `{"errors": {...}}` envelope as one line, or undefined when the text is not one. */
function invocaErrors(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || !('errors' in parsed)) return undefined;
  const errors = (parsed as { errors: unknown }).errors;
  if (errors && typeof errors === 'object') {
    const { class: errorClass, invalid_data: invalidData, ...fields } = errors as Record<string, unknown>;
    const pieces: string[] = [];
    if (typeof errorClass === 'string') pieces.push(errorClass);
    if (invalidData !== undefined) pieces.push(String(invalidData));
    for (const [field, messages] of Object.entries(fields)) pieces.push(`${field} ${String(messages)}`);
    if (pieces.length > 0) return oneLine(pieces.join(': '));
  }
  return oneLine(JSON.stringify(errors) ?? '');
}

/** The text of an HTML page's <title>, found with indexOf (no regular expression can backtrack here). */
function htmlTitle(text: string): string | undefined {
  const lower = text.toLowerCase();
  const open = lower.indexOf('<title');
  if (open === -1) return undefined;
  const start = lower.indexOf('>', open);
  if (start === -1) return undefined;
  const end = lower.indexOf('</title', start);
  return end === -1 ? undefined : text.slice(start + 1, end);
}

/** The text with its tags replaced by spaces, in one pass; an unclosed '<' ends the text. */
function withoutTags(text: string): string {
  let result = '';
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('<', at);
    if (open === -1) return result + text.slice(at);
    result += `${text.slice(at, open)} `;
    const close = text.indexOf('>', open);
    if (close === -1) return result;
    at = close + 1;
  }
  return result;
}

function oneLine(text: string): string {
  const collapsed = text.slice(0, 4000).replace(/\s+/g, ' ').trim();
  return collapsed.length > 200 ? `${collapsed.slice(0, 200)}...` : collapsed;
}
