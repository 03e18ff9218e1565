import { z } from 'zod';
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeError, isStripeErrorOf } from '../../payments/stripe-errors.js';
import { AnyRow, parseRows, rowsOf } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { recordPaymentFailure } from '../../metrics/index.js';
import { lockPaymentFor, ourRefundStatus, refundHoldsMoney, refundTransition } from './refund-events.js';
import { PriorAttempt, priorAttemptSql, refundByMetadata, sendOnce } from './attempts.js';
import { creditedToOrder } from './refund-credit.js';
import { requirePayments } from './shared.js';

export interface RefundResult {
  refundId: string;
  amount: number;
  /**
   * `succeeded`: every part succeeded. `pending`: Stripe has not finished a part (some payment
   * methods, or a balance too low to cover it); the webhook or the payments job records the end.
   * `failed`: Stripe failed or canceled a part at once; it was released and the order flagged
   * `refund_failed`.
   */
  status: 'succeeded' | 'pending' | 'failed';
  /** `card`: Stripe refunds (this file). `credit`: the customer's account credit (./refund-credit.ts), always `succeeded`. */
  destination: 'card' | 'credit';
}

const ReservedPart = z.object({
  id: z.string(),
  payment_id: z.string(),
  pi: z.string(),
  amount: z.number(),
});

/**
 * A full or partial refund of captured card money, by an admin (or by the system when an
 * order is cancelled). The money may sit on two payments, the hold and the overage charge:
 * the refund takes the overage first, then the hold, as one Stripe refund per payment.
 *
 * The refund rows are reserved first, in one batch: the first statement locks the order, so
 * the second (which gets its own snapshot under READ COMMITTED once the lock is held) sees
 * every earlier reservation and checks captured − refunded (pending included, and refunds
 * Stripe reported that were made elsewhere) − given back as account credit (./refund-credit.ts,
 * which takes the same lock). Two racing refunds, to the card or to credit, can never exceed what
 * was captured (rows `failed` or `canceled` hold nothing). Then Stripe is called with a key derived
 * from each reserved row, then each row is settled with Stripe's answer (refund-events.ts).
 *
 * A retry: when the order's pending refund rows whose Stripe answer was lost (a 500, a timeout:
 * see `payment_attempts`) add up to exactly the amount asked again, this request is the retry of
 * that refund (the 502 said it was safe to retry): nothing new is reserved, and each of those rows
 * is looked up at Stripe (our `refund_id` metadata) and adopted, or sent with a new attempt key
 * (./attempts.ts). A day later the old key may be forgotten by Stripe; the look-up is what
 * keeps the retry from refunding twice.
 */
