/**
 * Step 1 of the dispatcher (./dispatch.ts explains the design): outbox rows → delivery rows, in
 * ONE statement whatever the batch size.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { ACCOUNT_EMAIL_TYPES, NOTIFICATION_CHANNELS, NOTIFICATION_TYPES } from '../db/schema-notification-kinds.js';
import type { DispatchDeps } from './dispatch.js';
import { DISPATCH_TAG, iso } from './dispatch-sql.js';
import { DEFAULT_PREFERENCES, MANDATORY_TYPES } from './preferences.js';

/** Outbox rows one fan-out claims. */
export const FAN_OUT_BATCH = 100;

export interface FanOutResult {
  /** Outbox rows claimed and marked dispatched. */
  outboxRows: number;
  /** Delivery rows written `pending`, by id (the Worker may send them at once). */
  pendingIds: number[];
  /** Delivery rows written `skipped` (preferences, unconfigured channel). */
  skipped: number;
}

const FanOutRow = z.object({ outbox_rows: z.number(), pending_ids: z.array(z.coerce.number()), skipped: z.number() });

/**
 * Fans out up to `limit` undispatched outbox rows (oldest first) in ONE statement (see
 * ./dispatch.ts). `olderThanMs`: only rows created at least that long ago (the sweep's "still
 * undispatched after a minute"); default 0, every row. The default preference matrix goes in as a
 * literal (DEFAULT_PREFERENCES), the overrides are read in the same statement, so the decision and
 * the write see one snapshot. Skip reasons in last_error: `preference: <type> off on <channel>`,
 * `channel not configured: <channel>`. A mandatory type (MANDATORY_TYPES) with no delivery that
 * would be pending on a configured channel gets its email delivery pending anyway. An account
 * email (ACCOUNT_EMAIL_TYPES: the row has `recipient`) gets exactly one delivery, by email to that
 * address, always pending: no push, no SMS, no preference applies.
 */
export async function fanOut(deps: DispatchDeps, opts: { limit?: number; olderThanMs?: number } = {}): Promise<FanOutResult> {
  const now = deps.clock.now();
  // Exclusive bound one millisecond on: the clock has ms precision, created_at µs, so a row
  // written within the current millisecond is still "at least olderThanMs old".
  const cutoff = new Date(now.getTime() - (opts.olderThanMs ?? 0) + 1);
  const matrix = NOTIFICATION_TYPES.flatMap((type) => NOTIFICATION_CHANNELS.map((channel) => ({ type, channel, enabled: DEFAULT_PREFERENCES[type][channel] })));
  const configured = NOTIFICATION_CHANNELS.filter((c) => deps.clients[c] !== undefined);
  const [row] = await deps.database.rows(FanOutRow, sql`${DISPATCH_TAG}
    WITH claimed AS (
      SELECT o.id, o.user_id, o.type, o.recipient FROM notification_outbox o
      WHERE o.dispatched_at IS NULL AND o.created_at < ${iso(cutoff)}::timestamptz
      ORDER BY o.created_at, o.id
      LIMIT ${opts.limit ?? FAN_OUT_BATCH}
      FOR UPDATE SKIP LOCKED
    ),
    defaults AS (
      SELECT d.type::notification_type AS type, d.channel::notification_channel AS channel, d.enabled
      FROM jsonb_to_recordset(${JSON.stringify(matrix)}::jsonb) AS d(type text, channel text, enabled boolean)
    ),
    targets AS (
      SELECT c.id AS outbox_id, c.user_id, c.type, 'push'::notification_channel AS channel, d.token AS recipient
        FROM claimed c JOIN devices d ON d.user_id = c.user_id WHERE c.recipient IS NULL
      UNION ALL
      SELECT c.id, c.user_id, c.type, 'sms'::notification_channel, u.phone
        FROM claimed c JOIN users u ON u.id = c.user_id WHERE u.phone IS NOT NULL AND c.recipient IS NULL
      UNION ALL
      SELECT c.id, c.user_id, c.type, 'email'::notification_channel, COALESCE(c.recipient, u.email)
        FROM claimed c JOIN users u ON u.id = c.user_id
    ),
    base AS (
      SELECT t.outbox_id, t.user_id, t.channel, t.recipient, t.type,
             COALESCE(p.enabled, df.enabled, false) AS preferred,
             t.channel::text = ANY(${`{${configured.join(',')}}`}::text[]) AS configured
      FROM targets t
      LEFT JOIN defaults df ON df.type = t.type AND df.channel = t.channel
      LEFT JOIN notification_preferences p ON p.user_id = t.user_id AND p.type = t.type AND p.channel = t.channel
    ),
    decided AS (
      -- A mandatory type (payment messages) is never silenced: when no delivery of the outbox row
      -- would be pending (no device, no phone, the preference off, the channel not configured —
      -- or two concurrent PATCHes that each left one channel on), its email goes anyway, pending
      -- even when email is not configured here, so it is retried (and dead-lettered) rather than lost.
      SELECT b.outbox_id, b.channel, b.recipient, b.type, b.configured, b.preferred,
             b.type::text = ANY(${`{${ACCOUNT_EMAIL_TYPES.join(',')}}`}::text[])
             OR (b.type::text = ANY(${`{${MANDATORY_TYPES.join(',')}}`}::text[]) AND b.channel = 'email'
               AND NOT bool_or(b.preferred AND b.configured) OVER (PARTITION BY b.outbox_id)) AS rescued
      FROM base b
    ),
    inserted AS (
      INSERT INTO notification_deliveries (outbox_id, channel, recipient, state, attempts, next_attempt_at, last_error, created_at, updated_at)
      SELECT outbox_id, channel, recipient,
             (CASE WHEN rescued OR (preferred AND configured) THEN 'pending' ELSE 'skipped' END)::notification_delivery_state,
             0, ${iso(now)}::timestamptz,
             CASE WHEN rescued THEN NULL
                  WHEN NOT preferred THEN 'preference: ' || type || ' off on ' || channel
                  WHEN NOT configured THEN 'channel not configured: ' || channel END,
             ${iso(now)}::timestamptz, ${iso(now)}::timestamptz
      FROM decided
      ON CONFLICT (outbox_id, channel, recipient) DO NOTHING
      RETURNING id, state
    ),
    marked AS (
      UPDATE notification_outbox o SET dispatched_at = ${iso(now)}::timestamptz
      FROM claimed c WHERE o.id = c.id
      RETURNING o.id
    )
    SELECT (SELECT count(*)::int FROM marked) AS outbox_rows,
           COALESCE((SELECT json_agg(id ORDER BY id) FROM inserted WHERE state = 'pending'), '[]'::json) AS pending_ids,
           (SELECT count(*)::int FROM inserted WHERE state = 'skipped') AS skipped`);
  const result = { outboxRows: row!.outbox_rows, pendingIds: row!.pending_ids, skipped: row!.skipped };
  return result;
}
