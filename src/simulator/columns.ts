/**
 * Which columns each role sees, and how `include_columns` / `exclude_columns` pick among them
 * (docs/design.md, "Invoca's Transactions API"). Written from Invoca's documentation, independently of the client (docs/design.md, "The simulator").
 */
import type { SimRow } from './feed.js';

export type Role = 'network' | 'advertiser' | 'affiliate';

const ADVERTISER_HIDDEN = new Set([
  'advertiser_id',
  'advertiser_id_from_network',
  'advertiser_name',
  'affiliate_payout_localized',
  'call_fee_localized',
  'payout_conditions',
  'matching_affiliate_payout_policies',
  'hangup_cause',
]);

const AFFILIATE_VISIBLE = new Set([
  'transaction_id',
  'transaction_type',
  'corrects_transaction_id',
  'corrected_at',
  'complete_call_id',
  'original_order_id',
  'advertiser_id',
  'advertiser_name',
  'advertiser_campaign_id',
  'advertiser_campaign_name',
  'affiliate_payout_localized',
  'call_result_description_detail',
  'call_source_description',
  'city',
  'region',
  'duration',
  'connect_duration',
  'ivr_duration',
  'keypresses',
  'media_type',
  'mobile',
  'start_time_local',
  'start_time_utc',
  'start_time_xml',
  'virtual_line_id',
]);

export class ColumnRequestError extends Error {}

export interface ColumnSelection {
  /** Shape one full feed row into what this request returns. */
  apply(row: SimRow, customColumns: readonly string[]): SimRow;
}

/** The row as the role sees it, every default and custom column, before any selection. */
function roleView(row: SimRow, role: Role): SimRow {
  if (role === 'network') return row;
  const view: SimRow = {};
  for (const [key, value] of Object.entries(row)) {
    if (role === 'advertiser') {
      if (ADVERTISER_HIDDEN.has(key)) continue;
      view[key === 'call_result_description_detail' ? 'call_result_description_detail_managed_advertiser' : key] = value;
    } else if (AFFILIATE_VISIBLE.has(key)) {
      view[key] = value;
    }
  }
  return view;
}

function splitList(value: string | null): string[] {
  if (value === null) return [];
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function parseColumnSelection(role: Role, includeParam: string | null, excludeParam: string | null): ColumnSelection {
  const include = splitList(includeParam);
  const exclude = splitList(excludeParam);
  const known =
    role === 'affiliate'
      ? ['$invoca_default_columns']
      : ['$invoca_default_columns', '$invoca_custom_columns', '$invoca_custom_source_columns'];
  for (const item of [...include, ...exclude]) {
    if (item.startsWith('$') && !known.includes(item)) {
      throw new ColumnRequestError(`${item} is not a valid column constant for this account`);
    }
  }
  const everything = includeParam === null;
  const constantsIn = new Set(include.filter((item) => item.startsWith('$')));
  const constantsOut = new Set(exclude.filter((item) => item.startsWith('$')));
  const namesIn = new Set(include.filter((item) => !item.startsWith('$')));
  const namesOut = new Set(exclude.filter((item) => !item.startsWith('$')));
  const wantDefaults = (everything || constantsIn.has('$invoca_default_columns')) && !constantsOut.has('$invoca_default_columns');
  const wantCustom =
    role !== 'affiliate' && (everything || constantsIn.has('$invoca_custom_columns')) && !constantsOut.has('$invoca_custom_columns');
  const wantSources = role !== 'affiliate' && constantsIn.has('$invoca_custom_source_columns');

  return {
    apply(row, customColumns) {
      const view = roleView(row, role);
      const customs = new Set(customColumns);
      const result: SimRow = {};
      for (const [key, value] of Object.entries(view)) {
        if (namesOut.has(key)) continue;
        if (key === 'custom_data') {
          if (namesIn.has(key)) result[key] = value;
          continue;
        }
        const isCustom = customs.has(key);
        if (namesIn.has(key) || (isCustom ? wantCustom : wantDefaults)) result[key] = value;
      }
      if (wantSources) {
        const nested = Array.isArray(row['custom_data']) ? (row['custom_data'] as SimRow[]) : [];
        for (const name of customColumns) {
          const entry = nested.find((item) => item['name'] === name);
          if (!namesOut.has(`${name}.source`)) result[`${name}.source`] = entry ? entry['source'] : null;
        }
      }
      return result;
    },
  };
}
