import { and, inArray, isNotNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ErasureTaskReport } from '../../account/erasure-tasks.js';
import { AnyRow } from '../../db/client.js';
import { payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { sweepRetention, type RetentionReport } from '../jobs/retention.js';
import type { SweepReport } from '../../notifications/sweep.js';
import type { RecurringReport } from '../recurring/job.js';
import type { OrderFlag } from '../../domain/order-status.js';
import { hasFlag, raiseFlag } from '../orders/shared.js';
import { adoptIntent } from './adopt.js';
import { captureOrderPayment } from './capture.js';
import { sweepOutstandingBalances, type UndeliveredBalance } from './outstanding.js';
import { settleStaleRefunds, type StaleRefundReport } from './refund.js';
import { releaseHold } from './settle-cancelled.js';
import { STATUS_RANK } from './shared.js';

export interface JobReport {
  expiringHolds: Array<{ orderId: string; action: 'captured' | 'released' | 'flagged' | 'failed'; detail?: string }>;
  /**
   * Weighed card orders whose hold Stripe cancelled or let lapse (the webhook recorded it) and that
   * no balance charge has tried yet: the outstanding amount is charged off-session now (./collect.ts).
   */
  lostHolds: Array<{ orderId: string; outcome: string; detail?: string }>;
  unpaidDeliveriesFlagged: number;
  /** null when Stripe is not configured, or when it could not be reached (see reconciliationError). */
  reconciliation: {
    checked: number;
    mismatches: Array<{ paymentIntent: string; ours: string | null; stripe: string; problem: string }>;
    /** PaymentIntents we made (our metadata: overage or balance) but had no row for, recorded now (./adopt.ts). */
    adopted: string[];
  } | null;
  reconciliationError?: string;
  /** Refunds left pending for over 10 minutes, settled with Stripe's records; null without Stripe or on error. */
  staleRefunds: StaleRefundReport | null;
  staleRefundsError?: string;
  /**
   * Card orders out for delivery or delivered with a balance outstanding (./outstanding.ts): money
   * that left the shop unpaid. Each is flagged `payment_outstanding`; collect it or waive it.
   */
  outstanding: UndeliveredBalance[];
  outstandingError?: string;
  /** Rows past their retention, removed (../jobs/retention.ts); absent when the sweep failed (see retentionError). */
  retention?: RetentionReport;
  retentionError?: string;
  /** The notification sweep and reminders run after the payments work (src/notifications/sweep.ts); absent when it failed. */
  notifications?: SweepReport;
  notificationsError?: string;
  /** Account erasure tasks attempted (src/account/erasure-tasks.ts); absent when the pass failed (see erasureTasksError). */
  erasureTasks?: ErasureTaskReport;
  erasureTasksError?: string;
  /** Recurring pickups' orders created this run (src/modules/recurring/job.ts); absent when it failed (see recurringError). */
  recurring?: RecurringReport;
  recurringError?: string;
}

/** How many of Stripe's recent PaymentIntents one run compares at most (100 per page). */
const RECONCILE_MAX = 2_000;

const HOUR = 3_600_000;

const ExpiringHoldRow = z.object({ order_id: z.string(), final_total: z.number().nullable(), status: z.string() });
const IdRow = z.object({ id: z.string() });

/**
 * The payments housekeeping the cron trigger runs (Workers `scheduled()`, or
 * `npm run cli -- payments-job` / a timer on Node):
 * - a hold that expires within 24 h is captured if the order is weighed, released if it was
 *   cancelled (and Stripe did not release it then), else flagged;
 * - a weighed order whose hold Stripe cancelled has its balance charged off-session, once;
 * - a delivered pay-on-delivery order with no recorded payment is flagged;
 * - Stripe's recent PaymentIntents are compared with our rows and mismatches reported; one we
 *   made but never recorded (an overage or balance charge whose answer was lost) is recorded;
 * - refunds whose Stripe answer was lost are settled with what Stripe has (never re-sent);
 * - last, every order's `payment_outstanding` flag is brought in line with its balance, card
 *   orders out for delivery or delivered with a balance outstanding are reported, and the
 *   outstanding gauges measured (./outstanding.ts);
 * - then idempotency keys past 24 h and refresh tokens a day past expiry are removed, bounded per
 *   run (../jobs/retention.ts).
 */
export async function runPaymentJobs(deps: Deps): Promise<JobReport> {
  const now = deps.clock.now();
  const report: JobReport = { expiringHolds: [], lostHolds: [], unpaidDeliveriesFlagged: 0, reconciliation: null, staleRefunds: null, outstanding: [] };

  const expiring = await deps.database.rows(ExpiringHoldRow, sql`
    SELECT p.order_id, o.final_total, o.status::text AS status FROM payments p JOIN orders o ON o.id = p.order_id
    WHERE p.kind = 'hold' AND p.status = 'requires_capture' AND p.capture_before < ${new Date(now.getTime() + 24 * HOUR).toISOString()}::timestamptz`);
  for (const row of expiring) {
    if (row.status === 'cancelled') {
      // Never capture money for a cancelled order: finish the release that failed then.
      try {
        await releaseHold(deps, row.order_id);
        report.expiringHolds.push({ orderId: row.order_id, action: 'released' });
      } catch (err) {
        report.expiringHolds.push({ orderId: row.order_id, action: 'failed', detail: err instanceof Error ? err.message : String(err) });
      }
      continue;
    }
    if (row.final_total === null) {
      await flag(deps, row.order_id, 'hold_expiring', 'The card hold expires within 24 hours and the order is not weighed yet');
      report.expiringHolds.push({ orderId: row.order_id, action: 'flagged' });
      continue;
    }
    try {
      await captureOrderPayment(deps, row.order_id);
      report.expiringHolds.push({ orderId: row.order_id, action: 'captured' });
    } catch (err) {
      report.expiringHolds.push({ orderId: row.order_id, action: 'failed', detail: err instanceof Error ? err.message : String(err) });
    }
  }

  if (deps.payments) await collectLostHolds(deps, report);

  const unpaid = await deps.database.rows(IdRow, sql`
    WITH flagged AS (
      UPDATE orders o SET ${raiseFlag('unpaid_on_delivery')}, updated_at = ${now.toISOString()}::timestamptz
      WHERE o.payment_method = 'on_delivery' AND o.status = 'delivered' AND NOT ${hasFlag('unpaid_on_delivery')}
        AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.kind = 'in_person' AND p.status = 'succeeded')
      RETURNING o.id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note)
    SELECT id, ${now.toISOString()}::timestamptz, 'system', 'payment', 'Delivered without a recorded payment' FROM flagged
    RETURNING order_id AS id`);
  report.unpaidDeliveriesFlagged = unpaid.length;

  if (deps.payments) {
    try {
      report.reconciliation = await reconcile(deps, now);
    } catch (err) {
      // The expiry and delivery checks above still count; the next run reconciles.
      report.reconciliationError = err instanceof Error ? err.message : String(err);
      deps.logger.error('payment reconciliation failed', { error: err });
    }
    try {
      report.staleRefunds = await settleStaleRefunds(deps);
    } catch (err) {
      report.staleRefundsError = err instanceof Error ? err.message : String(err);
      deps.logger.error('settling stale refunds failed', { error: err });
    }
  }
  for (const m of report.reconciliation?.mismatches ?? []) deps.logger.warn('payment reconciliation mismatch', m);
  await sweepOutstanding(deps, now, report);
  try {
    report.retention = await sweepRetention(deps);
  } catch (err) {
    report.retentionError = err instanceof Error ? err.message : String(err);
    deps.logger.error('retention sweep failed', { error: err });
  }
  return report;
}

const LostHoldRow = z.object({ order_id: z.string() });

/**
 * A hold the webhook recorded as cancelled (Stripe's automatic cancellation after ~7 days) on a
 * weighed order that is not cancelled, with no balance charge yet: nobody may press capture, so
 * the job does what the capture would (collect the balance off-session; a declined card leaves
 * it flagged for the customer's PaymentSheet). Once Stripe answered, the balance row makes it not
 * eligible; a row still `requires_confirmation` (the answer was lost) is retried: the capture path
 * looks the charge up at Stripe before it sends anything (./attempts.ts).
 */
async function collectLostHolds(deps: Deps, report: JobReport): Promise<void> {
  const lost = await deps.database.rows(LostHoldRow, sql`
    SELECT p.order_id FROM payments p JOIN orders o ON o.id = p.order_id
    WHERE p.kind = 'hold' AND p.status IN ('canceled', 'failed') AND o.payment_method = 'card'
      AND o.final_total IS NOT NULL AND o.status NOT IN ('cancelled', 'pending_payment')
      AND NOT EXISTS (SELECT 1 FROM payments b WHERE b.order_id = o.id AND b.kind = 'balance' AND b.status::text <> 'requires_confirmation')
      AND EXISTS (SELECT 1 FROM order_balances ob WHERE ob.order_id = o.id AND ob.outstanding > 0)
    ORDER BY p.updated_at LIMIT 100`);
  for (const { order_id: orderId } of lost) {
    try {
      const outcome = await captureOrderPayment(deps, orderId);
      report.lostHolds.push({ orderId, outcome: outcome.kind === 'balance' ? outcome.balance : outcome.kind });
    } catch (err) {
      report.lostHolds.push({ orderId, outcome: 'failed', detail: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Last, after every step above moved money: flags, the outstanding report and its gauges. */
async function sweepOutstanding(deps: Deps, now: Date, report: JobReport): Promise<void> {
  try {
    report.outstanding = await sweepOutstandingBalances(deps, now);
  } catch (err) {
    report.outstandingError = err instanceof Error ? err.message : String(err);
    deps.logger.error('sweeping outstanding balances failed', { error: err });
  }
  for (const o of report.outstanding) deps.logger.warn('order left the shop with a balance outstanding', { ...o });
}

async function flag(deps: Deps, orderId: string, reason: OrderFlag, note: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.database.rows(AnyRow, sql`
    WITH f AS (
      UPDATE orders SET ${raiseFlag(reason)}, updated_at = ${now}::timestamptz
      WHERE id = ${orderId}::uuid AND NOT ${hasFlag(reason)} RETURNING id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note) SELECT id, ${now}::timestamptz, 'system', 'payment', ${note} FROM f`);
}

/** Stripe's last three days of PaymentIntents against ours: status behind, amounts, strays. */
async function reconcile(deps: Deps, now: Date): Promise<NonNullable<JobReport['reconciliation']>> {
  const since = Math.floor(now.getTime() / 1000) - 3 * 86_400;
  // Every page, not just the first: a busy shop makes more than 100 intents in three days.
  const intents = await (await deps.payments!.client()).paymentIntents.list({ created: { gte: since }, limit: 100 }).autoPagingToArray({ limit: RECONCILE_MAX });
  const ids = intents.map((pi) => pi.id);
  const ours = ids.length
    ? await deps.database.db.select().from(payments).where(and(inArray(payments.stripePaymentIntentId, ids), isNotNull(payments.stripePaymentIntentId)))
    : [];
  const mismatches: NonNullable<JobReport['reconciliation']>['mismatches'] = [];
  const adoptedIntents: string[] = [];
  for (const pi of intents) {
    const row = ours.find((p) => p.stripePaymentIntentId === pi.id);
    // A tip's PaymentIntent is recorded on the tip (src/modules/tips), not a payment of the order.
    if (pi.metadata?.kind === 'tip') continue;
    if (!row) {
      // Made by us, answer lost (its metadata names our order): recorded, not just reported.
      const adopted = await adoptIntent(deps, pi);
      if (adopted === 'applied' || adopted === 'known') adoptedIntents.push(pi.id);
      else if (pi.metadata?.order_id) mismatches.push({ paymentIntent: pi.id, ours: null, stripe: pi.status, problem: adopted === 'flagged' ? 'second_charge' : 'unknown_to_us' });
      continue;
    }
    if (pi.amount !== row.amount) mismatches.push({ paymentIntent: pi.id, ours: row.status, stripe: pi.status, problem: 'amount' });
    else if ((STATUS_RANK[pi.status] ?? 0) > (STATUS_RANK[row.status] ?? 0)) {
      mismatches.push({ paymentIntent: pi.id, ours: row.status, stripe: pi.status, problem: 'we_are_behind' });
    } else if (pi.amount_received !== row.amountCaptured) {
      mismatches.push({ paymentIntent: pi.id, ours: row.status, stripe: pi.status, problem: 'captured_amount' });
    }
  }
  return { checked: intents.length, mismatches, adopted: adoptedIntents };
}

/**
 * Why a run counts as failed (Stripe could not be asked, for reconciliation or stale refunds),
 * or undefined. Holds that failed to capture are in the report and retried by the next run.
 */
export function jobFailure(report: JobReport): string | undefined {
  const error = report.reconciliationError ?? report.staleRefundsError;
  return error === undefined ? undefined : `Stripe could not be asked (${error})`;
}

// Exported for the Node timer: how often the job runs when not driven by cron.
