/**
 * SQL pieces and parsers shared by the scheduling and address modules (and by bookings):
 * zone matching lives in SQL so a request that needs "the zone for this postcode" plus
 * something else still costs one round trip.
 */
import { sql, type SQL } from 'drizzle-orm';
import { DomainError } from '../../domain/errors.js';
import { normalizePostcode } from '../../domain/slots.js';
import { DAY_MS, MINUTE_MS } from '../../domain/zoned-time.js';
import { ApiError } from '../../errors.js';

/** Raw-SQL timestamps arrive as strings on every driver (drizzle turns parsing off); the wire wants ISO UTC. */
export const isoOf = (value: string | Date): string => new Date(value).toISOString();

export const cutoffAtOf = (startsAt: string | Date, cutoffMinutes: number): string =>
  new Date(new Date(startsAt).getTime() - cutoffMinutes * MINUTE_MS).toISOString();

/**
 * A subquery yielding the one active zone serving `postcode` (already normalised), or no row.
 * Same rule as `matchZone` in src/domain/slots.ts: prefixes compared without whitespace and
 * upper-cased, empty prefixes ignored, longest prefix wins, ties broken by the lower zone id
 * (uuid order in Postgres is byte order, which is the order of the lower-case hex strings).
 */
export function zoneForPostcode(postcode: SQL | string): SQL {
  return sql`
    SELECT z.id, z.name, z.time_zone, z.delivery_fee, z.minimum_order, z.free_delivery_from
    FROM zones z
    CROSS JOIN LATERAL (
      SELECT upper(regexp_replace(raw, '[[:space:]]', '', 'g')) AS prefix FROM unnest(z.postcode_prefixes) AS raw
    ) p
    WHERE z.active AND p.prefix <> '' AND starts_with(${postcode}, p.prefix)
    ORDER BY length(p.prefix) DESC, z.id
    LIMIT 1`;
}

/** The columns `zoneForPostcode` yields, as read back through `Database.rows`. */
export interface ZoneMatchRow {
  id: string;
  name: string;
  time_zone: string;
  delivery_fee: number;
  minimum_order: number;
  free_delivery_from: number | null;
}

export function zoneSummaryOf(row: ZoneMatchRow, currency: string) {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    currency,
    deliveryFee: row.delivery_fee,
    minimumOrder: row.minimum_order,
    freeDeliveryFrom: row.free_delivery_from,
  };
}

/**
 * Normalises a postcode from a query string. A bad one keeps the domain's code
 * (`invalid_postcode`) and also names the field, like a validation error would.
 */
export function postcodeParam(raw: string, field = 'query.postcode'): string {
  try {
    return normalizePostcode(raw);
  } catch (err) {
    if (err instanceof DomainError) throw new ApiError('invalid_postcode', err.message, [{ field, message: err.message }]);
    throw err;
  }
}

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
