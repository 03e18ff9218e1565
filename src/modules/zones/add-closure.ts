/** POST /v1/admin/zones/{id}/closures: close a local date, and its slots, in one statement. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { noZone } from './shared.js';

const ClosureRow = z.object({
  zone_id: z.string(),
  date: z.string(),
  reason: z.string().nullable(),
  created_at: z.string(),
  created: z.boolean(),
  newly_closed: z.number(),
  already_closed: z.number(),
});

/**
 * Records a closed date and closes that local date's slots in one statement. Repeating it is
 * harmless: the closure is kept (its reason replaced when a new one is sent) and `created`
 * tells the route whether to answer 201 or 200. Orders already booked on the date are left
 * alone; staff contact those customers.
 */
export async function addClosure(deps: Deps, zoneId: string, input: { date: string; reason?: string | undefined }) {
  const now = deps.clock.now().toISOString();
  const [row] = await deps.database.rows(ClosureRow, sql`
    WITH z AS (SELECT id, time_zone FROM zones WHERE id = ${zoneId}::uuid),
    closure AS (
      INSERT INTO zone_closures (zone_id, date, reason, created_at)
      SELECT z.id, ${input.date}::date, ${input.reason ?? null}, ${now}::timestamptz FROM z
      ON CONFLICT (zone_id, date) DO UPDATE SET reason = coalesce(EXCLUDED.reason, zone_closures.reason)
      RETURNING zone_id, date::text AS date, reason, created_at, (xmax = 0) AS created
    ),
    newly AS (
      UPDATE slots s SET closed = true, updated_at = ${now}::timestamptz
      FROM z
      WHERE s.zone_id = z.id AND NOT s.closed AND (s.starts_at AT TIME ZONE z.time_zone)::date = ${input.date}::date
      RETURNING s.id
    )
    SELECT closure.*,
           (SELECT count(*)::int FROM newly) AS newly_closed,
           (SELECT count(*)::int FROM slots s, z
             WHERE s.zone_id = z.id AND s.closed AND (s.starts_at AT TIME ZONE z.time_zone)::date = ${input.date}::date) AS already_closed
    FROM closure`);
  if (!row) throw noZone();
  return {
    created: row.created,
    closure: {
      zoneId: row.zone_id,
      date: row.date,
      reason: row.reason,
      createdAt: isoOf(row.created_at),
      // The last subquery sees the table as it was before this statement, so the two add up.
      slotsClosed: row.newly_closed + row.already_closed,
    },
  };
}
