/**
 * The simulated transaction feed of one account. Row i is a pure function of (seed, i), so the
 * feed never has to be held in memory, rows can be served from any cursor, and appending rows
 * (`append`) never changes the rows already served.
 *
 * Shape (as Invoca documents the rows: docs/design.md, "Invoca's Transactions API"): calls, some with a second leg; post call events and
 * sales (`Sale` or `Reported Conversion`) of earlier calls; corrections of earlier rows up to
 * 3,000 rows back (pages later), some corrected twice (sometimes within the same second);
 * opaque ids whose string order says nothing about feed order; money and numbers sometimes as
 * strings, empty values as `""` or `null`; custom columns with spaces, and `custom_data`.
 */
import { hash, hex, pick, Permutation64 } from './random.js';

export type RowKind = 'call' | 'leg2' | 'event' | 'sale' | 'correction';
export type SimRow = Record<string, unknown>;

export interface FeedOptions {
  seed: number;
  rows: number;
  rowsPerDay: number;
  /** Call start of row 0, in ms since the epoch. */
  startMs: number;
  /** The API user's time zone, as a fixed offset from UTC in minutes (e.g. -420 for -07:00). */
  utcOffsetMinutes: number;
  /** Local dates (`YYYY-MM-DD`) on which no call starts. */
  emptyDays: readonly string[];
  /** Rows from this index on carry the custom column `Coupon Code` (a field new mid-feed). */
  lateColumnAt: number | undefined;
  /** `root`: a correction names the original (documented); `previous`: the latest correction. */
  correctionTarget: 'root' | 'previous';
}

export const CUSTOM_COLUMNS = ['utm_source', 'Purchase Made', 'Lead Score', 'Appointment Booked'] as const;
export const LATE_CUSTOM_COLUMN = 'Coupon Code';

const CORRECTION_REACH = 3000;
const EVENT_REACH = 2000;
const WALK_LIMIT = 64;
const DAY_MS = 86_400_000;

enum Salt {
  Kind = 1,
  Reach,
  Jitter,
  Advertiser,
  Affiliate,
  Payin,
  Payout,
  Duration,
  Shape,
  Custom,
  SaleType,
  Geo,
  Signal,
}

const ADVERTISERS = [
  'Example Plumbing',
  'Café Plomberie',
  "O'Brien's HVAC",
  'Zürich Dental 🦷',
  'Acme "Best" Roofing',
  'Северный Ремонт',
  '東京 Solar',
  'Smith & Sons; Movers',
] as const;
const AFFILIATES = ['Lead Partners', 'Call Masters', 'Ñandú Media'] as const;
const MEDIA_TYPES = ['Online: Search', 'Online: Email', 'Offline: TV', 'Pooling'] as const;
const RESULTS = ['Paid', 'Unpaid', 'Duplicate', 'Qualified'] as const;
const HANGUPS = ['Caller: Hang-up', 'Destination: Hang-up', 'Destination: No Answer'] as const;
const CITIES = [
  ['Santa Barbara', 'CA'],
  ['Denver', 'CO'],
  ['Austin', 'TX'],
  ['Boise', 'ID'],
] as const;
const UTM_SOURCES = ['google', 'bing', 'facebook', '', null] as const;
const SIGNALS = ['Sale,Quote', 'Appointment Made', 'Quote', 'Sale'] as const;

export class Feed {
  readonly options: FeedOptions;
  #count: number;
  readonly #gapMs: number;
  readonly #holesMs: number[];
  readonly #transactionIds: Permutation64;
  readonly #callIds: Permutation64;

  constructor(options: FeedOptions) {
    this.options = options;
    this.#count = options.rows;
    this.#gapMs = DAY_MS / options.rowsPerDay;
    this.#holesMs = [...options.emptyDays]
      .map((day) => Date.parse(`${day}T00:00:00Z`) - options.utcOffsetMinutes * 60_000)
      .sort((a, b) => a - b);
    this.#transactionIds = new Permutation64(options.seed, 101);
    this.#callIds = new Permutation64(options.seed, 202);
  }

  get count(): number {
    return this.#count;
  }

  /** New rows: new calls, and late events and corrections of earlier calls. */
  append(rows: number): void {
    this.#count += rows;
  }

  /** How far after a call its related rows may appear; window scans look this far ahead. */
  get reach(): number {
    return this.options.correctionTarget === 'root' ? 2 * (CORRECTION_REACH + EVENT_REACH) : 20 * CORRECTION_REACH;
  }

