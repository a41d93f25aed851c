/**
 * Where a first sync with `start_date` starts (docs/design.md, "Where a first sync starts").
 * `start_after_transaction_id` excludes its anchor and date windows come in call start order, so
 * the anchor is the first original Call of the day before `start_date`; the cursor walk from it
 * then holds every transaction of the calls on or after `start_date` (and a few corrections of
 * older calls, which are kept). An empty day steps back one more day, up to MAX_DAYS_BACK.
 */
import type { InvocaClient } from '../invoca/client.js';
import type { Logger } from '../log.js';
import { CALL_TYPE } from '../stream/transaction-types.js';

export const MAX_DAYS_BACK = 31;

export async function findAnchor(client: InvocaClient, startDate: string, logger: Logger): Promise<string | undefined> {
  for (let daysBack = 1; daysBack <= MAX_DAYS_BACK; daysBack++) {
    const day = addDays(startDate, -daysBack);
    const page = await client.fetchPage({ from: day, to: day, limit: 1000, transactionTypes: [CALL_TYPE] });
    const anchor = page.rows.find((row) => row['transaction_type'] === CALL_TYPE && isEmpty(row['corrects_transaction_id']));
    if (anchor) {
      const id = String(anchor['transaction_id']);
      logger.info(`start_date ${startDate}: starting after ${id}, the first call of ${day}`);
      return id;
    }
    logger.info(`start_date ${startDate}: no call on ${day}, looking one day earlier`);
  }
  logger.warn(`start_date ${startDate}: no call in the ${MAX_DAYS_BACK} days before it; reading the feed from its beginning`);
  return undefined;
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}
