/**
 * The times of a slot listing, shared by the public listing (./bookable-slots.ts) and the admin
 * one (src/modules/zones/list-slots.ts): a slot's cut-off instant, and the [from, to) window a
 * listing may ask for.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/zoned-time.js';
import { ApiError } from '../../errors.js';

/** The instant booking closes, `cutoffMinutes` before `startsAt`, as ISO 8601 UTC. */
export const cutoffAtOf = (startsAt: string | Date, cutoffMinutes: number): string =>
  new Date(new Date(startsAt).getTime() - cutoffMinutes * MINUTE_MS).toISOString();

export const DEFAULT_RANGE_DAYS = 14;
export const MAX_RANGE_DAYS = 31;

/** `from` defaults to now and `to` to two weeks after `from`; a wider window than 31 days is refused. */
export function timeRange(query: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date } {
  const from = query.from ? new Date(query.from) : now;
  const to = query.to ? new Date(query.to) : new Date(from.getTime() + DEFAULT_RANGE_DAYS * DAY_MS);
  if (to.getTime() <= from.getTime()) {
    throw new ApiError('invalid_range', '`to` must be after `from`.', [{ field: 'query.to', message: 'must be after from' }]);
  }
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new ApiError('invalid_range', `A range may span at most ${MAX_RANGE_DAYS} days.`, [
      { field: 'query.to', message: `must be at most ${MAX_RANGE_DAYS} days after from` },
    ]);
  }
  return { from, to };
}
