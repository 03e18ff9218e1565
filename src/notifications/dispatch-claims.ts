/**
 * Step 2's statements (./dispatch.ts explains the design and the delivery guarantee): claim due
 * deliveries with a lease, record their outcomes only on rows the claim still holds, or give
 * unsent claims back. Each ONE statement whatever the batch size.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { AnyRow } from '../db/client.js';
import { NOTIFICATION_CHANNELS, OUTBOX_TYPES } from '../db/schema-notification-kinds.js';
import type { Deps } from '../deps.js';
import type { DispatchDeps } from './dispatch.js';
import { DISPATCH_TAG, iso } from './dispatch-sql.js';
import { SEND_LEASE_MS, type DeliveryResult } from './retry-policy.js';
import type { NotificationChannel, OutboxType } from './types.js';

/** Deliveries one send claims. */
export const SEND_BATCH = 50;

/** One claimed delivery, with what its message needs. `attempts` is the claim's token. */
export interface ClaimedDelivery {
  id: number;
  attempts: number;
  channel: NotificationChannel;
  recipient: string;
  type: OutboxType;
  orderId: string | null;
  data: Record<string, unknown>;
  locale: string | null;
  timeZone: string | null;
  pickupStartsAt: Date | null;
  pickupEndsAt: Date | null;
  deliveryStartsAt: Date | null;
  deliveryEndsAt: Date | null;
}

const ts = z
  .string()
  .nullable()
  .transform((v) => (v === null ? null : new Date(v)));
const ClaimRow = z.object({
  id: z.coerce.number(),
  attempts: z.number(),
  channel: z.enum(NOTIFICATION_CHANNELS),
  recipient: z.string(),
  type: z.enum(OUTBOX_TYPES),
  order_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  locale: z.string().nullable(),
  time_zone: z.string().nullable(),
  pickup_starts_at: ts,
  pickup_ends_at: ts,
  delivery_starts_at: ts,
  delivery_ends_at: ts,
  /** Why the delivery was skipped instead of claimed (its recipient moved), or null. */
  stale: z.string().nullable(),
});

/**
 * Claims up to `limit` due pending deliveries (next_attempt_at ≤ now, no live lease), oldest
 * first, in ONE statement: `locked_until = now + leaseMs`, `attempts + 1`. `ids`: only these
 * (a queue message naming a delivery), still only when due. Reads, joined in the same statement,
 * the outbox row, the order's slots, the zone's time zone, and the locale (the device's for push,
 * the customer's otherwise). A due delivery whose recipient is no longer the customer's — a push
 * token since registered to another account or deleted, an SMS number or email address the
 * customer has since changed — is not claimed but set `skipped` in the same statement, the reason
 * in last_error (`recipient moved: …`, `recipient gone: …`, `recipient changed: …`): a retry
 * must not carry one account's order to another's phone or inbox.
 */
