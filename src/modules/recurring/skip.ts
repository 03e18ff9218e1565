/** POST /v1/me/recurring-pickups/{id}/skip. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { localDateOf, onCadence } from '../../domain/recurrence.js';
import { zonedWallTimeToUtc } from '../../domain/zoned-time.js';
import { ApiError } from '../../errors.js';
import type { ScheduleDto } from './schemas.js';
import { readSchedule, ScheduleRow, scheduleRows, toScheduleDto } from './shared.js';

/**
 * Skips one date: it must be an occurrence of the schedule by cadence and not in the past (today
 * only before the pickup starts). The date is claimed in `recurring_occurrences` as `skipped` in
 * the same statement as it is added to `skipped_dates`: the job claims dates through the same
 * primary key, so a skip and the job racing for one date cannot both win. A date whose order was
 * already created (or being created by the job) answers 409 `occurrence_already_created` (cancel
 * that order instead); a date the job could not book (`needs_attention`, no order) becomes
 * `skipped` (the job never retries such a date, so nothing races it). Skipping a date twice is a
 * no-op. Two round trips.
 */
export async function skipDate(deps: Deps, userId: string, id: string, date: string): Promise<ScheduleDto> {
  const current = await readSchedule(deps, userId, id);
  const now = deps.clock.now();
  if (!onCadence({ cadence: current.cadence, anchorDate: current.anchor_date }, date)) {
    throw new ApiError('skip_date_invalid', `${date} is not one of this schedule’s dates.`, { details: { date } });
  }
  const timeZone = current.time_zone;
  if (timeZone) {
    const today = localDateOf(now, timeZone);
    if (date < today || (date === today && zonedWallTimeToUtc(date, current.pickup_start, timeZone) <= now)) {
      throw new ApiError('skip_date_invalid', `${date} is in the past.`, { details: { date } });
    }
  }
  if (current.skipped_dates.includes(date)) return toScheduleDto(deps, current);
  const nowIso = now.toISOString();
  const [row] = await deps.database.rows(z.object({ claimed: z.boolean(), saved: ScheduleRow.nullable() }), sql`
    WITH claim AS (
      INSERT INTO recurring_occurrences (schedule_id, date, status, claimed_at, created_at, updated_at)
      SELECT r.id, ${date}::date, 'skipped', ${nowIso}::timestamptz, ${nowIso}::timestamptz, ${nowIso}::timestamptz
      FROM recurring_pickups r WHERE r.id = ${id}::uuid AND r.user_id = ${userId}::uuid
      ON CONFLICT (schedule_id, date) DO UPDATE SET status = 'skipped', reason = NULL, updated_at = excluded.updated_at
        WHERE recurring_occurrences.status = 'needs_attention'
      RETURNING schedule_id
    ), w AS (
      UPDATE recurring_pickups r SET skipped_dates = array_append(r.skipped_dates, ${date}::date), updated_at = ${nowIso}::timestamptz
      FROM claim WHERE r.id = claim.schedule_id RETURNING r.*
    )
    SELECT EXISTS (SELECT 1 FROM claim) AS claimed, (SELECT row_to_json(x) FROM (${scheduleRows(sql`w`)}) x) AS saved`);
  if (!row?.claimed || !row.saved) {
    throw new ApiError('occurrence_already_created', `The order for ${date} has already been placed; cancel that order instead.`, { details: { date } });
  }
  return toScheduleDto(deps, row.saved);
}
