/**
 * The PaymentSheet's second purpose: the customer pays what is outstanding on a weighed card
 * order, on-session, with any card (3-D Secure when the bank asks for it). This is how a
 * balance is collected after the off-session charge on the saved card failed: declined, or
 * `authentication_required`, which Stripe says to resolve by bringing the customer back
 * on-session (https://docs.stripe.com/payments/cards/charging-saved-cards#off-session-payments-with-saved-cards).
 *
 * The PaymentIntent: automatic capture (`automatic_async`, Stripe's default and recommendation,
 * https://docs.stripe.com/api/payment_intents/create#create_payment_intent-capture_method), no
 * payment method pinned, `automatic_payment_methods` on; metadata {order_id, kind: 'balance',
 * payment_id}. Our `balance` row's id is derived from (order, amount, how many earlier balance
 * intents were cancelled), and the idempotency key from the row: calling again for the same
 * outstanding amount returns the same open PaymentIntent, and racing calls make one.
 * The webhook (`payment_intent.succeeded`) records the payment and clears `payment_outstanding`.
 */
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { AnyRow } from '../../db/client.js';
import type { orderBalances, payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { isBelowMinimum } from '../../domain/currency.js';
import { ApiError } from '../../errors.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { intentByMetadata, sendOnce } from './attempts.js';
import { derivedId } from './collect.js';
import { recordIntent, requirePayments, saveCustomerSql, type PaymentOrderRow } from './shared.js';

type Row = typeof payments.$inferSelect;
type Balance = typeof orderBalances.$inferSelect;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * What the customer can pay now, in minor units: the outstanding balance less what a hold
 * still holds (a capture retry takes it) and less charges in flight (processing, or an
 * off-session attempt whose answer is not recorded yet), so nothing is collected twice.
 * 409 `payment_not_pending` before the weigh-in (the hold covers the estimate) or once
 * cancelled; 409 `overage_approval_pending` while an overage waits for the customer's
 * approval (approve it instead); 409 `nothing_outstanding`; 409 `payment_not_applicable` for
 * an amount below Stripe's minimum charge (staff waive it).
 */
export function toCollect(order: PaymentOrderRow, rows: readonly Row[], balance: Balance | undefined, overageUnknown = 0): number {
  if (order.status === 'cancelled' || order.finalTotal === null) {
    throw new ApiError('payment_not_pending', `The order is ${order.status}; there is nothing to pay until it is weighed.`, { details: { status: order.status } });
  }
  if (order.overageApprovalRequired && !order.overageApprovedAt && !rows.some((p) => p.kind === 'overage')) {
    throw new ApiError('overage_approval_pending', 'The weighed price is above the hold: approve the extra charge (POST /v1/orders/{id}/approve-overage) first.');
  }
  const outstanding = balance?.outstanding ?? 0;
  const authorised = balance?.authorised ?? 0;
  const inFlight =
    sum(rows.filter((p) => p.status === 'processing' || (p.status === 'requires_confirmation' && !p.stripePaymentIntentId)).map((p) => p.amount)) + overageUnknown;
  const amount = outstanding - authorised - inFlight;
  if (amount <= 0) {
    throw new ApiError('nothing_outstanding', 'Nothing is outstanding on this order.', { details: { outstanding, authorised, inFlight } });
  }
  if (isBelowMinimum(order.currency, amount)) {
    throw new ApiError('payment_not_applicable', `The outstanding ${amount} ${order.currency} is below Stripe's minimum charge; it cannot be paid by card.`, {
      details: { outstanding: amount, currency: order.currency },
    });
  }
  return amount;
}

/** The open balance PaymentIntent for this amount, made (and recorded) if there is none. */
export async function balanceIntent(
  deps: Deps,
  userId: string,
  order: PaymentOrderRow,
  customerId: string,
  amount: number,
  rows: readonly Row[],
): Promise<Stripe.PaymentIntent> {
  const stripe = await requirePayments(deps).client();
  const cancelled = rows.filter((p) => p.kind === 'balance' && p.status === 'canceled').length;
  const paymentId = await derivedId(`balance-sheet:${order.id}:${amount}:${cancelled}`);
  const existing = rows.find((p) => p.id === paymentId);
  if (existing?.stripePaymentIntentId) {
    const intent = await stripe.paymentIntents.retrieve(existing.stripePaymentIntentId);
    if (['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) return intent;
    // Paid (its webhook not here yet) or cancelled at Stripe: record what Stripe says.
    await recordIntent(deps, existing, intent, `Balance payment ${intent.status}`);
    await deps.database.rows(AnyRow, syncOutstandingFlag(order.id, deps.clock.now().toISOString()));
    if (intent.status === 'canceled') return balanceIntent(deps, userId, order, customerId, amount, rows.map((p) => (p.id === paymentId ? { ...p, status: 'canceled' as const } : p)));
    throw new ApiError('nothing_outstanding', `The balance payment is ${intent.status}.`, { details: { paymentIntent: intent.id, status: intent.status } });
  }
  // A recorded attempt (./attempts.ts): a retry looks the intent up by our metadata before sending.
  const attempt = { orderId: order.id, operation: 'balance', subject: paymentId, lookup: intentByMetadata(stripe, customerId, order.id, 'balance') } as const;
  const { result: intent } = await sendOnce(deps, attempt, (idempotencyKey) =>
    stripe.paymentIntents.create(
      {
        amount,
        currency: order.currency.toLowerCase(),
        customer: customerId,
        capture_method: 'automatic_async',
        automatic_payment_methods: { enabled: true },
        metadata: { order_id: order.id, user_id: userId, kind: 'balance', payment_id: paymentId, attempt: idempotencyKey },
      },
      { idempotencyKey },
    ),
  );
  const now = deps.clock.now().toISOString();
  await deps.database.rows(AnyRow, sql`
    WITH ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, created_at, updated_at)
      VALUES (${paymentId}::uuid, ${order.id}::uuid, 'balance', 'card', ${intent.status}::payment_status, ${intent.id},
              ${order.currency}, ${intent.amount}::int, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    ${saveCustomerSql(userId, customerId, now)}`);
  return intent;
}
