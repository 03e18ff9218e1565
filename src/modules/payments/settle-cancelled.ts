import { z } from 'zod';
import { and, eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { runQuery } from '../../db/client.js';
import { payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { intentWhen, sendOnce } from './attempts.js';
import { refundOrder } from './refund.js';
import { refundHoldsMoney } from './refund-events.js';
import { providerError, recordIntent } from './shared.js';

/**
 * Cancelling an order: an uncaptured hold is released. If Stripe says the intent cannot be
 * cancelled any more (it expired, or was captured after all), its actual state is recorded
 * instead, so that the refund step below sees captured money. A recorded attempt
 * (./attempts.ts): a retry after a 500 looks the intent up before cancelling with a new key.
 */
export async function releaseHold(deps: Deps, orderId: string): Promise<void> {
  if (!deps.payments) return;
  const { stripe } = deps.payments;
  const [hold] = await runQuery(deps.database, (db) => db
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, orderId), eq(payments.kind, 'hold'))));
  if (!hold?.stripePaymentIntentId || ['succeeded', 'canceled'].includes(hold.status)) return;
  let pi: Stripe.PaymentIntent;
  try {
    const intentId = hold.stripePaymentIntentId;
    const release = { orderId, operation: 'cancel', subject: hold.id, lookup: intentWhen(stripe, intentId, (pi) => pi.status === 'canceled' || pi.status === 'succeeded') } as const;
    pi = (await sendOnce(deps, release, (idempotencyKey) => stripe.paymentIntents.cancel(intentId, { cancellation_reason: 'requested_by_customer' }, { idempotencyKey }))).result;
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'payment_intent_unexpected_state')) providerError(err);
    pi = await stripe.paymentIntents.retrieve(hold.stripePaymentIntentId).catch(providerError);
  }
  await recordIntent(deps, hold, pi, pi.status === 'canceled' ? 'Card hold released' : `Card hold not released: it is ${pi.status}`);
}

const RefundableRow = z.object({ refundable: z.number() });

/**
 * After a cancellation: release an uncaptured hold, refund what was already captured (hold
 * and overage). Recorded as the system acting on the cancellation of `actorUserId`.
 * Failures are logged by the caller; the payments job and reconciliation surface leftovers.
 */
export async function settleCancelledOrder(deps: Deps, orderId: string, actorUserId: string): Promise<void> {
  if (!deps.payments) return;
  await releaseHold(deps, orderId);
  const rows = await deps.database.rows(RefundableRow, sql`
    SELECT COALESCE(sum(GREATEST(0, p.amount_captured - GREATEST(p.amount_refunded,
             COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id AND ${refundHoldsMoney(sql`r.status`)}), 0)))), 0)::int AS refundable
    FROM payments p WHERE p.order_id = ${orderId}::uuid AND p.method = 'card' AND p.stripe_payment_intent_id IS NOT NULL`);
  const refundable = Number(rows[0]?.refundable ?? 0);
  if (refundable > 0) {
    await refundOrder(deps, { orderId, amount: refundable, reason: 'Order cancelled', actorUserId, actorRole: 'system' });
  }
}
