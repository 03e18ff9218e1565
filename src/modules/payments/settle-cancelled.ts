import { z } from 'zod';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeErrorOf } from '../../payments/stripe-errors.js';
import { AnyRow, parseRows } from '../../db/client.js';
import { payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { intentWhen, PriorAttempt, priorAttemptSql, sendOnce } from './attempts.js';
import { creditedToOrder } from './refund-credit.js';
import { refundOrder } from './refund.js';
import { refundHoldsMoney } from './refund-events.js';
import { providerError, recordIntentSql } from './shared.js';

/**
 * Cancelling an order: an uncaptured hold is released. If Stripe says the intent cannot be
 * cancelled any more (it expired, or was captured after all), its actual state is recorded
 * instead, so that the refund step below sees captured money. A recorded attempt
 * (./attempts.ts): a retry after a 500 looks the intent up before cancelling with a new key.
 */
export async function releaseHold(deps: Deps, orderId: string): Promise<void> {
  const record = await release(deps, orderId);
  if (record) await deps.database.rows(AnyRow, record);
}

/**
 * `releaseHold` up to Stripe's answer: one batch reads the hold and, when it can be released,
 * records the release attempt before it is sent (./attempts.ts); the statement recording
 * Stripe's answer is returned for the caller's next batch.
 */
async function release(deps: Deps, orderId: string): Promise<SQL | undefined> {
  if (!deps.payments) return undefined;
  const stripe = await deps.payments.client();
  const releasable = sql`SELECT id::text FROM payments WHERE order_id = ${orderId}::uuid AND kind = 'hold'
                           AND stripe_payment_intent_id IS NOT NULL AND status NOT IN ('succeeded', 'canceled')`;
  const [holds, prior] = await deps.database.batch((db) => [
    db.select().from(payments).where(and(eq(payments.orderId, orderId), eq(payments.kind, 'hold'))),
    db.execute(priorAttemptSql(orderId, 'cancel', releasable, deps.clock.now())),
  ]);
  const [hold] = holds;
  if (!hold?.stripePaymentIntentId || ['succeeded', 'canceled'].includes(hold.status)) return undefined;
  let pi: Stripe.PaymentIntent;
  try {
    const intentId = hold.stripePaymentIntentId;
    const cancel = { orderId, operation: 'cancel', subject: hold.id, lookup: intentWhen(stripe, intentId, (pi) => pi.status === 'canceled' || pi.status === 'succeeded') } as const;
    const send = (idempotencyKey: string) => stripe.paymentIntents.cancel(intentId, { cancellation_reason: 'requested_by_customer' }, { idempotencyKey });
    pi = (await sendOnce(deps, cancel, send, parseRows(PriorAttempt, prior)[0])).result;
  } catch (err) {
    if (!(isStripeErrorOf(err, 'StripeInvalidRequestError') && err.code === 'payment_intent_unexpected_state')) providerError(err);
    pi = await stripe.paymentIntents.retrieve(hold.stripePaymentIntentId).catch(providerError);
  }
  return recordIntentSql(deps, hold, pi, pi.status === 'canceled' ? 'Card hold released' : `Card hold not released: it is ${pi.status}`);
}

const RefundableRow = z.object({ refundable: z.number() });

/**
 * After a cancellation: release an uncaptured hold, refund what was already captured (hold
 * and overage). Recorded as the system acting on the cancellation of `actorUserId`.
 * Failures are logged by the caller; the payments job and reconciliation surface leftovers.
 */
export async function settleCancelledOrder(deps: Deps, orderId: string, actorUserId: string): Promise<void> {
  if (!deps.payments) return;
  const record = await release(deps, orderId);
  // Stripe's answer recorded, then what was captured and not yet refunded: one batch.
  // Less what an admin already gave back as account credit (./refund-credit.ts): refundOrder counts it too.
  const refundableSql = sql`
    SELECT GREATEST(0, COALESCE(sum(GREATEST(0, p.amount_captured - GREATEST(p.amount_refunded,
             COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id AND ${refundHoldsMoney(sql`r.status`)}), 0)))), 0)
             - ${creditedToOrder(sql`${orderId}::uuid`)})::int AS refundable
    FROM payments p WHERE p.order_id = ${orderId}::uuid AND p.method = 'card' AND p.stripe_payment_intent_id IS NOT NULL`;
  let rows = record
    ? parseRows(RefundableRow, (await deps.database.batch((db) => [db.execute(record), db.execute(refundableSql)]))[1])
    : await deps.database.rows(RefundableRow, refundableSql);
  // The amount is read outside the order's lock: a refund an admin makes meanwhile (to the card or
  // to credit) leaves less, and refundOrder's locked check then refuses the whole amount. Read
  // again and refund what is left, a bounded number of times (each try is checked under the lock,
  // so nothing is ever refunded twice).
  for (let attempt = 1; ; attempt++) {
    const refundable = Number(rows[0]?.refundable ?? 0);
    if (refundable <= 0) return;
    try {
      await refundOrder(deps, { orderId, amount: refundable, reason: 'Order cancelled', actorUserId, actorRole: 'system' });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'refund_exceeds_captured') || attempt >= SETTLE_TRIES) throw err;
    }
    rows = await deps.database.rows(RefundableRow, refundableSql);
  }
}

/** Tries of the cancellation's refund when concurrent refunds keep changing what is left. */
const SETTLE_TRIES = 3;
