/**
 * The parallel backfill of a first sync with `start_date` (docs/design.md, "Backfills"). The
 * anchor for yesterday is fixed first; then the date windows from `start_date` to today are fetched, up to `concurrency` at a time, each paged with the cursor
 * inside its window; then the sync walks the cursor from the anchor. A row fetched both in a
 * window and on the cursor keeps its first sequence in the loaders, and the version order keeps
 * the merge right, so the merged tables equal those of the sequential cursor walk.
 */
import type { InvocaClient, TransactionsPage } from '../invoca/client.js';
import { addDays } from './anchor.js';

export interface DateWindow {
  /** `YYYY-MM-DD`, both inclusive, in the API user's time zone (Invoca's `from` and `to`). */
  from: string;
  to: string;
}

/** Windows per worker: more, smaller windows even out days of different sizes and empty days. */
const WINDOWS_PER_WORKER = 4;

/** Contiguous windows covering `startDate .. today`, about `WINDOWS_PER_WORKER` per worker. Pure. */
export function dateWindows(startDate: string, today: string, concurrency: number): DateWindow[] {
  const days = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${startDate}T00:00:00Z`)) / 86_400_000) + 1;
  if (!(days > 0)) return [];
  const count = Math.min(days, concurrency * WINDOWS_PER_WORKER);
  const windows: DateWindow[] = [];
  let first = 0;
  for (let index = 0; index < count; index++) {
    // Spread the remainder over the first windows so sizes differ by at most one day.
    const length = Math.floor(days / count) + (index < days % count ? 1 : 0);
    windows.push({ from: addDays(startDate, first), to: addDays(startDate, first + length - 1) });
    first += length;
  }
  return windows;
}

/**
 * The pages of all windows, each window paged in call start order, at most `concurrency` windows
 * in flight. Pages come in arrival order (windows interleave); each holds whole rows only.
 */
export async function* windowPages(
  client: InvocaClient,
  windows: readonly DateWindow[],
  concurrency: number,
): AsyncGenerator<TransactionsPage> {
  const queue = [...windows];
  type Lane = { pages: AsyncGenerator<TransactionsPage>; next: Promise<{ lane: Lane; result: IteratorResult<TransactionsPage> }> };
  const lanes = new Set<Lane>();
  const advance = (lane: Lane): void => {
    lane.next = lane.pages.next().then((result) => ({ lane, result }));
    // A lane's failure is rethrown by the race below; this only keeps it from being "unhandled".
    lane.next.catch(() => undefined);
  };
  const open = (): void => {
    const window = queue.shift();
    if (!window) return;
    const lane = { pages: client.pages({ from: window.from, to: window.to }) } as Lane;
    advance(lane);
    lanes.add(lane);
  };
  try {
    while (lanes.size < concurrency && queue.length > 0) open();
    while (lanes.size > 0) {
      const { lane, result } = await Promise.race([...lanes].map((item) => item.next));
      if (result.done) {
        lanes.delete(lane);
        open();
        continue;
      }
      yield result.value;
      // Only now: a lane holds at most the page being written and the one its pager prefetches.
      advance(lane);
    }
  } finally {
    await Promise.all([...lanes].map((lane) => lane.pages.return(undefined).catch(() => undefined)));
  }
}