  transactionId(index: number): string {
    const [high, low] = this.#transactionIds.encode(index);
    return `${hex(high, 8)}-${hex(low, 8)}`;
  }

  /** The row index of a transaction id, or undefined when no served row has it. */
  indexOf(transactionId: string): number | undefined {
    const match = /^([0-9A-F]{8})-([0-9A-F]{8})$/.exec(transactionId);
    if (!match) return undefined;
    const index = this.#transactionIds.decode(parseInt(match[1] as string, 16), parseInt(match[2] as string, 16));
    return index < this.#count ? index : undefined;
  }

  kind(index: number): RowKind {
    if (index === 0) return 'call';
    const base = this.#baseKind(index);
    if (base === 'leg2') return this.#baseKind(index - 1) === 'call' || index === 1 ? 'leg2' : 'call';
    if (base === 'double') return 'correction';
    return base;
  }

  /** The index of the row a correction names in `corrects_transaction_id`. */
  correctedIndex(index: number): number {
    const doubled = this.#baseKind(index) === 'double' && index > 1 && this.kind(index - 1) === 'correction';
    let target = doubled ? index - 1 : this.#reachBack(index, Salt.Reach, CORRECTION_REACH);
    if (this.options.correctionTarget === 'root') {
      while (this.kind(target) === 'correction') target = this.correctedIndex(target);
    }
    return target;
  }

  /** The original transaction a correction (or a chain of them) replaces. */
  rootIndex(index: number): number {
    let current = index;
    while (this.kind(current) === 'correction') current = this.correctedIndex(current);
    return current;
  }

  /** The index of the first leg of the call this row belongs to. */
  callIndex(index: number): number {
    switch (this.kind(index)) {
      case 'call':
        return index;
      case 'leg2':
        return index - 1;
      case 'correction':
        return this.callIndex(this.rootIndex(index));
      case 'event':
      case 'sale': {
        let candidate = this.#reachBack(index, Salt.Reach, EVENT_REACH);
        for (let step = 0; step < WALK_LIMIT && candidate > 0 && this.kind(candidate) !== 'call'; step++) candidate--;
        return this.kind(candidate) === 'call' ? candidate : 0;
      }
    }
  }