export async function claimDue(deps: DispatchDeps, opts: { limit?: number; ids?: readonly number[]; leaseMs?: number } = {}): Promise<ClaimedDelivery[]> {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + (opts.leaseMs ?? SEND_LEASE_MS));
  const only = opts.ids ? sql`AND x.id = ANY(${`{${opts.ids.map((n) => Math.trunc(n)).join(',')}}`}::bigint[])` : sql``;
  const rows = await deps.database.rows(ClaimRow, sql`${DISPATCH_TAG}
    WITH due AS (
      SELECT x.id FROM notification_deliveries x
      WHERE x.state = 'pending' AND x.next_attempt_at <= ${iso(now)}::timestamptz
        AND (x.locked_until IS NULL OR x.locked_until <= ${iso(now)}::timestamptz) ${only}
      ORDER BY x.next_attempt_at, x.id
      LIMIT ${opts.limit ?? SEND_BATCH}
      FOR UPDATE SKIP LOCKED
    ),
    checked AS (
      -- Is the recipient still this customer's? A token, number or address may have moved to
      -- another account (or gone) since the fan-out: such a delivery is skipped, never sent.
      SELECT x.id,
             CASE x.channel
               WHEN 'push' THEN CASE
                 WHEN dev.token IS NULL THEN 'recipient gone: the device token is no longer registered'
                 WHEN dev.user_id <> o.user_id THEN 'recipient moved: the device token is now registered to another account' END
               WHEN 'sms' THEN CASE WHEN u.phone IS DISTINCT FROM x.recipient THEN 'recipient changed: the number is no longer the customer''s phone' END
               -- An account email goes to its own address (a new one to verify), except a reset link: only to the current email.
               WHEN 'email' THEN CASE WHEN (o.recipient IS NULL OR o.type = 'password_reset') AND u.email IS DISTINCT FROM x.recipient
                 THEN 'recipient changed: the address is no longer the customer''s email' END
             END AS stale
      FROM due
      JOIN notification_deliveries x ON x.id = due.id
      JOIN notification_outbox o ON o.id = x.outbox_id
      LEFT JOIN users u ON u.id = o.user_id
      LEFT JOIN devices dev ON x.channel = 'push' AND dev.token = x.recipient
    ),
    claimed AS (
      UPDATE notification_deliveries d
      SET locked_until = CASE WHEN k.stale IS NULL THEN ${iso(until)}::timestamptz END,
          attempts = CASE WHEN k.stale IS NULL THEN d.attempts + 1 ELSE d.attempts END,
          state = (CASE WHEN k.stale IS NULL THEN 'pending' ELSE 'skipped' END)::notification_delivery_state,
          last_error = COALESCE(k.stale, d.last_error),
          updated_at = ${iso(now)}::timestamptz
      FROM checked k
      WHERE d.id = k.id
      RETURNING d.id, d.attempts, d.channel, d.recipient, d.outbox_id, k.stale
    )
    SELECT c.id, c.attempts, c.channel::text AS channel, c.recipient, o.type::text AS type, o.order_id, o.data,
           CASE WHEN c.channel = 'push' THEN COALESCE(dev.locale, u.locale) ELSE u.locale END AS locale,
           z.time_zone,
           ps.starts_at::text AS pickup_starts_at, ps.ends_at::text AS pickup_ends_at,
           ds.starts_at::text AS delivery_starts_at, ds.ends_at::text AS delivery_ends_at,
           c.stale
    FROM claimed c
    JOIN notification_outbox o ON o.id = c.outbox_id
    JOIN users u ON u.id = o.user_id
    LEFT JOIN devices dev ON c.channel = 'push' AND dev.token = c.recipient
    LEFT JOIN orders ord ON ord.id = o.order_id
    LEFT JOIN zones z ON z.id = ord.zone_id
    LEFT JOIN slots ps ON ps.id = ord.pickup_slot_id
    LEFT JOIN slots ds ON ds.id = ord.delivery_slot_id
    ORDER BY c.id`);
  const skipped = rows.filter((r) => r.stale !== null);
  if (skipped.length > 0) {
    deps.logger.warn('notification deliveries skipped: the recipient is no longer the customer’s', {
      deliveries: skipped.map((r) => ({ deliveryId: r.id, channel: r.channel, reason: r.stale })),
    });
  }
  return rows
    .filter((r) => r.stale === null)
    .map((r) => ({
    id: r.id,
    attempts: r.attempts,
    channel: r.channel,
    recipient: r.recipient,
    type: r.type,
    orderId: r.order_id,
    data: r.data,
    locale: r.locale,
    timeZone: r.time_zone,
    pickupStartsAt: r.pickup_starts_at,
    pickupEndsAt: r.pickup_ends_at,
    deliveryStartsAt: r.delivery_starts_at,
    deliveryEndsAt: r.delivery_ends_at,
  }));
}

const RecordedRow = z.object({ id: z.coerce.number(), outcome: z.string() });

/**
 * Records outcomes in ONE statement, each only on a row this claim still holds (same `attempts`,
 * state `pending`); answers the ids recorded (a missing id: the lease expired and another claim
 * took the row, or the DLQ marked it dead; nothing was overwritten). `sent` sets
 * provider_message_id and sent_at; `retry` puts the row back for `retryAt`; `failed` and `dead`
 * are final; `unregistered` deletes the device row (FCM says the token is gone), marks this
 * delivery `skipped`, and skips the token's other pending, unleased deliveries too. A final outcome
 * (not `retry`) removes an account email's sealed token from its outbox row (`data.sealed`).
 */
