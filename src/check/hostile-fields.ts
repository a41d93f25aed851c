/**
 * Custom-field names as Invoca customers type them: any character, any case, any length. The
 * tests load them on every engine; `target-invoca check` loads them into the user's warehouse.
 */
export const HOSTILE_FIELDS = [
  "Customer's Name",
  'Quote "Q"',
  'back\\slash',
  'Email',
  'email',
  'EMAIL',
  '_PARTITIONTIME_x',
  '_table_suffix_y',
  '1st call',
  'Ünïcode Feld',
  'select',
  'utm.source',
  'Semi;colon -- x',
  'a\ttab',
  'new\nline',
  'back`tick',
  '$dollar',
  'it\'\'s "both"',
  '📞 emoji',
  '_INVOCA_RAW',
  '_invoca_latest',
  'ROOT_TRANSACTION_ID',
  'Transaction_Id',
  `long ${'x'.repeat(315)}`,
  `long ${'x'.repeat(314)}y`,
];