  /** When the call of row `callIndex` started; increases with the index. */
  callStartMs(callIndex: number): number {
    const jitter = pick(this.options.seed, callIndex, Salt.Jitter, Math.max(1, Math.floor(this.#gapMs / 2)));
    return this.#skipEmptyDays(this.options.startMs + callIndex * this.#gapMs + jitter);
  }

  /** When Invoca wrote the transaction: ten minutes after the call started at that index. */
  createdAtMs(index: number): number {
    return this.#skipEmptyDays(this.options.startMs + index * this.#gapMs) + 600_000;
  }

  localDate(ms: number): string {
    return new Date(ms + this.options.utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
  }

  /** The first index whose call starts at or after `ms` (binary search; starts increase). */
  firstIndexStartingAt(ms: number): number {
    let low = 0;
    let high = this.#count;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (this.callStartMs(middle) < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Start of a local date in UTC ms. */
  localDayStartMs(day: string): number {
    return Date.parse(`${day}T00:00:00Z`) - this.options.utcOffsetMinutes * 60_000;
  }

  /** Every column a network user can see, in a fixed order, plus `custom_data`. */
  row(index: number): SimRow {
    const kind = this.kind(index);
    if (kind === 'correction') return this.#correction(index);
    const callIndex = this.callIndex(index);
    const row = this.#callColumns(index, callIndex, kind);
    return row;
  }

  #baseKind(index: number): RowKind | 'double' {
    const roll = pick(this.options.seed, index, Salt.Kind, 1000);
    if (roll < 540) return 'call';
    if (roll < 600) return 'leg2';
    if (roll < 720) return 'event';
    if (roll < 790) return 'sale';
    if (roll < 960) return 'correction';
    return 'double';
  }

  #reachBack(index: number, salt: Salt, reach: number): number {
    return index - 1 - pick(this.options.seed, index, salt, Math.min(index, reach));
  }

  #skipEmptyDays(ms: number): number {
    let shifted = ms;
    for (const hole of this.#holesMs) if (shifted >= hole) shifted += DAY_MS;
    return shifted;
  }

  #callColumns(index: number, callIndex: number, kind: Exclude<RowKind, 'correction'>): SimRow {
    const seed = this.options.seed;
    const shape = hash(seed, index, Salt.Shape);
    const advertiserNumber = pick(seed, callIndex, Salt.Advertiser, ADVERTISERS.length);
    const affiliateRoll = pick(seed, callIndex, Salt.Affiliate, AFFILIATES.length + 1);
    const affiliate = affiliateRoll < AFFILIATES.length ? AFFILIATES[affiliateRoll] : undefined;
    const [city, region] = CITIES[pick(seed, callIndex, Salt.Geo, CITIES.length)] ?? CITIES[0];
    const startMs = this.callStartMs(callIndex);
    const duration = 20 + pick(seed, callIndex + (kind === 'leg2' ? 1 : 0), Salt.Duration, 900);
    const isCallLeg = kind === 'call' || kind === 'leg2';
    const payinCents = isCallLeg || kind === 'sale' ? pick(seed, index, Salt.Payin, 20_000) : 0;
    const payoutCents = affiliate ? Math.floor(payinCents * 0.6) : 0;
    const emptyStyle = (shape & 1) === 0 ? null : '';
    const saleType = pick(seed, index, Salt.SaleType, 2) === 0 ? 'Sale' : 'Reported Conversion';
    const type = isCallLeg ? 'Call' : kind === 'event' ? 'Post Call Event' : saleType;
    const signal = SIGNALS[pick(seed, index, Salt.Signal, SIGNALS.length)] ?? 'Sale';
    const custom = this.#customValues(callIndex, index);
    return {
      transaction_id: this.transactionId(index),
      transaction_type: type,
      corrects_transaction_id: emptyStyle,
      corrected_at: emptyStyle,
      complete_call_id: this.#completeCallId(callIndex),
      original_order_id: kind === 'sale' ? this.transactionId(callIndex) : '',
      advertiser_id: String(1000 + advertiserNumber),
      advertiser_id_from_network: `ADV-${advertiserNumber}`,
      advertiser_name: ADVERTISERS[advertiserNumber],
      advertiser_campaign_id: String(55_000 + advertiserNumber * 10 + (callIndex % 3)),
      advertiser_campaign_id_from_network: `CMP-${callIndex % 3}`,
      advertiser_campaign_name: ['Spring Search', 'Brand TV', 'Email "VIP"'][callIndex % 3],
      advertiser_campaign_country: 'US',
      affiliate_id: affiliate ? String(700 + affiliateRoll) : emptyStyle,
      affiliate_id_from_network: affiliate ? `AFF-${affiliateRoll}` : emptyStyle,
      affiliate_name: affiliate ?? emptyStyle,
      advertiser_payin_localized: money(payinCents, shape),
      affiliate_payout_localized: affiliate ? money(payoutCents, shape) : '',
      margin_localized: money(payinCents - payoutCents, shape),
      call_fee_localized: isCallLeg ? '0.25' : '0.00',
      advertiser_call_fee_localized: '0.00',
      matching_advertiser_payin_policies: payinCents > 0 ? 'base' : '',
      call_result_description_detail: RESULTS[pick(seed, index, Salt.Payin + 100, RESULTS.length)],
      call_source_description: `866-555-${String(callIndex % 10_000).padStart(4, '0')}`,
      media_type: MEDIA_TYPES[callIndex % MEDIA_TYPES.length],
      virtual_line_id: String(3_390_000 + (callIndex % 500)),
      calling_phone_number: `805-555-${String((callIndex * 7) % 10_000).padStart(4, '0')}`,
      destination_phone_number: `805-555-${String(advertiserNumber * 11).padStart(4, '0')}`,
      city,
      region,
      mobile: ['Mobile', 'Landline', ''][callIndex % 3],
      // Numbers arrive as numbers on most rows and as numeric strings on some (Invoca's documentation types them loosely).
      duration: shape % 10 === 3 ? String(duration) : duration,
      connect_duration: Math.max(0, duration - 24),
      ivr_duration: 24,
      keypresses: kind === 'leg2' ? '1' : '',
      start_time_local: this.#localTimestamp(startMs, ':'),
      start_time_utc: shape % 10 === 7 ? String(startMs) : startMs,
      start_time_xml: this.#localTimestamp(startMs, 'xml'),
      recording: isCallLeg ? `https://sim.invoca.net/call/recording/${this.#completeCallId(callIndex)}` : '',
      hangup_cause: isCallLeg ? HANGUPS[callIndex % HANGUPS.length] : '',
      signal_name: kind === 'event' ? signal : '',
      signal_partner_unique_id: kind === 'event' ? `order-${index}` : '',
      revenue: kind === 'event' || kind === 'sale' ? money(pick(seed, index, Salt.Payout, 90_000), shape) : '',
      ...custom.flat,
      custom_data: custom.nested,
    };
  }

  #correction(index: number): SimRow {
    const root = this.rootIndex(index);
    const seed = this.options.seed;
    const original = this.#callColumns(root, this.callIndex(root), this.kind(root) as Exclude<RowKind, 'correction'>);
    const doubled = this.#baseKind(index) === 'double' && index > 1 && this.kind(index - 1) === 'correction';
    // A double correction follows the previous one within the same second.
    const correctedMs = doubled ? this.createdAtMs(index - 1) + 400 : this.createdAtMs(index);
    const shape = hash(seed, index, Salt.Shape);
    const payinCents = pick(seed, index, Salt.Payin, 20_000);
    const custom = this.#customValues(this.callIndex(root), index);
    return {
      ...original,
      transaction_id: this.transactionId(index),
      corrects_transaction_id: this.transactionId(this.correctedIndex(index)),
      corrected_at: this.#localTimestamp(correctedMs, ':'),
      advertiser_payin_localized: money(original['transaction_type'] === 'Post Call Event' ? 0 : payinCents, shape),
      call_result_description_detail: RESULTS[pick(seed, index, Salt.Payin + 100, RESULTS.length)],
      ...custom.flat,
      custom_data: custom.nested,
    };
  }

  #completeCallId(callIndex: number): string {
    const [high, low] = this.#callIds.encode(callIndex);
    return `${hex(high, 4)}-${hex(high >>> 16, 4)}${hex(low, 8)}`;
  }

