/**
 * Callers' personal data, protected in the tap before any record is written: the values of the
 * `hash_columns` become an HMAC-SHA-256 (hex) under `hash_key`, so no clear value reaches a
 * RECORD message, a log, a table or the loader's copy of the record (`_invoca_raw`). Pure, but
 * for the HMAC itself (node:crypto).
 *
 * Before hashing, a value is put in one canonical form, so that one caller hashes the same
 * whatever format Invoca sent (README "Personal data" gives the same in SQL):
 * - phone numbers: digits only, with the country code the number carries (`+44 20 ...`,
 *   `0044 ...`, or 11 digits starting with 1 where the account's code is 1), else the account's
 *   code (`phone_country_code`) before it, without a national trunk `0`;
 * - e-mail addresses: trimmed and lower-cased;
 * - anything else: trimmed.
 * null stays null and "" (or blanks) stays "": an absent value is not a caller.
 */
import { createHash, type Hash } from 'node:crypto';

/** The constant that names PERSONAL_COLUMNS in `hash_columns` and `exclude_columns`. */
export const PERSONAL_COLUMNS_CONSTANT = '$invoca_personal_columns';

/**
 * The columns of Invoca's documented column list that identify or describe the caller (network
 * and advertiser users; docs/design.md, "Invoca's Transactions API"): the caller's phone numbers,
 * the conversion report's name, e-mail and street address, and every enhanced caller profile
 * ("data append") column. Coarse geography (city, region, verified_zip), the business's own
 * numbers and the recording URL are not in it; name them to hash or exclude them too.
 */
export const PHONE_COLUMNS: readonly string[] = ['calling_phone_number', 'cell_phone_number', 'home_phone_number'];
const EMAIL_COLUMNS: readonly string[] = ['email_address', 'primary_email_address_data_append', 'linked_email_addresses_data_append'];
export const PERSONAL_COLUMNS: readonly string[] = [
  ...PHONE_COLUMNS,
  // Conversion reporting: the caller's reported order.
  'name',
  'email_address',
  'address1',
  'address2',
  'order_city',
  'zip_code',
  // Enhanced caller profile (data append).
  'address_city_data_append',
  'address_country_data_append',
  'address_full_street_data_append',
  'address_state_data_append',
  'address_type_data_append',
  'address_zip_data_append',
  'age_range_data_append',
  'carrier_data_append',
  'display_name_data_append',
  'first_name_data_append',
  'gender_data_append',
  'is_prepaid_data_append',
  'last_name_data_append',
  'line_type_data_append',
  'primary_email_address_data_append',
  'linked_email_addresses_data_append',
  'household_income_data_append',
  'marital_status_data_append',
  'home_owner_status_data_append',
  'home_market_value_data_append',
  'length_of_residence_years_data_append',
  'occupation_data_append',
  'education_data_append',
  'has_children_data_append',
  'high_net_worth_data_append',
];

/** A column list with PERSONAL_COLUMNS_CONSTANT replaced by the columns it names, each once. */
export function expandPersonalColumns(columns: readonly string[]): string[] {
  return [...new Set(columns.flatMap((column) => (column === PERSONAL_COLUMNS_CONSTANT ? PERSONAL_COLUMNS : [column])))];
}

/** The bounds of `hash_key` in UTF-8 bytes: a 256-bit secret at least; at most HMAC-SHA-256's block, so the SQL of a join needs no pre-hash of the key. */
export const HASH_KEY_MIN_BYTES = 32;
export const HASH_KEY_MAX_BYTES = 64;

export interface HashSettings {
  /** The record fields (and custom_data entry names) to hash: constants expanded. */
  columns: readonly string[];
  /** The names given in hash_columns itself, not through a constant: warned about when no row has them. */
  named: readonly string[];
  key: string;
  /** The account's country calling code, digits (1 for the US and Canada). */
  phoneCountryCode: string;
}

/**
 * A number in canonical form: see the module comment. A value without a digit ("Anonymous") is
 * hashed as lower-cased text: every such caller shares one hash, which joins nobody.
 */
export function canonicalPhone(value: string, countryCode: string): string {
  const trimmed = value.trim();
  // From the first digit or +: a label before it ("Tel:") and text after the number (" x12") are not the number.
  const number = /[+\d][+\d\s().\-/]*/.exec(trimmed)?.[0] ?? '';
  // A trunk 0 written in brackets after the country code: +44 (0)20 ...
  const digits = number.replace(/\(0\)/g, '').replace(/\D/g, '');
  if (digits === '') return trimmed.toLowerCase();
  if (number.startsWith('+')) return digits;
  if (digits.startsWith('00')) return digits.slice(2);
  if (countryCode === '1') {
    // 011 is the international prefix dialled from the US and Canada.
    if (digits.startsWith('011')) return digits.slice(3);
    return digits.length === 11 && digits.startsWith('1') ? digits : `1${digits}`;
  }
  // Elsewhere a national number starts with its trunk 0; one that starts with the country code carries it.
  if (digits.startsWith('0')) return `${countryCode}${digits.slice(1)}`;
  return digits.startsWith(countryCode) ? digits : `${countryCode}${digits}`;
}

