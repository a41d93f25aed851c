/**
 * JSON Schema validation (ajv, each schema compiled once) with one-line errors that name the
 * field, and warnings for unknown keys that suggest the nearest known one.
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { nearestKey } from './nearest-key.js';
import type { Redactor } from './redact.js';
import { isSecretName } from './secrets.js';

// ajv and ajv-formats are CommonJS packages whose default export sits one level down under NodeNext.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly description?: string;
  readonly [keyword: string]: unknown;
}

// verbose: an error carries the schema it failed, so `mustBe` can phrase it.
const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true });
addFormats(ajv);
/** Any text `Date.parse` reads: what a timestamp in a state file may be. */
ajv.addFormat('timestamp', (text: string) => !Number.isNaN(Date.parse(text)));
ajv.addKeyword({ keyword: 'secret', schemaType: 'boolean' });
/** How an error at this schema reads: "<what> field '<path>' must be <mustBe> (got ...)". */
ajv.addKeyword({ keyword: 'mustBe', schemaType: 'string' });
ajv.addKeyword({ keyword: 'airbyte_secret', schemaType: 'boolean' });
const compiled = new Map<JsonSchema, ValidateFunction>();

/**
 * Validates `value` in place (ajv fills defaults) and returns the first problem as a sentence
 * such as "config field 'page_size' must be <= 4000 (got 5000)", or undefined when valid. A
 * schema with `mustBe` words its own errors (`mustBe: 'a transaction id string'`).
 */
export function firstSchemaProblem(
  schema: JsonSchema,
  value: unknown,
  what: string,
  redact: Redactor = (text) => text,
): string | undefined {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return undefined;
  const error = validate.errors?.[0];
  return error ? describe(error, value, what, redact) : `${what} is invalid`;
}

/**
 * Validates `value` in place (ajv fills defaults) against the schema that describes `T` (a type
 * derived from that schema, src/config/schemas.ts): the value as a `T`, or the first problem.
 */
export function validated<T>(schema: JsonSchema, value: unknown, what: string, redact?: Redactor): { value: T } | { problem: string } {
  const problem = firstSchemaProblem(schema, value, what, redact);
  return problem === undefined ? { value: value as T } : { problem };
}

function describe(error: ErrorObject, root: unknown, what: string, redact: Redactor): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path.join('.');
  const schema = error.parentSchema as JsonSchema | undefined;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties')
    return unknownKeyProblem(path, clip(redact(String(params['additionalProperty']))), schema, what);
  const secret = schema?.['secret'] === true || isSecretName(path.at(-1) ?? '');
  const shown = secret ? '' : shownValue(valueAt(root, path), redact);
  const mustBe = schema?.['mustBe'];
  if (typeof mustBe === 'string' && error.keyword !== 'required')
    return field ? `${what} field '${field}' must be ${mustBe}${shown}` : `${what} must be ${mustBe}`;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params['missingProperty']);
      const parent = valueAt(root, path);
      // Only a key the schema does not know can be a misspelling: account_type is not account_id.
      const settings = new Set(Object.keys(schema?.properties ?? {}));
      const present = parent !== null && typeof parent === 'object' ? Object.keys(parent).filter((key) => !settings.has(key)) : [];
      const nearMiss = present.find((key) => nearestKey(key, [missing]) === missing);
      const hint = nearMiss === undefined ? '' : ` (${what} has '${[...path, clip(redact(nearMiss))].join('.')}': a typo?)`;
      return `${what} field '${[...path, missing].join('.')}' is required${hint}`;
    }
    case 'type':
      return `${what} ${field ? `field '${field}'` : 'root'} must be ${article(String(params['type']))}${shown}`;
    case 'enum':
      return `${what} field '${field}' must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}${shown}`;
    default:
      return `${what} field '${field}' ${error.message ?? 'is invalid'}${shown}`;
  }
}

/**
 * What a wrong value was, for the message: a scalar as JSON (redacted first, then cut), an object
 * or a list by its kind only, since either may hold anything, a secret too.
 */
function shownValue(value: unknown, redact: Redactor): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return ' (got a list)';
  if (value !== null && typeof value === 'object') return ' (got an object)';
  // A URL with a user and password in it (scheme://user:password@host) is never shown.
  if (typeof value === 'string' && /\/\/[^/\s]*@/.test(value)) return ' (got a URL with credentials in it, not shown)';
  return ` (got ${clip(redact(JSON.stringify(value)))})`;
}

/** Text from the input, cut to fit in a one-line message. */
function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A key the schema does not know inside an object that allows none: its path and the nearest known key. */
function unknownKeyProblem(path: string[], key: string, schema: JsonSchema | undefined, what: string): string {
  const known = Object.keys(schema?.properties ?? {});
  const nearest = nearestKey(key, known);
  const parent = path.length > 0 ? ` of '${path.join('.')}'` : '';
  const hint = nearest ? `did you mean '${[...path, nearest].join('.')}'?` : `the known ones are ${known.join(', ')}`;
  return `${what} field '${[...path, key].join('.')}' is not a setting${parent}; ${hint}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(root: unknown, path: string[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Warnings for keys the schema does not know, each with the nearest known key when close. */
export function unknownKeyWarnings(value: Record<string, unknown>, known: readonly string[], what: string): string[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const nearest = nearestKey(key, known);
      return `${what} has an unknown key '${clip(key)}' (ignored)${nearest ? `; did you mean '${nearest}'?` : ''}`;
    });
}

/** A copy without `null` values, at any depth: orchestrators write unset settings as null (Meltano does). */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item)]),
  );
}
