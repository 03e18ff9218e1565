/**
 * From the outbox to the providers, on both runtimes (issue 17). Two steps, each a fixed number of
 * statements whatever the batch size:
 *
 * 1. `fanOut`: ONE statement claims undispatched outbox rows, writes one
 *    `notification_deliveries` row per (outbox row, channel, recipient) — push per device of the
 *    customer, sms when users.phone is set, email to users.email — `pending`, or `skipped` with
 *    the reason in last_error when the customer's preferences or an unconfigured channel say no,
 *    and sets `dispatched_at`.
 * 2. `sendDue`: ONE statement claims due pending deliveries with a lease (`locked_until`,
 *    `attempts + 1`) and reads what rendering needs; the messages are rendered (./templates.ts)
 *    and sent (ChannelClient, which never throws); ONE statement records every outcome, and only
 *    on rows still held by this claim (`attempts` = the claimed value, state still `pending`).
 *
 * Why claim rows of our own tables with `FOR UPDATE SKIP LOCKED` instead of a job library
 * (pg-boss, graphile-worker): those libraries need a session — LISTEN/NOTIFY, advisory locks,
 * interactive transactions around the job — and the Worker reaches the database over Neon's HTTP
 * driver, which has none (each statement is its own transaction; docs/runbook.md, "The local Neon
 * endpoint"; src/modules/jobs/lease.ts says the same for the job leases). A claim that is ONE
 * statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`) runs unchanged
 * on neon-http, node-postgres and PGlite, so the Worker's queue consumer, its cron sweep and the
 * Node `notifications-worker` all share this file. What a library would add (a lease that outlives
 * the statement, retry with backoff, a dead state) is three columns here: `locked_until`,
 * `next_attempt_at`, `attempts`. SKIP LOCKED makes parallel dispatchers take disjoint rows instead
 * of queueing behind each other; the lease makes the claim outlive its statement; the unique
 * (outbox_id, channel, recipient) key makes a second fan-out a no-op.
 *
 * Delivery guarantee: at most once per lease. A sender that dies after the provider accepted the
 * message and before the record statement leaves the row leased; after the lease expires it is
 * sent again (at-least-once across crashes; the email provider dedupes by the idempotency key,
 * the delivery id). A slow sender whose lease expired and was re-claimed records nothing.
 *
 * Time is the app clock (`deps.clock`), passed to every statement, so tests can move it.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { AnyRow } from '../db/client.js';
import { ACCOUNT_EMAIL_TYPES, isAccountEmailType, NOTIFICATION_CHANNELS, NOTIFICATION_TYPES, OUTBOX_TYPES } from '../db/schema-notification-kinds.js';
import type { Deps } from '../deps.js';
import { renderAccountEmail, type AccountMailDeps } from './account-mail.js';
import { DEFAULT_PREFERENCES, MANDATORY_TYPES } from './preferences.js';
import { resultOf, SEND_LEASE_MS, type DeliveryResult } from './retry-policy.js';
import { renderMessage } from './templates.js';
import type { ChannelClient, NotificationChannel, OutboxType, RenderedMessage, SendOutcome } from './types.js';

/**
 * A comment leading every statement the dispatcher sends, so the database's own views
 * (pg_stat_activity, pg_stat_statements, slow-query logs) and the bench's edge proxy can tell
 * the notification dispatch's work from the requests' (which may write outbox rows themselves).
 */
export const DISPATCH_MARK = '/* notification-dispatch */';
const DISPATCH_TAG = sql.raw(`${DISPATCH_MARK} `);

/** The channel clients a dispatcher sends through; a channel without one is "not configured". */
export type ChannelClients = Partial<Record<NotificationChannel, ChannelClient>>;

/** `accountMail`: what account emails need to render (./account-mail.ts); without it they wait (retried), never sent without their link. */
export type DispatchDeps = Pick<Deps, 'database' | 'clock' | 'logger' | 'metrics'> & { clients: ChannelClients; accountMail?: AccountMailDeps };

/** Outbox rows one fan-out claims; deliveries one send claims. */
export const FAN_OUT_BATCH = 100;
export const SEND_BATCH = 50;

