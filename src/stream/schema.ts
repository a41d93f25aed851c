/**
 * The JSON Schema of the `transactions` stream, which grows while a sync runs: a field seen for
 * the first time is added, and a field whose values do not fit its type is widened, so targets
 * create the column (or widen it) instead of dropping the value.
 */
import type { JsonSchema } from '../config/validate.js';
import { packageJson } from '../paths.js';

export const BASE_SCHEMA = packageJson<JsonSchema>('schemas/transactions.json');

/** Fields the tap derives; they never come from Invoca. */
export const DERIVED_FIELDS = [
  'start_time',
  'start_date_local',
  'corrected_at_utc',
  'start_time_network_timezone_utc',
  'signal_occurred_at_utc',
  '_invoca_sequence',
] as const;

export type ScalarType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';

export class StreamSchema {
  readonly #properties: Map<string, JsonSchema>;

  constructor(extraStringFields: readonly string[] = []) {
    this.#properties = new Map(Object.entries(structuredClone(BASE_SCHEMA.properties ?? {})));
    for (const field of extraStringFields) this.add(field, 'string');
  }

  has(field: string): boolean {
    return this.#properties.has(field);
  }

  /** The property's types without "null", e.g. ['integer'] or ['integer', 'string'] once widened. */
  types(field: string): readonly string[] {
    const type = this.#properties.get(field)?.type;
    const list = Array.isArray(type) ? type : type ? [type] : [];
    return list.filter((item) => item !== 'null');
  }

  /** A new nullable field of the given type. */
  add(field: string, type: ScalarType): void {
    this.#properties.set(field, { type: ['null', type] });
  }

  /** Lets `field` also hold `type`. */
  widen(field: string, type: ScalarType): void {
    const property = this.#properties.get(field) ?? {};
    const types = Array.isArray(property.type) ? property.type : property.type ? [property.type] : [];
    this.#properties.set(field, { ...property, type: [...new Set(['null', ...types, type])] });
  }

  get fields(): string[] {
    return [...this.#properties.keys()];
  }

  toJSON(): JsonSchema {
    const { $schema: _draft, ...base } = BASE_SCHEMA;
    return { ...base, properties: Object.fromEntries(this.#properties) };
  }
}
