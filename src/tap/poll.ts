/**
 * Invoca's polling floor (Invoca's Transactions API FAQ: poll at any interval above five minutes; docs/design.md), kept
 * across runs through `last_poll_started_at` in the state. Pure: the session sleeps and logs.
 */
import type { TapBookmark } from './state.js';

/**
 * The longest a run waits for the floor instead of skipping its poll: a `*\/5` schedule that
 * starts a few seconds early must not lose a whole interval.
 */
export const MAX_FLOOR_WAIT_MS = 60_000;

export type PollDecision = { kind: 'poll' } | { kind: 'wait'; ms: number } | { kind: 'skip'; nextPollAt: string };

/** When the next poll may start: `minIntervalSeconds` after the last one started. */
export function nextPollMs(bookmark: TapBookmark, minIntervalSeconds: number): number | undefined {
  if (bookmark.lastPollStartedAt === undefined) return undefined;
  return Date.parse(bookmark.lastPollStartedAt) + minIntervalSeconds * 1000;
}

/**
 * What a run does now. A first sync and a state without a last poll are not limited; a last poll
 * in the future (a clock set back) does not block either. `firstSync`: nothing was read yet (no
 * cursor in the state), so the run starts at once; the later polls of --follow are never a
 * first sync, even while the feed is still empty.
 */
export function pollDecision(bookmark: TapBookmark, minIntervalSeconds: number, nowMs: number, firstSync: boolean): PollDecision {
  const next = nextPollMs(bookmark, minIntervalSeconds);
  if (firstSync || next === undefined) return { kind: 'poll' };
  const remaining = next - nowMs;
  if (remaining <= 0 || remaining > minIntervalSeconds * 1000) return { kind: 'poll' };
  if (remaining <= MAX_FLOOR_WAIT_MS) return { kind: 'wait', ms: remaining };
  return { kind: 'skip', nextPollAt: new Date(next).toISOString() };
}