export async function refundOrder(
  deps: Deps,
  input: { orderId: string; amount: number; reason: string; actorUserId: string; actorRole?: 'admin' | 'system' },
): Promise<RefundResult> {
  requirePayments(deps);
  const refundId = crypto.randomUUID();
  const secondId = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  // The first reserved row's refund attempt, recorded in the same batch (./attempts.ts): a new
  // refund then costs this batch and one to record Stripe's answer. Not the second part's: a part
  // with an attempt is kept pending when an earlier part is refused (it may be at Stripe), so its
  // attempt is recorded only when it is really sent.
  const reservedRow = (id: string) => sql`SELECT id::text FROM refunds WHERE id = ${id}::uuid`;
  const [locked, reserved, firstPrior] = await deps.database.batch((db) => [
    db.execute(sql`SELECT id FROM orders WHERE id = ${input.orderId}::uuid FOR UPDATE`),
    db.execute(sql`
      WITH cand AS (
        SELECT p.id, p.kind, p.created_at, p.stripe_payment_intent_id AS pi,
               (p.amount_captured - GREATEST(p.amount_refunded,
                 COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id AND ${refundHoldsMoney(sql`r.status`)}), 0)))::int AS refundable
        FROM payments p
        WHERE p.order_id = ${input.orderId}::uuid AND p.method = 'card' AND p.amount_captured > 0 AND p.stripe_payment_intent_id IS NOT NULL
      ),
      ordered AS (
        SELECT id, pi, refundable, (sum(refundable) OVER (ORDER BY (kind = 'overage') DESC, created_at, id) - refundable)::int AS before
        FROM cand WHERE refundable > 0
      ),
      lost AS (
        SELECT r.id, r.payment_id, p.stripe_payment_intent_id AS pi, r.amount, r.created_at
        FROM refunds r JOIN payments p ON p.id = r.payment_id
        WHERE r.order_id = ${input.orderId}::uuid AND r.status = 'pending' AND r.stripe_refund_id IS NULL
          AND (SELECT a.outcome FROM payment_attempts a WHERE a.operation = 'refund' AND a.subject = r.id::text
               ORDER BY a.attempt DESC LIMIT 1) IN ('server_error', 'no_answer')
      ),
      retry AS (SELECT 1 WHERE (SELECT COALESCE(sum(amount), 0) FROM lost) = ${input.amount}::int),
      parts AS (
        SELECT CASE WHEN row_number() OVER (ORDER BY before) = 1 THEN ${refundId}::uuid ELSE ${secondId}::uuid END AS id,
               id AS payment_id, pi, LEAST(refundable, ${input.amount}::int - before)::int AS amount, before
        FROM ordered
        WHERE before < ${input.amount}::int AND (SELECT sum(refundable) FROM ordered) - ${creditedToOrder(sql`${input.orderId}::uuid`)} >= ${input.amount}::int
          AND NOT EXISTS (SELECT 1 FROM retry)
      ),
      ins AS (
        INSERT INTO refunds (id, order_id, payment_id, amount, reason, actor_user_id, status, created_at)
        SELECT id, ${input.orderId}::uuid, payment_id, amount, ${input.reason}, ${input.actorUserId}::uuid, 'pending', ${now}::timestamptz
        FROM parts
        RETURNING id
      )
      SELECT id, payment_id, pi, amount FROM (
        SELECT parts.id::text, parts.payment_id::text, parts.pi, parts.amount, parts.before AS o, NULL::timestamptz AS at FROM parts JOIN ins ON ins.id = parts.id
        UNION ALL
        SELECT lost.id::text, lost.payment_id::text, lost.pi, lost.amount, 0, lost.created_at FROM lost WHERE EXISTS (SELECT 1 FROM retry)
      ) x ORDER BY o, at, id`),
    db.execute(priorAttemptSql(input.orderId, 'refund', reservedRow(refundId), deps.clock.now())),
  ]);
  const known = new Map<string, PriorAttempt | undefined>([[refundId, parseRows(PriorAttempt, firstPrior)[0]]]);
  if (rowsOf(locked).length === 0) throw new ApiError('not_found', 'No such order.');
  const parts = parseRows(ReservedPart, reserved);
  if (parts.length === 0) {
    throw new ApiError('refund_exceeds_captured', 'The refund is larger than what is left to refund of the money captured on this order.');
  }

  const statuses: string[] = [];
  for (const [i, part] of parts.entries()) {
    let refund: Stripe.Refund;
    try {
      refund = await sendRefund(deps, input.orderId, part, known.get(part.id));
    } catch (err) {
      recordPaymentFailure(deps.metrics, 'refund', err);
      // Refused by Stripe: this part is released; never sent: the parts after it. A part
      // whose answer was lost stays pending (it counts against the captured total) until
      // Stripe's charge.refunded or reconciliation settles it.
      const refused = isStripeErrorOf(err, 'StripeInvalidRequestError') || isStripeErrorOf(err, 'StripeCardError');
      const release = parts.slice(refused ? i : i + 1).map((p) => sql`${p.id}::uuid`);
      // A part an earlier request already sent (a retry's later parts) may be at Stripe: kept pending.
      if (release.length > 0) {
        await deps.database.rows(AnyRow, sql`
          UPDATE refunds SET status = 'failed' WHERE id IN (${sql.join(release, sql`, `)})
            AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.operation = 'refund' AND a.subject = refunds.id::text
                            AND a.outcome IS DISTINCT FROM 'refused')`);
      }
      if (!isStripeError(err)) throw err;
      const { type } = err;
      if (type === 'StripeInvalidRequestError' && ['amount_too_large', 'charge_already_refunded'].includes(err.code ?? '')) {
        throw new ApiError('refund_exceeds_captured', 'Stripe reports less left to refund on this payment than requested.');
      }
      throw new ApiError(
        'payment_provider_error',
        refused
          ? `Stripe refused the refund (${type}); nothing more was refunded.`
          : `Stripe did not answer the refund (${type}); it is safe to retry: the same amount again is looked up at Stripe before anything is sent.`,
      );
    }
    statuses.push(
      await recordRefundOutcome(deps, part, refund, {
        actorRole: input.actorRole ?? 'admin',
        actorUserId: input.actorUserId,
        note: `Refunded ${part.amount}: ${input.reason}`,
        evidence: { paymentIntent: part.pi, request: refundId, requestedAmount: input.amount },
      }),
    );
  }
  const status = statuses.some((s) => s === 'failed' || s === 'canceled') ? 'failed' : statuses.every((s) => s === 'succeeded') ? 'succeeded' : 'pending';
  return { refundId: parts[0]!.id, amount: input.amount, status, destination: 'card' };
}

/**
 * One Stripe refund for one reserved row, as a recorded attempt (./attempts.ts): sent again only
 * after looking for it among the PaymentIntent's refunds (our `refund_id` metadata).
 */
async function sendRefund(deps: Deps, orderId: string, part: { id: string; amount: number; pi: string }, known?: PriorAttempt): Promise<Stripe.Refund> {
  const stripe = await requirePayments(deps).client();
  const spec = { orderId, operation: 'refund', subject: part.id, lookup: refundByMetadata(stripe, part.pi, part.id) } as const;
  const sent = await sendOnce(deps, spec, (idempotencyKey) =>
    stripe.refunds.create(
      {
        payment_intent: part.pi,
        amount: part.amount,
        reason: 'requested_by_customer',
        metadata: { order_id: orderId, refund_id: part.id, kind: 'refund', attempt: idempotencyKey },
        expand: ['charge'],
      },
      { idempotencyKey },
    ),
    known,
  );
  return sent.result;
}

