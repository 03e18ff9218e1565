/**
 * The pickup reminder (issue 17): the evening before a confirmed order's pickup, the customer is
 * told to have the laundry ready. Both runtimes; called by the scheduled jobs (the Worker's cron,
 * the Kubernetes CronJob / Node timer through runPaymentJobsExclusive).
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../deps.js';

/** The local wall-clock time from which the reminder is due, the evening before the pickup day. */
export const REMINDER_LOCAL_TIME = '18:00';
/** How far ahead the job looks at pickups, ms: enough for the evening before (< 48 h), bounded so the scan stays small. */
export const REMINDER_HORIZON_MS = 48 * 3_600_000;

const Written = z.object({ written: z.number() });

/**
 * Writes the outbox rows of due pickup reminders in ONE statement (INSERT … SELECT … ON CONFLICT
 * (dedupe_key) DO NOTHING, dedupe key `pickup_reminder:<order id>`), so two runs at once, or a run
 * repeated, write each reminder once. Due: the order is `confirmed`, its customer is not
 * synthetic, and `now` is at or after 18:00 of the day before the pickup day, read on the zone's
 * clock (zones.time_zone; PostgreSQL's tz database resolves the offset of that evening, so a DST
 * change between now and the pickup moves nothing), and before the pickup slot starts (a job that
 * runs late still reminds; one that runs after the slot started does not). Answers how many rows
 * were written. `now` defaults to the app clock.
 */
export async function writePickupReminders(deps: Pick<Deps, 'database' | 'clock'>, now: Date = deps.clock.now()): Promise<number> {
  const at = now.toISOString();
  const horizon = new Date(now.getTime() + REMINDER_HORIZON_MS).toISOString();
  const [row] = await deps.database.rows(Written, sql`
    WITH due AS (
      SELECT o.id, o.user_id
      FROM orders o
      JOIN slots s ON s.id = o.pickup_slot_id
      JOIN zones z ON z.id = o.zone_id
      JOIN users u ON u.id = o.user_id
      WHERE o.status = 'confirmed' AND NOT u.synthetic
        AND s.starts_at > ${at}::timestamptz AND s.starts_at <= ${horizon}::timestamptz
        AND ${at}::timestamptz >= ((((s.starts_at AT TIME ZONE z.time_zone)::date - 1) + ${REMINDER_LOCAL_TIME}::time) AT TIME ZONE z.time_zone)
    ),
    ins AS (
      INSERT INTO notification_outbox (user_id, order_id, type, dedupe_key, data, created_at)
      SELECT d.user_id, d.id, 'pickup_reminder', 'pickup_reminder:' || d.id, jsonb_build_object('orderId', d.id), ${at}::timestamptz
      FROM due d
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id
    )
    SELECT count(*)::int AS written FROM ins`);
  return row!.written;
}