/** The most distinct values whose hashes a protector keeps at once. */
const HASH_CACHE_ENTRIES = 50_000;

/**
 * HMAC-SHA-256 (RFC 2104) under `key`, hex, with the hash states of the padded key computed once
 * (a key of at most 64 bytes, as hash_key is, is zero-padded to the block): two of the four
 * SHA-256 blocks of a short value's HMAC are those, the same for every value.
 */
export function keyedHash(key: string): (text: string) => string {
  const block = Buffer.alloc(64);
  const bytes = Buffer.from(key, 'utf8');
  (bytes.length > 64 ? createHash('sha256').update(bytes).digest() : bytes).copy(block);
  const padded = (pad: number): Hash => createHash('sha256').update(block.map((byte) => byte ^ pad));
  const inner = padded(0x36);
  const outer = padded(0x5c);
  return (text) => outer.copy().update(inner.copy().update(text, 'utf8').digest()).digest('hex');
}

/** The canonical text of a field's value before hashing. */
export function canonicalValue(field: string, value: string, phoneCountryCode: string): string {
  if (PHONE_COLUMNS.includes(field)) return canonicalPhone(value, phoneCountryCode);
  if (EMAIL_COLUMNS.includes(field)) return value.trim().toLowerCase();
  return value.trim();
}

/**
 * Applied to each Invoca row in place before it is normalised: the hashed fields replaced (and
 * the matching entries of its nested custom_data), and the custom_data entries of excluded or
 * deselected columns dropped (Invoca returns custom_data whole whatever exclude_columns says).
 */
export interface Protector {
  apply(row: Record<string, unknown>): void;
  /** The names given explicitly in hash_columns that no row applied to so far carried (a misspelt custom column). */
  unseen(): string[];
}

export function createProtector(settings: HashSettings | undefined, dropped: ReadonlySet<string>): Protector {
  const hashed = new Set(settings?.columns ?? []);
  const seen = new Set<string>();
  const hmac = keyedHash(settings?.key ?? '');
  // One caller's values repeat on every row of their call, and data-append values (an age range)
  // on many calls: each distinct value is hashed once. Held in memory only, never written.
  const hashes = new Map<string, string>();
  const hashText = (field: string, text: string): string => {
    const canonical = canonicalValue(field, text, settings?.phoneCountryCode ?? '1');
    let hash = hashes.get(canonical);
    if (hash === undefined) {
      if (hashes.size >= HASH_CACHE_ENTRIES) hashes.clear();
      hash = hmac(canonical);
      hashes.set(canonical, hash);
    }
    return hash;
  };
  const protectValue = (field: string, value: unknown): unknown => {
    if (value === null || value === undefined) return value;
    if (typeof value === 'string') return value.trim() === '' ? '' : hashText(field, value);
    if (typeof value === 'number' || typeof value === 'boolean') return hashText(field, String(value));
    // A list of e-mail addresses, say: each item hashed, so each can be joined on.
    if (Array.isArray(value)) return value.map((item) => protectValue(field, item));
    return hashText(field, JSON.stringify(value));
  };
  return {
    apply(row) {
      for (const field of hashed) {
        if (!(field in row)) continue;
        seen.add(field);
        row[field] = protectValue(field, row[field]);
      }
      const nested = row['custom_data'];
      if (!Array.isArray(nested)) return;
      let drops = false;
      for (const entry of nested) {
        const name = entryName(entry);
        if (name === undefined) continue;
        if (dropped.has(name)) drops = true;
        else if (hashed.has(name)) {
          seen.add(name);
          const item = entry as Record<string, unknown>;
          if ('value' in item) item['value'] = protectValue(name, item['value']);
        }
      }
      if (drops) row['custom_data'] = nested.filter((entry) => !dropped.has(entryName(entry) ?? ''));
    },
    unseen: () => (settings?.named ?? []).filter((name) => !seen.has(name)),
  };
}

/** The column a custom_data entry holds (Invoca's docs show `partner_name` once where `name` is meant). */
function entryName(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const item = entry as Record<string, unknown>;
  const name = typeof item['name'] === 'string' ? item['name'] : item['partner_name'];
  return typeof name === 'string' ? name : undefined;
}
