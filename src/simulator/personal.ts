/**
 * The caller's personal data of a row (simulator --personal): the conversion report's name,
 * e-mail and address, and the enhanced caller profile ("data append") columns, each a function
 * of the call, so every row of one call names the same caller. The caller's numbers come in
 * the formats Invoca's rows are seen with (dashes, brackets, +1, bare digits), varying by row, so
 * that one caller's number must be normalised before it hashes the same.
 */
import { hash } from './random.js';
import type { SimRow } from './feed.js';

// Names no other column of the feed holds, so a test can search a database file for them.
const FIRST = ['Anaïs', 'Bartholomew', 'Chloé', 'Dmitri', 'Efua', "Liam O'Neil", 'Meilin', 'Zoë'];
const LAST = ['García-Lopez', 'Nguyenova', 'Okafor', 'Smithers', 'Müller', 'Kowalski'];
const STREETS = ['Elmwood Street', 'Mainstay Road', 'Rue de la Paix', 'Fifth Avenue North', 'Oak Lane'];

/** A number (`805-555-0123`) in one of the formats Invoca's rows show, chosen by `variant`. */
export function phoneFormat(digits10: string, variant: number): string {
  const [area, exchange, line] = [digits10.slice(0, 3), digits10.slice(3, 6), digits10.slice(6)];
  switch (variant % 4) {
    case 0:
      return `${area}-${exchange}-${line}`;
    case 1:
      return `(${area}) ${exchange}-${line}`;
    case 2:
      return `+1 ${area} ${exchange} ${line}`;
    default:
      return `1${digits10}`;
  }
}

export function personalColumns(callKey: string, rowIndex: number): SimRow {
  let seed = 0;
  for (const char of callKey) seed = (seed * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  const roll = (salt: number, bound: number): number => hash(seed, 0, salt) % bound;
  const first = FIRST[roll(1, FIRST.length)] ?? 'Ana';
  const last = LAST[roll(2, LAST.length)] ?? 'Smith';
  const digits = `805${String(2_000_000 + roll(3, 7_000_000)).padStart(7, '0')}`;
  const mail = `${first.split(' ')[0]?.toLowerCase()}.${last.toLowerCase()}${roll(4, 1000)}@example.com`;
  const street = `${1 + roll(5, 9000)} ${STREETS[roll(6, STREETS.length)]}`;
  const zip = String(10_000 + roll(7, 89_999));
  return {
    calling_phone_number: phoneFormat(digits, rowIndex),
    cell_phone_number: roll(8, 3) === 0 ? '' : phoneFormat(digits, rowIndex + 1),
    home_phone_number: roll(9, 4) === 0 ? null : phoneFormat(`212${digits.slice(3)}`, rowIndex + 2),
    name: `${first} ${last}`,
    // The same address in any case: Invoca passes through what the caller or a form gave.
    email_address: rowIndex % 2 === 0 ? mail : ` ${mail.toUpperCase()} `,
    address1: street,
    address2: roll(10, 5) === 0 ? `Apt ${roll(11, 90)}` : '',
    zip_code: zip,
    first_name_data_append: first,
    last_name_data_append: last,
    display_name_data_append: `${first} ${last}`,
    primary_email_address_data_append: mail,
    address_full_street_data_append: `${street}, Springfield ${zip}`,
    address_zip_data_append: zip,
    age_range_data_append: ['25-34', '35-44', '45-54', '65+'][roll(12, 4)],
    gender_data_append: ['Female', 'Male', ''][roll(13, 3)],
    household_income_data_append: ['$50k-$75k', '$100k-$150k', '$150k+'][roll(14, 3)],
    marital_status_data_append: ['Single', 'Married'][roll(15, 2)],
  };
}
