import { AnyRow, parseRows } from '../../db/client.js';
import { and, eq, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { orderBalances, orders, paymentAttempts, payments, users } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { chargeableOrAsIs } from '../../domain/currency.js';
import { ApiError } from '../../errors.js';
import { intentByMetadata, PriorAttempt, priorAttemptSql, sendOnce } from './attempts.js';
import { providerError, requirePayments, saveCustomerSql, type PaymentOrderRow } from './shared.js';
import { balanceIntent, toCollect } from './sheet-balance.js';

/**
 * Estimate plus the configured buffer, so a heavier bag still fits inside the hold; made a
 * valid Stripe amount (three-decimal currencies: a multiple of 10). The estimate already is
 * one, so rounding the buffer down never holds less than the estimate.
 */
export function holdAmount(estimate: number, bufferBps: number, currency: string): number {
  const amount = estimate + Math.floor((estimate * bufferBps + 5_000) / 10_000);
  return chargeableOrAsIs(currency, amount);
}

export interface PaymentSheet {
  /** `hold`: authorise the estimate (manual capture); `balance`: pay what is outstanding now (automatic capture). */
  purpose: 'hold' | 'balance';
  paymentIntentId: string;
  paymentIntentClientSecret: string;
  customerId: string;
  /** A CustomerSession client secret with the mobile Payment Element enabled. */
  customerSessionClientSecret: string;
  /** Only when the client sent its Stripe SDK's API version; made with that version. */
  ephemeralKey: string | null;
  publishableKey: string;
  amount: number;
  currency: string;
}


/**
 * What the mobile PaymentSheet needs, for one of two purposes:
 * - `hold`, while the order is `pending_payment`: authorise the estimate plus buffer (manual
 *   capture). Calling it again returns the same PaymentIntent: the hold is a recorded attempt
 *   (./attempts.ts, looked up by our metadata before it is sent again), and the payments row
 *   is unique per (order, hold).
 * - `balance`, once a weighed card order has something outstanding that no hold or charge in
 *   flight covers (the hold was lost, an off-session charge was declined or needed
 *   authentication): pay it now with any card (src/modules/payments/sheet-balance.ts).
 * Errors: 404 not_found (not the caller's order), 409 payment_not_applicable (pay on
 * delivery), 409 payment_not_pending (cancelled, or not weighed yet: the hold covers it),
 * 409 overage_approval_pending, 409 nothing_outstanding, 502 payment_provider_error.
 * Database: one read, one write; Stripe: the intent, a CustomerSession, and an ephemeral key
 * when `clientApiVersion` is given.
 */
export async function paymentSheet(deps: Deps, userId: string, orderId: string, clientApiVersion?: string): Promise<PaymentSheet> {
  requirePayments(deps);
  // A hold is sent next when the order awaits one and has none: its attempt is recorded in this
  // read batch (./attempts.ts), so the sheet costs one read and one write.
  const holdNext = sql`SELECT ${orderId}::text FROM orders o WHERE o.id = ${orderId}::uuid AND o.user_id = ${userId}::uuid
                         AND o.payment_method = 'card' AND o.status = 'pending_payment'
                         AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.kind = 'hold' AND p.stripe_payment_intent_id IS NOT NULL)`;
  const [orderRows, userRows, paymentRows, balanceRows, overageAttempts, holdPrior] = await deps.database.batch((db) => [
    db.select().from(orders).where(and(eq(orders.id, orderId), eq(orders.userId, userId))),
    db.select({ email: users.email, stripeCustomerId: users.stripeCustomerId }).from(users).where(eq(users.id, userId)),
    db.select().from(payments).where(eq(payments.orderId, orderId)),
    db.select().from(orderBalances).where(eq(orderBalances.orderId, orderId)),
    db.select({ outcome: paymentAttempts.outcome }).from(paymentAttempts).where(and(eq(paymentAttempts.operation, 'overage'), eq(paymentAttempts.subject, orderId))),
    db.execute(priorAttemptSql(orderId, 'hold', holdNext, deps.clock.now())),
  ]);
  const order = orderRows[0];
  const user = userRows[0];
  if (!order || !user) throw new ApiError('not_found', 'No such order.');
  if (order.paymentMethod !== 'card') {
    throw new ApiError('payment_not_applicable', 'This order is paid on delivery; there is nothing to authorise.');
  }
  const purpose = order.status === 'pending_payment' ? 'hold' : 'balance';
  // An overage charge sent without a recorded answer (a 500, a timeout, a crash) may have been
  // made at Stripe: until a capture retry looks it up, it is in flight, not for the customer to pay again.
  const hold = paymentRows.find((p) => p.kind === 'hold');
  const overageUnknown =
    !paymentRows.some((p) => p.kind === 'overage') && overageAttempts.some((a) => a.outcome !== 'refused') && hold?.status === 'succeeded'
      ? Math.max(0, (order.finalTotal ?? 0) - hold.amountCaptured)
      : 0;
  const amount = purpose === 'balance' ? toCollect(order, paymentRows, balanceRows[0], overageUnknown) : 0;
  try {
    const customerId = user.stripeCustomerId ?? (await newCustomer(deps, userId, user.email));
    const intent =
      purpose === 'hold'
        ? await holdIntent(deps, userId, order, customerId, paymentRows.find((p) => p.kind === 'hold'), Boolean(user.stripeCustomerId), parseRows(PriorAttempt, holdPrior)[0])
        : await balanceIntent(deps, userId, order, customerId, amount, paymentRows);
    return await sheetFor(deps, purpose, intent, customerId, order.currency, clientApiVersion);
  } catch (err) {
    return providerError(err);
  }
}

async function newCustomer(deps: Deps, userId: string, email: string): Promise<string> {
  const stripe = await requirePayments(deps).client();
  return (await stripe.customers.create({ email, metadata: { user_id: userId } }, { idempotencyKey: `customer-${userId}` })).id;
}

async function holdIntent(
  deps: Deps,
  userId: string,
  order: PaymentOrderRow,
  customerId: string,
  existing: typeof payments.$inferSelect | undefined,
  customerSaved: boolean,
  known: PriorAttempt | undefined,
): Promise<Stripe.PaymentIntent> {
  const stripe = await requirePayments(deps).client();
  const orderId = order.id;
  if (existing?.stripePaymentIntentId) {
    const intent = await stripe.paymentIntents.retrieve(existing.stripePaymentIntentId);
    if (!customerSaved) await deps.database.rows(AnyRow, saveCustomerSql(userId, customerId, deps.clock.now().toISOString()));
    return intent;
  }
  const amount = holdAmount(order.estimatedTotal, deps.config.paymentHoldBufferBps, order.currency);
  // A recorded attempt (./attempts.ts): looked up by our metadata before it is ever sent again.
  const hold = { orderId, operation: 'hold', subject: orderId, lookup: intentByMetadata(stripe, customerId, orderId, 'hold') } as const;
  const { result: intent } = await sendOnce(deps, hold, (idempotencyKey) =>
    stripe.paymentIntents.create(
      {
        amount,
        currency: order.currency.toLowerCase(),
        customer: customerId,
        capture_method: 'manual',
        // Saved for an off-session charge if the weighed price exceeds the hold, or the hold is lost.
        setup_future_usage: 'off_session',
        automatic_payment_methods: { enabled: true },
        metadata: { order_id: orderId, user_id: userId, kind: 'hold', attempt: idempotencyKey },
      },
      { idempotencyKey },
    ),
    known,
  );
  const now = deps.clock.now().toISOString();
  await deps.database.rows(AnyRow, sql`
    WITH ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, created_at, updated_at)
      VALUES (${crypto.randomUUID()}::uuid, ${orderId}::uuid, 'hold', 'card', ${intent.status}::payment_status, ${intent.id},
              ${order.currency}, ${intent.amount}::int, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    ${saveCustomerSql(userId, customerId, now)}`);
  return intent;
}

/**
 * The keys the mobile PaymentSheet opens the customer with. A CustomerSession with the mobile
 * Payment Element enabled, which Stripe recommends instead of an ephemeral key since API
 * version 2025-10-29.clover (https://docs.stripe.com/changelog/clover/2025-10-29/customer-sessions-mpe-customer-sheet,
 * https://docs.stripe.com/api/customer_sessions/create): saved cards are shown and a new card
 * may be saved, but not removed (the card saved with the hold is what an off-session charge
 * uses). An ephemeral key only for a client that names its SDK's API version: Stripe's mobile
 * SDKs need the key made with their own version, never the server's pinned one.
 */
async function sheetFor(
  deps: Deps,
  purpose: PaymentSheet['purpose'],
  intent: Stripe.PaymentIntent,
  customerId: string,
  currency: string,
  clientApiVersion: string | undefined,
): Promise<PaymentSheet> {
  const payments = requirePayments(deps);
  const stripe = await payments.client();
  const { publishableKey } = payments;
  const [session, ephemeral] = await Promise.all([
    stripe.customerSessions.create({
      customer: customerId,
      components: {
        mobile_payment_element: {
          enabled: true,
          features: { payment_method_redisplay: 'enabled', payment_method_save: 'enabled', payment_method_remove: 'disabled' },
        },
      },
    }),
    clientApiVersion ? stripe.ephemeralKeys.create({ customer: customerId }, { apiVersion: clientApiVersion }) : undefined,
  ]);
  if (!intent.client_secret || (ephemeral && !ephemeral.secret)) throw new Error('Stripe returned no client secret');
  return {
    purpose,
    paymentIntentId: intent.id,
    paymentIntentClientSecret: intent.client_secret,
    customerId,
    customerSessionClientSecret: session.client_secret,
    ephemeralKey: ephemeral?.secret ?? null,
    publishableKey,
    amount: intent.amount,
    currency,
  };
}