export async function recordResults(deps: Pick<Deps, 'database' | 'clock'>, results: readonly DeliveryResult[]): Promise<Set<number>> {
  if (results.length === 0) return new Set();
  const now = iso(deps.clock.now());
  const payload = results.map((r) => ({
    id: r.id,
    attempts: r.attempts,
    outcome: r.outcome,
    provider_message_id: r.outcome === 'sent' ? r.providerMessageId : null,
    error: r.outcome === 'sent' ? null : r.error,
    retry_at: r.outcome === 'retry' ? iso(r.retryAt) : null,
  }));
  const rows = await deps.database.rows(RecordedRow, sql`${DISPATCH_TAG}
    WITH r AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(payload)}::jsonb)
        AS r(id bigint, attempts int, outcome text, provider_message_id text, error text, retry_at timestamptz)
    ),
    upd AS (
      UPDATE notification_deliveries d SET
        state = (CASE r.outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' WHEN 'dead' THEN 'dead'
                                WHEN 'unregistered' THEN 'skipped' ELSE 'pending' END)::notification_delivery_state,
        provider_message_id = COALESCE(r.provider_message_id, d.provider_message_id),
        sent_at = CASE WHEN r.outcome = 'sent' THEN ${now}::timestamptz ELSE d.sent_at END,
        next_attempt_at = COALESCE(r.retry_at, d.next_attempt_at),
        locked_until = NULL,
        last_error = CASE WHEN r.outcome = 'sent' THEN NULL WHEN r.outcome = 'unregistered' THEN 'device unregistered: ' || r.error ELSE r.error END,
        updated_at = ${now}::timestamptz
      FROM r
      WHERE d.id = r.id AND d.attempts = r.attempts AND d.state = 'pending'
      RETURNING d.id, d.channel, d.recipient, d.outbox_id, r.outcome
    ),
    scrubbed AS (
      UPDATE notification_outbox o SET data = o.data - 'sealed'
      WHERE o.id IN (SELECT outbox_id FROM upd WHERE outcome <> 'retry') AND o.data ->> 'sealed' IS NOT NULL
    ),
    gone AS (
      DELETE FROM devices WHERE token IN (SELECT recipient FROM upd WHERE outcome = 'unregistered' AND channel = 'push')
      RETURNING token
    ),
    siblings AS (
      UPDATE notification_deliveries d SET state = 'skipped', last_error = 'device unregistered', locked_until = NULL, updated_at = ${now}::timestamptz
      WHERE d.channel = 'push' AND d.state = 'pending'
        AND d.recipient IN (SELECT recipient FROM upd WHERE outcome = 'unregistered' AND channel = 'push')
        AND d.id NOT IN (SELECT id FROM r)
        AND (d.locked_until IS NULL OR d.locked_until <= ${now}::timestamptz)
      RETURNING d.id
    )
    -- gone, siblings and scrubbed run whether read or not (PostgreSQL runs every data-modifying CTE).
    SELECT id, outcome FROM upd`);
  return new Set(rows.map((r) => r.id));
}

/**
 * Releases leases this process still holds without sending (a graceful stop before the send):
 * `attempts` is given back, so an unsent claim costs no attempt. One statement.
 */
export async function releaseClaims(deps: Pick<Deps, 'database' | 'clock'>, claims: readonly Pick<ClaimedDelivery, 'id' | 'attempts'>[]): Promise<void> {
  if (claims.length === 0) return;
  await deps.database.rows(AnyRow, sql`${DISPATCH_TAG}
    UPDATE notification_deliveries d SET locked_until = NULL, attempts = d.attempts - 1, updated_at = ${iso(deps.clock.now())}::timestamptz
    FROM jsonb_to_recordset(${JSON.stringify(claims.map((c) => ({ id: c.id, attempts: c.attempts })))}::jsonb) AS r(id bigint, attempts int)
    WHERE d.id = r.id AND d.attempts = r.attempts AND d.state = 'pending'`);
}
