import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeErrorOf } from '../../payments/stripe-errors.js';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { intentWhen, sendOnce } from './attempts.js';
import { providerError, recordIntent } from './shared.js';

/** Balance charges that may still take money: awaiting the customer, confirming, or in flight. */
const OPEN = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing'];

const OpenRow = z.object({
  id: z.string(),
  pi: z.string().nullable(),
  status: z.string(),
  amount: z.number(),
  currency: z.string(),
});

function inProgress(detail: string, details: Record<string, unknown>): ApiError {
  return new ApiError('payment_in_progress', detail, { details, retryAfterSeconds: 60 });
}

/**
 * Before an admin waives an order's balance: every balance charge that could still take money is
 * stopped at Stripe first, so a waived amount is never collected anyway (the customer may hold a
 * PaymentSheet for it in the app, and tap Pay after the waiver). One read; then, per open
 * PaymentSheet intent, a cancel at Stripe as a recorded attempt (./attempts.ts), with
 * `cancellation_reason: abandoned` (https://docs.stripe.com/api/payment_intents/cancel: an intent
 * can be cancelled while it awaits a payment method, confirmation or action; not once it is
 * `processing` or `succeeded`).
 *
 * Returns the ids of our rows whose intents Stripe cancelled (the caller marks them `canceled` in
 * the waiver's own batch). 409 `payment_in_progress` (Retry-After: 60) when a charge cannot be
 * stopped: `processing`, paid meanwhile (recorded here, so the retry sees it), or an off-session
 * charge whose answer was lost (no intent id yet: the capture retry or its webhook settles it).
 */
export async function cancelOpenBalanceCharges(deps: Deps, orderId: string): Promise<string[]> {
  if (!deps.payments) return [];
  const stripe = await deps.payments.client();
  const open = await deps.database.rows(OpenRow, sql`
    SELECT id::text, stripe_payment_intent_id AS pi, status::text, amount, currency FROM payments
    WHERE order_id = ${orderId}::uuid AND kind = 'balance' AND status::text IN (${sql.join(OPEN.map((s) => sql`${s}`), sql`, `)})`);
  const cancelled: string[] = [];
  for (const row of open) {
    const details = { payment: row.id, paymentIntent: row.pi, status: row.status, amount: row.amount, currency: row.currency };
    if (!row.pi || row.status === 'processing') {
      throw inProgress(`A payment of ${row.amount} ${row.currency} towards this balance is in progress; waive once it has settled.`, details);
    }
    const intentId = row.pi;
    const stop = { orderId, operation: 'cancel', subject: row.id, lookup: intentWhen(stripe, intentId, (pi) => pi.status === 'canceled') } as const;
    let pi: Stripe.PaymentIntent;
    try {
      pi = (await sendOnce(deps, stop, (idempotencyKey) => stripe.paymentIntents.cancel(intentId, { cancellation_reason: 'abandoned' }, { idempotencyKey }))).result;
    } catch (err) {
      // Not cancellable any more: the customer paid (or is paying) just now. Take Stripe's word.
      if (!(isStripeErrorOf(err, 'StripeInvalidRequestError') && err.code === 'payment_intent_unexpected_state')) providerError(err);
      pi = await stripe.paymentIntents.retrieve(intentId).catch(providerError);
    }
    if (pi.status !== 'canceled') {
      await recordIntent(deps, { id: row.id, orderId }, pi, `Balance payment ${pi.status} while an admin was waiving the balance`);
      throw inProgress(`The customer's payment of ${row.amount} ${row.currency} is ${pi.status}; it was recorded, waive what is left once it has settled.`, { ...details, status: pi.status });
    }
    cancelled.push(row.id);
  }
  return cancelled;
}