/**
 * Records Stripe's answer (or a later retrieve) for one reserved refund row, in one statement:
 * the row's status and Stripe id, the payment's refunded total (Stripe's running total for the
 * charge when it came expanded), a timeline entry once it succeeded — or, if Stripe failed or
 * canceled it, what a `refund.failed` webhook does (refund-events.ts).
 */
async function recordRefundOutcome(
  deps: Deps,
  part: { id: string; amount: number; pi: string },
  refund: Stripe.Refund,
  entry: { actorRole: 'admin' | 'system'; actorUserId: string | null; note: string; evidence: Record<string, unknown> },
): Promise<ReturnType<typeof ourRefundStatus>> {
  const status = ourRefundStatus(refund.status);
  deps.metrics.payment({ operation: 'refund', outcome: status === 'failed' || status === 'canceled' ? 'declined' : status });
  const now = deps.clock.now();
  // Payment locked first (refund-events.ts, lockPaymentFor): a webhook about another refund of
  // this charge may be settling at the same moment.
  await deps.database.batch((db) => [
    db.execute(lockPaymentFor(sql`p.id = (SELECT payment_id FROM refunds WHERE id = ${part.id}::uuid)`)),
    db.execute(sql`
    WITH ${refundTransition({
      match: sql`r.id = ${part.id}::uuid`,
      refund,
      now: now.toISOString(),
      stripeTime: Math.floor(now.getTime() / 1000),
      success: entry,
      evidence: entry.evidence,
    })}
    SELECT 1`),
  ]);
  return status;
}

export interface StaleRefundReport {
  checked: number;
  /** Stripe had made them: recorded as succeeded. */
  settled: number;
  /** Stripe never made them, or failed or canceled them: released, so the money can be refunded again. */
  released: number;
}

/** A refund still pending this long after it was asked for had its answer lost, or Stripe is slow. */
export const STALE_REFUND_MS = 10 * 60_000;

const StaleRefundRow = z.object({ id: z.string(), amount: z.number(), reason: z.string(), stripe_refund_id: z.string().nullable(), pi: z.string() });

/**
 * Refund rows left pending (Stripe's answer lost, or Stripe said pending) are settled with what
 * Stripe has: found and succeeded → succeeded; found and still pending → kept, with Stripe's
 * id; found failed or canceled → that status, the refunded total lowered to Stripe's, the order
 * flagged `refund_failed` (refund-events.ts); never made → released (status failed) with a
 * timeline note. Either way an admin can refund again. It never asks Stripe to refund anything itself: after a lost answer
 * the admin may already have refunded another way, and only a person should move money again.
 */
export async function settleStaleRefunds(deps: Deps): Promise<StaleRefundReport> {
  const stripe = await requirePayments(deps).client();
  const cutoff = new Date(deps.clock.now().getTime() - STALE_REFUND_MS).toISOString();
  const stale = await deps.database.rows(StaleRefundRow, sql`
    SELECT r.id::text, r.amount, r.reason, r.stripe_refund_id, p.stripe_payment_intent_id AS pi
    FROM refunds r JOIN payments p ON p.id = r.payment_id
    WHERE r.status = 'pending' AND r.created_at < ${cutoff}::timestamptz
    ORDER BY r.created_at LIMIT 100`);
  const report: StaleRefundReport = { checked: stale.length, settled: 0, released: 0 };
  for (const row of stale) {
    const part = { id: row.id, amount: row.amount, pi: row.pi };
    const refund = row.stripe_refund_id
      ? await stripe.refunds.retrieve(row.stripe_refund_id, { expand: ['charge'] })
      : await refundByMetadata(stripe, row.pi, row.id)();
    if (refund) {
      // Whatever Stripe says now: succeeded is recorded, pending kept (with Stripe's id), failed or
      // canceled released like a refund.failed webhook does (flag, timeline, refundable again).
      const status = await recordRefundOutcome(deps, part, refund, {
        actorRole: 'system',
        actorUserId: null,
        note: `Refunded ${part.amount}: ${row.reason} (confirmed with Stripe later)`,
        evidence: { reconciled: true },
      });
      if (status === 'succeeded') report.settled++;
      if (status === 'failed' || status === 'canceled') report.released++;
      continue;
    }
    const now = deps.clock.now().toISOString();
    const note = `Refund of ${part.amount} never reached Stripe; released, refund again if still owed`;
    await deps.database.rows(AnyRow, sql`
      WITH released AS (
        UPDATE refunds SET status = 'failed' WHERE id = ${part.id}::uuid AND status = 'pending' RETURNING order_id
      )
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note},
             ${JSON.stringify({ refundRow: part.id, amount: part.amount, stripeStatus: null })}::jsonb
      FROM released`);
    report.released++;
  }
  return report;
}
