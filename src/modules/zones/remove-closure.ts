/** DELETE /v1/admin/zones/{id}/closures/{date}: reopen a local date, and its slots, in one statement. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { noZone } from './shared.js';

const RemovedClosureRow = z.object({ zone_found: z.number(), removed: z.number() });

/**
 * Deletes a closed date and reopens that local date's slots in one statement. Reopening clears
 * `closed` on every slot of the date, including one an admin had closed on its own.
 */
export async function removeClosure(deps: Deps, zoneId: string, date: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  const [row] = await deps.database.rows(RemovedClosureRow, sql`
    WITH z AS (SELECT id, time_zone FROM zones WHERE id = ${zoneId}::uuid),
    removed AS (
      DELETE FROM zone_closures c USING z WHERE c.zone_id = z.id AND c.date = ${date}::date RETURNING c.zone_id
    ),
    reopened AS (
      UPDATE slots s SET closed = false, updated_at = ${now}::timestamptz
      FROM z
      WHERE EXISTS (SELECT 1 FROM removed)
        AND s.zone_id = z.id AND s.closed AND (s.starts_at AT TIME ZONE z.time_zone)::date = ${date}::date
      RETURNING s.id
    )
    SELECT (SELECT count(*)::int FROM z) AS zone_found,
           (SELECT count(*)::int FROM removed) AS removed,
           (SELECT count(*)::int FROM reopened) AS reopened`);
  if (!row?.zone_found) throw noZone();
  if (!row.removed) throw new ApiError('not_found', `The zone is not closed on ${date}.`);
}
