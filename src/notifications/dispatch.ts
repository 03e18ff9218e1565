/**
 * From the outbox to the providers, on both runtimes (issue 17). Two steps, each a fixed number of
 * statements whatever the batch size:
 *
 * 1. `fanOut` (./dispatch-fanout.ts): ONE statement claims undispatched outbox rows, writes one
 *    `notification_deliveries` row per (outbox row, channel, recipient) — push per device of the
 *    customer, sms when users.phone is set, email to users.email — `pending`, or `skipped` with
 *    the reason in last_error when the customer's preferences or an unconfigured channel say no,
 *    and sets `dispatched_at`.
 * 2. `sendDue` (here): ONE statement claims due pending deliveries with a lease (`locked_until`,
 *    `attempts + 1`) and reads what rendering needs; the messages are rendered (./templates.ts)
 *    and sent (ChannelClient, which never throws); ONE statement records every outcome, and only
 *    on rows still held by this claim (`attempts` = the claimed value, state still `pending`).
 *    The claim and record statements are in ./dispatch-claims.ts.
 *
 * Every statement leads with DISPATCH_MARK (./dispatch-sql.ts).
 *
 * Why claim rows of our own tables with `FOR UPDATE SKIP LOCKED` instead of a job library
 * (pg-boss, graphile-worker): those libraries need a session — LISTEN/NOTIFY, advisory locks,
 * interactive transactions around the job — and the Worker reaches the database over Neon's HTTP
 * driver, which has none (each statement is its own transaction; docs/runbook.md, "The local Neon
 * endpoint"; src/modules/jobs/lease.ts says the same for the job leases). A claim that is ONE
 * statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`) runs unchanged
 * on neon-http, node-postgres and PGlite, so the Worker's queue consumer, its cron sweep and the
 * Node `notifications-worker` all share these files. What a library would add (a lease that
 * outlives the statement, retry with backoff, a dead state) is three columns here: `locked_until`,
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
import { isAccountEmailType } from '../db/schema-notification-kinds.js';
import type { Deps } from '../deps.js';
import { renderAccountEmail, type AccountMailDeps } from './account-mail.js';
import { claimDue, recordResults, releaseClaims, SEND_BATCH } from './dispatch-claims.js';
import { FAN_OUT_BATCH, fanOut, type FanOutResult } from './dispatch-fanout.js';
import { DISPATCH_TAG, iso } from './dispatch-sql.js';
import { resultOf, type DeliveryResult } from './retry-policy.js';
import { renderMessage } from './templates.js';
import type { ChannelClient, NotificationChannel, RenderedMessage, SendOutcome } from './types.js';

/** The channel clients a dispatcher sends through; a channel without one is "not configured". */
export type ChannelClients = Partial<Record<NotificationChannel, ChannelClient>>;

/** `accountMail`: what account emails need to render (./account-mail.ts); without it they wait (retried), never sent without their link. */
export type DispatchDeps = Pick<Deps, 'database' | 'clock' | 'logger' | 'metrics'> & { clients: ChannelClients; accountMail?: AccountMailDeps };

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
