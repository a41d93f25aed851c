/**
 * One error hierarchy for every part of tap-invoca. Each class has a stable `code` string
 * (tests and callers match on it, never on the message) and the exit code its bin ends with.
 * Messages are one line, name the thing that is wrong, and never contain a secret.
 */

export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_CONFIG'
  | 'ERR_STATE'
  | 'ERR_CATALOG'
  | 'ERR_API_STATUS'
  | 'ERR_API_BODY'
  | 'ERR_API_NETWORK'
  | 'ERR_API_TIMEOUT'
  | 'ERR_FOLLOW_GAVE_UP'
  | 'ERR_WAREHOUSE'
  | 'ERR_CHECK_FAILED'
  | 'ERR_INPUT'
  | 'ERR_OUTPUT';

export abstract class TapInvocaError extends Error {
  abstract readonly code: ErrorCode;
  /** 2 for a mistake the user fixes in argv, config or state; 1 for a failure at run time. */
  abstract readonly exitCode: 1 | 2;
  /** Whether the same request may succeed when tried again (each class says its default). */
  readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options);
    this.name = new.target.name;
    this.retryable = options?.retryable ?? false;
  }
}

/** Wrong command-line usage. */
export class UsageError extends TapInvocaError {
  readonly code = 'ERR_USAGE';
  readonly exitCode = 2;
}

/** A config file that is unreadable or fails validation; the message names the field. */
export class ConfigError extends TapInvocaError {
  readonly code = 'ERR_CONFIG';
  readonly exitCode = 2;
}

/** A state file that is unreadable or malformed. */
export class StateError extends TapInvocaError {
  readonly code = 'ERR_STATE';
  readonly exitCode = 2;
}

/** A catalog file that is unreadable or malformed. */
export class CatalogError extends TapInvocaError {
  readonly code = 'ERR_CATALOG';
  readonly exitCode = 2;
}

/** Malformed input on stdin (a Singer message a target cannot read). */
export class InputError extends TapInvocaError {
  readonly code = 'ERR_INPUT';
  readonly exitCode = 1;
}

/** stdout was closed by its reader (the target stopped): nothing more can be delivered. */
export class OutputError extends TapInvocaError {
  readonly code = 'ERR_OUTPUT';
  readonly exitCode = 1;
}

/** The Invoca API answered with an HTTP status that is not a success. */
export class ApiStatusError extends TapInvocaError {
  readonly code = 'ERR_API_STATUS';
  readonly exitCode = 1;
  readonly status: number;
  /** Seconds from a `Retry-After` header, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;
  /** What the server said, from its error body ('' when it said nothing readable). */
  readonly serverDetail: string;

  constructor(
    message: string,
    details: { status: number; retryable: boolean; retryAfterSeconds?: number | undefined; serverDetail?: string },
    options?: { cause?: unknown },
  ) {
    super(message, { ...options, retryable: details.retryable });
    this.status = details.status;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.serverDetail = details.serverDetail ?? '';
  }
}

/**
 * A success status with a body that is not the JSON array the API promises (HTML, truncated
 * JSON...): retryable; or one larger than max_response_mb: not, the same page comes back as large.
 */
export class ApiBodyError extends TapInvocaError {
  readonly code = 'ERR_API_BODY';
  readonly exitCode = 1;

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, { ...options, retryable: options?.retryable ?? true });
  }
}

/** The connection failed: refused, reset, closed mid-body (retryable), or a host that does not resolve (not). */
export class ApiNetworkError extends TapInvocaError {
  readonly code = 'ERR_API_NETWORK';
  readonly exitCode = 1;

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, { ...options, retryable: options?.retryable ?? true });
  }
}

/** No complete answer within `request_timeout_seconds`. */
export class ApiTimeoutError extends TapInvocaError {
  readonly code = 'ERR_API_TIMEOUT';
  readonly exitCode = 1;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: true });
  }
}

/** `--follow` failed max_consecutive_failed_polls polls in a row: it ends, for a supervisor to restart and alert. */
export class FollowGaveUpError extends TapInvocaError {
  readonly code = 'ERR_FOLLOW_GAVE_UP';
  readonly exitCode = 1;

  constructor(failures: number, last: TapInvocaError) {
    super(`${failures} polls in a row failed (max_consecutive_failed_polls): giving up; the last: ${last.message}`, { cause: last });
  }
}

/** `target-invoca check` found a step that failed; the report above the line says more. */
export class CheckFailedError extends TapInvocaError {
  readonly code = 'ERR_CHECK_FAILED';
  readonly exitCode = 1;
}

/** A warehouse statement, load or connection failed. */
export class WarehouseError extends TapInvocaError {
  readonly code = 'ERR_WAREHOUSE';
  readonly exitCode = 1;
  /** The engine ran out of its memory limit: the same work in smaller pieces may fit. */
  readonly outOfMemory: boolean;

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean; outOfMemory?: boolean }) {
    super(message, options);
    this.outOfMemory = options?.outOfMemory ?? false;
  }
}

export function isTapInvocaError(error: unknown): error is TapInvocaError {
  return error instanceof TapInvocaError;
}

/** The `code` of a Node, undici or driver error ('ENOENT', 'UND_ERR_SOCKET', ...), when it has a string one. */
export function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
