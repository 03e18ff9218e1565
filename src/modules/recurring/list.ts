/** GET /v1/me/recurring-pickups: the caller's schedules, oldest first. One statement. */
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import type { ScheduleDto } from './schemas.js';
import { ScheduleRow, scheduleRows, toScheduleDto } from './shared.js';

export async function listSchedules(deps: Deps, userId: string): Promise<ScheduleDto[]> {
  const rows = await deps.database.rows(ScheduleRow, sql`
    ${scheduleRows(sql`(SELECT * FROM recurring_pickups WHERE user_id = ${userId}::uuid)`)} ORDER BY r.created_at, r.id`);
  return rows.map((r) => toScheduleDto(deps, r));
}