const iso = (d: Date) => d.toISOString();

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
 * Fans out up to `limit` undispatched outbox rows (oldest first) in ONE statement (see the file's
 * docstring). `olderThanMs`: only rows created at least that long ago (the sweep's "still
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

export interface SendReport {
  claimed: number;
  sent: number;
  retry: DeliveryResult[];
  failed: number;
  unregistered: number;
  dead: number;
  /** Outcomes whose row was no longer ours when recorded (lease expired and re-claimed). */
  lost: number;
}

/** A channel with no client at send time (configuration changed since the fan-out): retried later, not lost. */
const notConfigured = (channel: NotificationChannel): SendOutcome => ({ kind: 'retry', error: `channel not configured: ${channel}` });

/**
 * Claims due deliveries (claimDue), renders and sends them concurrently, records the outcomes in
 * one statement, and counts each in `notificationDelivery` (channel, provider, outcome). A render
 * that throws (a template bug) is recorded as `failed`, never retried forever.
 */
export async function sendDue(
  deps: DispatchDeps,
  opts: { limit?: number; ids?: readonly number[]; random?: () => number; stopping?: () => boolean } = {},
): Promise<SendReport> {
  const claims = await claimDue(deps, opts);
  const report: SendReport = { claimed: claims.length, sent: 0, retry: [], failed: 0, unregistered: 0, dead: 0, lost: 0 };
  if (claims.length === 0) return report;
  if (opts.stopping?.()) {
    // A graceful stop arrived during the claim: give the rows back unsent (attempts restored).
    await releaseClaims(deps, claims);
    report.claimed = 0;
    return report;
  }
  const outcomes = await Promise.all(
    claims.map(async (claim) => {
      const client = deps.clients[claim.channel];
      let message: RenderedMessage;
      try {
        if (isAccountEmailType(claim.type)) {
          if (!deps.accountMail) return { claim, provider: client?.provider ?? 'none', outcome: { kind: 'retry', error: 'account emails not configured here' } as SendOutcome };
          message = await renderAccountEmail({ ...claim, type: claim.type, deliveryId: claim.id }, deps.accountMail);
        } else message = renderMessage({ ...claim, type: claim.type, deliveryId: claim.id });
      } catch (error) {
        return { claim, provider: client?.provider ?? 'none', outcome: { kind: 'failed', error: `render: ${String(error)}` } as SendOutcome };
      }
      const outcome = client ? await client.send(message) : notConfigured(claim.channel);
      return { claim, provider: client?.provider ?? 'none', outcome };
    }),
  );
  const now = deps.clock.now();
  const results = outcomes.map((o) => ({ ...o, result: resultOf(o.claim, o.outcome, now, opts.random) }));
  const recorded = await recordResults(deps, results.map((r) => r.result));
  for (const { claim, provider, result } of results) {
    deps.metrics.notificationDelivery({ channel: claim.channel, provider, outcome: result.outcome });
    if (!recorded.has(claim.id)) {
      report.lost++;
      deps.logger.warn('notification outcome not recorded: the lease was lost', { deliveryId: claim.id, outcome: result.outcome });
      continue;
    }
    if (result.outcome === 'retry') report.retry.push(result);
    else if (result.outcome === 'sent') report.sent++;
    else report[result.outcome]++;
    if (result.outcome === 'failed' || result.outcome === 'dead') {
      deps.logger.warn('notification delivery gave up', { deliveryId: claim.id, channel: claim.channel, outcome: result.outcome, error: result.error });
    }
  }
  return report;
}

export interface Backlog {
  /** Pending deliveries plus outbox rows not yet fanned out. */
  pending: number;
  /** Age of the oldest of those, seconds (0 when none). */
  oldestPendingAgeSeconds: number;
  /** Deliveries in state `dead`. */
  dead: number;
}

const BacklogRow = z.object({ pending: z.number(), oldest: z.number(), dead: z.number() });

/** Measures the backlog in one statement and reports it through `metrics.notificationBacklog`. */
export async function measureBacklog(deps: Pick<Deps, 'database' | 'clock' | 'metrics'>): Promise<Backlog> {
  const now = iso(deps.clock.now());
  const [row] = await deps.database.rows(BacklogRow, sql`${DISPATCH_TAG}
    WITH p AS (
      SELECT created_at FROM notification_deliveries WHERE state = 'pending'
      UNION ALL
      SELECT created_at FROM notification_outbox WHERE dispatched_at IS NULL
    )
    SELECT (SELECT count(*)::int FROM p) AS pending,
           COALESCE(EXTRACT(EPOCH FROM ${now}::timestamptz - (SELECT min(created_at) FROM p))::float8, 0) AS oldest,
           (SELECT count(*)::int FROM notification_deliveries WHERE state = 'dead') AS dead`);
  const backlog = { pending: row!.pending, oldestPendingAgeSeconds: Math.max(0, Math.round(row!.oldest)), dead: row!.dead };
  deps.metrics.notificationBacklog(backlog);
  return backlog;
}

export interface CycleReport {
  fanOut: FanOutResult;
  send: SendReport;
  /** True when either step filled its batch: run again at once. */
  full: boolean;
}

/** One dispatcher turn: fan out, then send what is due. What the Node worker polls and the queue consumer runs. */
export async function dispatchCycle(
  deps: DispatchDeps,
  opts: { olderThanMs?: number; fanOutLimit?: number; sendLimit?: number; random?: () => number; stopping?: () => boolean } = {},
): Promise<CycleReport> {
  const fanOutLimit = opts.fanOutLimit ?? FAN_OUT_BATCH;
  const sendLimit = opts.sendLimit ?? SEND_BATCH;
  const fan = await fanOut(deps, { limit: fanOutLimit, ...(opts.olderThanMs !== undefined ? { olderThanMs: opts.olderThanMs } : {}) });
  const send = await sendDue(deps, { limit: sendLimit, ...(opts.random ? { random: opts.random } : {}), ...(opts.stopping ? { stopping: opts.stopping } : {}) });
  return { fanOut: fan, send, full: fan.outboxRows >= fanOutLimit || send.claimed >= sendLimit };
}
