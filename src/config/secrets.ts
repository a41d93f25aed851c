/**
 * Which values of a raw (not yet validated) config are secrets, for the redactor: those the
 * schema marks `secret: true`, at any depth, and, because a config may hold keys the schema does
 * not know (a typo, a setting of another tool), every key whose name says it holds a secret or
 * whose nearest known key is a secret (`api_tokn`, `pasword`).
 */
import { nearestKey } from './nearest-key.js';
import type { JsonSchema } from './validate.js';

/** Names that hold a secret: token, password, passphrase, private_key, secret, credentials, and names that end in key, pass, pwd or auth. */
const SECRET_NAME = /token|passw|passphrase|private_?key|secret|credential|(^|[_.-])(key|pass|pwd|auth)$/i;
/** A path to a file that holds a secret, or an id, is not a secret itself. */
const NOT_A_SECRET = /(_path|_file|_id)$/i;

export function isSecretName(key: string): boolean {
  return SECRET_NAME.test(key) && !NOT_A_SECRET.test(key);
}

/** The secrets of `value` as `schema` and the names of its keys say. */
export function secretValues(schema: JsonSchema, value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) {
    const items = typeof schema['items'] === 'object' && schema['items'] !== null ? (schema['items'] as JsonSchema) : {};
    return value.flatMap((item) => secretValues(items, item));
  }
  const properties = schema.properties ?? {};
  const known = Object.keys(properties);
  return Object.entries(value).flatMap(([key, item]) => {
    const property = properties[key];
    const secret = property
      ? property['secret'] === true
      : isSecretName(key) || properties[nearestKey(key, known) ?? '']?.['secret'] === true;
    return secret ? everyScalar(item) : secretValues(property ?? {}, item);
  });
}

/** Every string and number in a value, at any depth: a secret given in the wrong shape is still hidden. */
function everyScalar(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(everyScalar);
}
