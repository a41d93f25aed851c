/**
 * JSON Schema validation (ajv, each schema compiled once) with one-line errors that name the
 * field, and warnings for unknown keys that suggest the nearest known one.
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

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
export function firstSchemaProblem(schema: JsonSchema, value: unknown, what: string): string | undefined {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return undefined;
  const error = validate.errors?.[0];
  return error ? describe(error, value, what) : `${what} is invalid`;
}

/**
 * Validates `value` in place (ajv fills defaults) against the schema that describes `T` (a type
 * derived from that schema, src/config/schemas.ts): the value as a `T`, or the first problem.
 */
export function validated<T>(schema: JsonSchema, value: unknown, what: string): { value: T } | { problem: string } {
  const problem = firstSchemaProblem(schema, value, what);
  return problem === undefined ? { value: value as T } : { problem };
}

/**
 * The values of every property the schema marks `secret: true`, at any depth, in a raw (not yet
 * validated) value: what the redactor must hide before anything can be logged.
 */
export function secretValues(schema: JsonSchema, value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(schema.properties ?? {}).flatMap(([key, property]) => {
    const item = (value as Record<string, unknown>)[key];
    if (property['secret'] === true) return everyScalar(item);
    return secretValues(property, item);
  });
}

/** Every string and number in a value, at any depth: a secret given in the wrong shape is still hidden. */
function everyScalar(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(everyScalar);
}

function describe(error: ErrorObject, root: unknown, what: string): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path.join('.');
  const got = valueAt(root, path);
  const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)?.slice(0, 60)})`;
  const mustBe = (error.parentSchema as JsonSchema | undefined)?.['mustBe'];
  if (typeof mustBe === 'string' && error.keyword !== 'required')
    return field ? `${what} field '${field}' must be ${mustBe}${shown}` : `${what} must be ${mustBe}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${what} field '${[...path, String(params['missingProperty'])].join('.')}' is required`;
    case 'type':
      return `${what} ${field ? `field '${field}'` : 'root'} must be ${article(String(params['type']))}${shown}`;
    case 'enum':
      return `${what} field '${field}' must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}${shown}`;
    case 'pattern':
    case 'format':
      return `${what} field '${field}' has the wrong format${shown}: ${formatHint(field)}`;
    default:
      return `${what} field '${field}' ${error.message ?? 'is invalid'}${shown}`;
  }
}

function formatHint(field: string): string {
  if (field.endsWith('start_date')) return 'use YYYY-MM-DD or RFC 3339, e.g. 2026-01-31 or 2026-01-31T00:00:00Z';
  if (field.endsWith('base_url')) return 'use an http(s) URL such as https://invoca.net';
  if (field.endsWith('api_version')) return 'use a version date such as 2020-10-01';
  return 'see the README for the expected format';
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
      return `${what} has an unknown key '${key}' (ignored)${nearest ? `; did you mean '${nearest}'?` : ''}`;
    });
}

export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
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
