import type { InferredOptionTypes, Options } from 'yargs';
import { UsageError } from '../errors.js';
import { parseFaults, type FaultSpec } from '../simulator/faults.js';
import { helpAndVersionOptions } from './parser.js';

export const simulatorOptions = {
  port: { type: 'number', default: 0, describe: 'Port on 127.0.0.1 (0 picks a free one)' },
  host: { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' },
  rows: { type: 'number', default: 1000, describe: 'Rows in the feed at start' },
  seed: { type: 'number', default: 1, describe: 'Seed of the deterministic feed' },
  token: { type: 'string', describe: 'The API token clients must send in Authorization (required)' },
  'account-id': { type: 'string', describe: 'The account id in the URL path (required)' },
  'account-type': { choices: ['network', 'advertiser', 'affiliate'] as const, default: 'network', describe: 'Role of the token' },
  'rows-per-day': { type: 'number', default: 1000, describe: 'Calls are spread over days at this rate' },
  'start-date': { type: 'string', default: '2026-01-01', describe: 'Local date of the first call' },
  'utc-offset': { type: 'string', default: '-07:00', describe: "The API user's time zone offset" },
  'empty-days': { type: 'string', describe: 'Comma-separated local dates on which no call starts' },
  'late-column-at': { type: 'number', describe: 'Rows from this index on carry a new custom column "Coupon Code"' },
  'correction-target': { choices: ['root', 'previous'] as const, default: 'root', describe: 'What a second correction names' },
  'latency-ms': { type: 'number', default: 0, describe: 'Delay added to every transactions request' },
  hostile: {
    type: 'boolean',
    default: false,
    describe: 'Mix rows that do not look like the docs into the feed (missing fields, odd types, SQL in column names)',
  },
  narrow: {
    type: 'boolean',
    default: false,
    describe: 'Rows carry 21 of the fields only (keys, time, parties, money): an account that fills few columns',
  },
  personal: {
    type: 'boolean',
    default: false,
    describe: "Rows carry the caller's personal data: name, e-mail, street address, data append columns (for hash_columns)",
  },
  faults: { type: 'string', describe: 'JSON fault list, e.g. [{"kind":"status","status":429,"retryAfter":"1"}]' },
  ...helpAndVersionOptions,
} as const satisfies Record<string, Options>;

/** The simulator's argv: every flag with a default is there. */
export type SimulatorArgv = InferredOptionTypes<typeof simulatorOptions>;

export interface CheckedSimulatorArgs {
  token: string;
  accountId: string;
  utcOffsetMinutes: number;
  startMs: number;
  emptyDays: string[];
  faults: FaultSpec[];
}

/** Validates what yargs cannot; throws a one-line UsageError naming the flag. Pure. */
export function check(argv: SimulatorArgv): CheckedSimulatorArgs {
  if (!argv.token) throw new UsageError('--token is required: the API token clients must send');
  if (!argv['account-id']) throw new UsageError('--account-id is required: the account id in the URL path');
  for (const flag of ['port', 'rows', 'rows-per-day', 'latency-ms'] as const) {
    const value = argv[flag];
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${flag} must be a non-negative integer`);
  }
  if (argv['rows-per-day'] < 1) throw new UsageError('--rows-per-day must be at least 1');
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(argv['utc-offset']);
  if (!offset) throw new UsageError('--utc-offset must look like -07:00');
  const utcOffsetMinutes = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
  const dates = [argv['start-date'], ...(argv['empty-days']?.split(',').map((day) => day.trim()) ?? [])];
  for (const day of dates) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day))) {
      throw new UsageError(`--start-date and --empty-days take dates as YYYY-MM-DD, not '${day}'`);
    }
  }
  let faults: FaultSpec[] = [];
  if (argv.faults !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(argv.faults);
    } catch {
      throw new UsageError('--faults must be JSON');
    }
    faults = parseFaults(parsed);
  }
  // The first call starts at 01:00 local time on the start date.
  const startMs = Date.parse(`${argv['start-date']}T01:00:00Z`) - utcOffsetMinutes * 60_000;
  return { token: argv.token, accountId: argv['account-id'], utcOffsetMinutes, startMs, emptyDays: dates.slice(1), faults };
}
