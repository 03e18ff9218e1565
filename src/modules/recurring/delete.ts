/** DELETE /v1/me/recurring-pickups/{id}. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { scheduleNotFound } from './shared.js';

/** Deletes the schedule and its occurrence records; orders already created are kept (cancel them one by one). One statement. */
export async function deleteSchedule(deps: Deps, userId: string, id: string): Promise<void> {
  const rows = await deps.database.rows(z.object({ id: z.string() }), sql`
    DELETE FROM recurring_pickups WHERE id = ${id}::uuid AND user_id = ${userId}::uuid RETURNING id`);
  if (rows.length === 0) throw scheduleNotFound();
}
