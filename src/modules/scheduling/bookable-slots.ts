/**
 * GET /v1/slots: the bookable windows for a postcode, in one SQL statement with the zone matched
 * in SQL (./zone-match.ts), so one round trip on Neon.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { PublicSlotDto } from './schemas.js';
import { cutoffAtOf } from './slot-times.js';
import { zoneForPostcode, zoneSummaryOf, ZoneMatchRow, type ZoneViewer } from './zone-match.js';

/** A zone with one free slot, or the zone alone (every slot column null) when none is free. */
const SlotRow = z.union([
  ZoneMatchRow.extend({
    slot_id: z.string(),
    kind: z.enum(['pickup', 'delivery']),
    starts_at: z.string(),
    ends_at: z.string(),
    capacity: z.number(),
    reserved: z.number(),
    cutoff_minutes: z.number(),
  }),
  ZoneMatchRow.extend({ slot_id: z.null() }),
]);

/** A generous cap: 31 days of windows; it only guards the response size. */
const MAX_SLOTS = 1000;

/**
 * Bookable windows for a postcode, for `viewer` (the zone is matched as `zoneForPostcode` says:
 * synthetic zones for synthetic users only), in one statement: the zone is matched, then left-joined to
 * its slots so "served but nothing free" (one row, null slot) differs from "not served" (no row).
 * Bookable means the same as `slotAvailability` plus the zone's closed dates: not closed, before
 * cut-off, not full, and not on a `zone_closures` date, which is a date on the zone's local calendar.
 */
export async function listBookableSlots(
  deps: Deps,
  query: { postcode: string; kind: 'pickup' | 'delivery'; from: Date; to: Date },
  viewer: ZoneViewer,
) {
  const now = deps.clock.now().toISOString();
  const rows = await deps.database.rows(SlotRow, sql`
    WITH zone AS (${zoneForPostcode(query.postcode, viewer)})
    SELECT zone.*, s.id AS slot_id, s.kind, s.starts_at, s.ends_at, s.capacity, s.reserved, s.cutoff_minutes
    FROM zone
    LEFT JOIN slots s
      ON s.zone_id = zone.id
     AND s.kind = ${query.kind}::slot_kind
     AND s.starts_at >= ${query.from.toISOString()}::timestamptz
     AND s.starts_at < ${query.to.toISOString()}::timestamptz
     AND NOT s.closed
     AND s.reserved < s.capacity
     AND s.starts_at - make_interval(mins => s.cutoff_minutes) > ${now}::timestamptz
     AND NOT EXISTS (
       SELECT 1 FROM zone_closures c
       WHERE c.zone_id = zone.id AND c.date = (s.starts_at AT TIME ZONE zone.time_zone)::date
     )
    ORDER BY s.starts_at, s.id
    LIMIT ${MAX_SLOTS}`);
  const first = rows[0];
  if (!first) {
    throw new ApiError('postcode_not_served', `We do not serve ${query.postcode} yet.`);
  }
  const data: PublicSlotDto[] = rows
    .filter((r) => r.slot_id !== null)
    .map((r) => {
      // Remembered for the order that usually follows (src/db/order-inputs.ts; the order's write re-checks it).
      deps.orderInputs.putSlot({
        id: r.slot_id, zoneId: r.id, kind: r.kind, startsAt: new Date(r.starts_at), endsAt: new Date(r.ends_at),
        cutoffMinutes: r.cutoff_minutes, capacity: r.capacity, reserved: r.reserved, closed: false,
      });
      return {
      id: r.slot_id,
      kind: r.kind,
      startsAt: isoOf(r.starts_at),
      endsAt: isoOf(r.ends_at),
      capacity: r.capacity,
      remaining: r.capacity - r.reserved,
      cutoffAt: cutoffAtOf(r.starts_at, r.cutoff_minutes),
      };
    });
  return { zone: zoneSummaryOf(first, deps.config.currency), data };
}