  #customValues(callIndex: number, index: number): { flat: SimRow; nested: SimRow[] } {
    const seed = this.options.seed;
    const roll = hash(seed, index, Salt.Custom);
    const utm = UTM_SOURCES[pick(seed, callIndex, Salt.Custom, UTM_SOURCES.length)] ?? null;
    const purchase = roll % 3 === 0 ? true : roll % 3 === 1 ? false : null;
    const score = roll % 5 === 0 ? '' : String(roll % 100);
    const appointment = roll % 7 === 0 ? true : null;
    const flat: SimRow = {
      utm_source: utm,
      'Purchase Made': purchase ? 1 : null,
      'Lead Score': score,
      'Appointment Booked': appointment ? 1 : null,
    };
    const nested: SimRow[] = [];
    if (utm !== null) nested.push({ name: 'utm_source', data_type: 'Category', source: 'DynamicAttribution', value: utm });
    if (purchase !== null) nested.push({ name: 'Purchase Made', data_type: 'Signal', source: 'Api', value: purchase });
    nested.push({ name: 'Lead Score', data_type: 'Short Text', source: 'Expression', value: score });
    if (appointment !== null) nested.push({ name: 'Appointment Booked', data_type: 'Signal', source: 'AI', value: true });
    const lateAt = this.options.lateColumnAt;
    if (lateAt !== undefined && index >= lateAt) {
      const coupon = `SAVE${roll % 50}`;
      flat[LATE_CUSTOM_COLUMN] = coupon;
      nested.push({ name: LATE_CUSTOM_COLUMN, data_type: 'Short Text', source: 'Api', value: coupon });
    }
    return { flat, nested };
  }

  /** `2019-01-24 06:43:15 -07:00` (docs/design.md, "Invoca's Transactions API"), or the xs:dateTime form for `start_time_xml`. */
  #localTimestamp(ms: number, style: ':' | 'xml'): string {
    const offset = this.options.utcOffsetMinutes;
    const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
    const sign = offset < 0 ? '-' : '+';
    const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
    const minutes = String(Math.abs(offset) % 60).padStart(2, '0');
    return style === 'xml' ? `${local}${sign}${hours}:${minutes}` : `${local.replace('T', ' ')} ${sign}${hours}:${minutes}`;
  }
}

/** Money as Invoca sends it: a decimal string on most rows, a JSON number on some. */
function money(cents: number, shape: number): string | number {
  const text = (cents / 100).toFixed(2);
  return shape % 10 === 5 ? Number(text) : text;
}
