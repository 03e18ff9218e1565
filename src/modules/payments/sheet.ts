import { AnyRow } from '../../db/client.js';
import { and, eq, sql } from 'drizzle-orm';
import { orders, payments, users } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { currencyRules, toChargeableAmount } from '../../domain/currency.js';
import { ApiError } from '../../errors.js';
import { STRIPE_API_VERSION } from '../../payments/stripe.js';
import { intentByMetadata, sendOnce } from './attempts.js';
import { providerError, requirePayments } from './shared.js';

/**
 * Estimate plus the configured buffer, so a heavier bag still fits inside the hold; made a
 * valid Stripe amount (three-decimal currencies: a multiple of 10). The estimate already is
 * one, so rounding the buffer down never holds less than the estimate.
 */
export function holdAmount(estimate: number, bufferBps: number, currency: string): number {
  const amount = estimate + Math.floor((estimate * bufferBps + 5_000) / 10_000);
  return currencyRules(currency) ? toChargeableAmount(currency, amount) : amount;
}

export interface PaymentSheet {
  paymentIntentId: string;
  paymentIntentClientSecret: string;
  customerId: string;
  ephemeralKey: string;
  publishableKey: string;
  amount: number;
  currency: string;
}

/**
 * What the mobile PaymentSheet needs to authorise the hold. Calling it again returns the
 * same PaymentIntent: the hold is created as a recorded attempt (./attempts.ts, looked up by our
 * metadata before it is sent again), and the payments row is unique per (order, hold).
 */
export async function paymentSheet(deps: Deps, userId: string, orderId: string): Promise<PaymentSheet> {
  requirePayments(deps);
  const [orderRows, userRows, holdRows] = await deps.database.batch((db) => [
    db.select().from(orders).where(and(eq(orders.id, orderId), eq(orders.userId, userId))),
    db.select({ email: users.email, stripeCustomerId: users.stripeCustomerId }).from(users).where(eq(users.id, userId)),
    db.select().from(payments).where(and(eq(payments.orderId, orderId), eq(payments.kind, 'hold'))),
  ]);
  const order = orderRows[0];
  const user = userRows[0];
  if (!order || !user) throw new ApiError('not_found', 'No such order.');
  if (order.paymentMethod !== 'card') {
    throw new ApiError('payment_not_applicable', 'This order is paid on delivery; there is nothing to authorise.');
  }
  if (order.status !== 'pending_payment') {
    throw new ApiError('payment_not_pending', `The order is ${order.status}; its payment is no longer pending.`, { details: { status: order.status } });
  }

  try {
    return await openSheet(deps, userId, order, user, holdRows[0]);
  } catch (err) {
    return providerError(err);
  }
}

async function openSheet(
  deps: Deps,
  userId: string,
  order: typeof orders.$inferSelect,
  user: { email: string; stripeCustomerId: string | null },
  existing: typeof payments.$inferSelect | undefined,
): Promise<PaymentSheet> {
  const { stripe, publishableKey } = requirePayments(deps);
  const orderId = order.id;
  const customerId =
    user.stripeCustomerId ??
    (await stripe.customers.create({ email: user.email, metadata: { user_id: userId } }, { idempotencyKey: `customer-${userId}` })).id;

  let intent;
  if (existing?.stripePaymentIntentId) {
    intent = await stripe.paymentIntents.retrieve(existing.stripePaymentIntentId);
  } else {
    const amount = holdAmount(order.estimatedTotal, deps.config.paymentHoldBufferBps, order.currency);
    const hold = { orderId, operation: 'hold', subject: orderId, lookup: intentByMetadata(stripe, customerId, orderId, 'hold') } as const;
    ({ result: intent } = await sendOnce(deps, hold, (idempotencyKey) => stripe.paymentIntents.create(
      {
        amount,
        currency: order.currency.toLowerCase(),
        customer: customerId,
        capture_method: 'manual',
        // Saved for an off-session charge if the weighed price exceeds the hold.
        setup_future_usage: 'off_session',
        automatic_payment_methods: { enabled: true },
        metadata: { order_id: orderId, user_id: userId, kind: 'hold', attempt: idempotencyKey },
      },
      { idempotencyKey },
    )));
    const now = deps.clock.now().toISOString();
    await deps.database.rows(AnyRow, sql`
      WITH ins AS (
        INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, created_at, updated_at)
        VALUES (${crypto.randomUUID()}::uuid, ${orderId}::uuid, 'hold', 'card', ${intent.status}::payment_status, ${intent.id},
                ${order.currency}, ${intent.amount}::int, ${now}::timestamptz, ${now}::timestamptz)
        ON CONFLICT DO NOTHING
        RETURNING 1
      )
      UPDATE users SET stripe_customer_id = ${customerId}, updated_at = ${now}::timestamptz
      WHERE id = ${userId}::uuid AND stripe_customer_id IS NULL`);
  }
  if (!user.stripeCustomerId && existing) {
    await deps.database.rows(AnyRow, sql`UPDATE users SET stripe_customer_id = ${customerId} WHERE id = ${userId}::uuid AND stripe_customer_id IS NULL`);
  }
  const ephemeral = await stripe.ephemeralKeys.create({ customer: customerId }, { apiVersion: STRIPE_API_VERSION });
  if (!intent.client_secret || !ephemeral.secret) throw new Error('Stripe returned no client secret');
  return {
    paymentIntentId: intent.id,
    paymentIntentClientSecret: intent.client_secret,
    customerId,
    ephemeralKey: ephemeral.secret,
    publishableKey,
    amount: intent.amount,
    currency: order.currency,
  };
}
