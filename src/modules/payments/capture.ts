import { and, eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { orders, payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { refundOrder } from './refunds.js';
import { requirePayments } from './sheet.js';

export type CaptureOutcome =
  | { kind: 'not_card' }
  | { kind: 'captured'; captured: number; overage: 'none' | 'charged' | 'awaiting_approval' | 'failed' }
  | { kind: 'already_captured'; captured: number };

type PaymentRow = typeof payments.$inferSelect;

async function readPaymentState(deps: Deps, orderId: string) {
  const [orderRows, paymentRows] = await deps.database.batch((db) => [
    db.select().from(orders).where(eq(orders.id, orderId)),
    db.select().from(payments).where(eq(payments.orderId, orderId)),
  ]);
  const order = orderRows[0];
  if (!order) throw new ApiError('not_found', 'No such order.');
  return {
    order,
    hold: paymentRows.find((p) => p.kind === 'hold'),
    overage: paymentRows.find((p) => p.kind === 'overage'),
  };
}

/** Records Stripe's view of an intent on our row: forward-only, one statement, with a timeline note. */
async function recordIntent(deps: Deps, row: PaymentRow, pi: Stripe.PaymentIntent, note: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.database.rows(sql`
    WITH moved AS (
      UPDATE payments SET status = ${pi.status === 'requires_payment_method' ? 'failed' : pi.status}::payment_status,
        amount_capturable = ${pi.amount_capturable}::int,
        amount_captured = GREATEST(amount_captured, ${pi.amount_received}::int),
        updated_at = ${now}::timestamptz
      WHERE id = ${row.id}::uuid AND status NOT IN ('succeeded', 'canceled')
      RETURNING order_id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
    SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note},
           ${JSON.stringify({ paymentIntent: pi.id, status: pi.status, amountReceived: pi.amount_received })}::jsonb
    FROM moved`);
}

function providerError(err: unknown): never {
  if (err instanceof Stripe.errors.StripeError) {
    throw Object.assign(new ApiError('payment_provider_error', `Stripe did not complete the request (${err.type}); it is safe to retry.`), {
      details: { stripeCode: err.code ?? null },
    });
  }
  throw err;
}

/**
 * Captures the weighed price. At most the hold is captured (Stripe refuses more, and the
 * rest is released); the remainder becomes an off-session overage charge, or waits for the
 * customer's approval above the threshold. Every Stripe call carries a key derived from our
 * ids, so a retry after a timeout or a crash captures once.
 */
export async function captureOrderPayment(deps: Deps, orderId: string): Promise<CaptureOutcome> {
  const { order, hold } = await readPaymentState(deps, orderId);
  if (order.paymentMethod !== 'card' || !hold?.stripePaymentIntentId) return { kind: 'not_card' };
  if (order.finalTotal === null) throw new ApiError('capture_not_possible', 'Weigh the order first: the final price is not known yet.');
  if (hold.status === 'succeeded') {
    return { kind: 'already_captured', captured: hold.amountCaptured };
  }
  if (hold.status !== 'requires_capture') {
    throw Object.assign(new ApiError('capture_not_possible', `The card hold is ${hold.status}; nothing can be captured.`), {
      details: { paymentStatus: hold.status },
    });
  }
  const { stripe } = requirePayments(deps);
  const toCapture = Math.min(order.finalTotal, hold.amount);
  let pi: Stripe.PaymentIntent;
  try {
    pi = await stripe.paymentIntents.capture(hold.stripePaymentIntentId, { amount_to_capture: toCapture }, { idempotencyKey: `capture-${hold.id}` });
  } catch (err) {
    // Captured already (by an earlier attempt whose answer we lost): take Stripe's word.
    if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'payment_intent_unexpected_state') {
      pi = await stripe.paymentIntents.retrieve(hold.stripePaymentIntentId);
    } else {
      providerError(err);
    }
  }
  await recordIntent(deps, hold, pi, `Captured ${pi.amount_received} of the ${hold.amount} hold`);
  const overage = order.finalTotal - toCapture;
  if (overage <= 0) return { kind: 'captured', captured: pi.amount_received, overage: 'none' };
  if (overage > deps.config.overageApprovalThreshold && !order.overageApprovedAt) {
    await deps.database.rows(sql`
      WITH flagged AS (
        UPDATE orders SET overage_approval_required = true, updated_at = ${deps.clock.now().toISOString()}::timestamptz
        WHERE id = ${orderId}::uuid AND NOT overage_approval_required RETURNING id
      )
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT id, ${deps.clock.now().toISOString()}::timestamptz, 'system', 'payment',
             ${`The weighed price is ${overage} above the hold; waiting for the customer's approval`},
             ${JSON.stringify({ overage, finalTotal: order.finalTotal, hold: hold.amount })}::jsonb
      FROM flagged`);
    return { kind: 'captured', captured: pi.amount_received, overage: 'awaiting_approval' };
  }
  const charged = await chargeOverage(deps, orderId, overage, hold.stripePaymentIntentId, order.currency);
  return { kind: 'captured', captured: pi.amount_received, overage: charged ? 'charged' : 'failed' };
}

/** Charges the difference off-session on the card saved with the hold. */
async function chargeOverage(deps: Deps, orderId: string, amount: number, holdIntentId: string, currency: string): Promise<boolean> {
  const { stripe } = requirePayments(deps);
  const holdIntent = await stripe.paymentIntents.retrieve(holdIntentId);
  const paymentMethod = typeof holdIntent.payment_method === 'string' ? holdIntent.payment_method : holdIntent.payment_method?.id;
  const customer = typeof holdIntent.customer === 'string' ? holdIntent.customer : holdIntent.customer?.id;
  const paymentId = crypto.randomUUID();
  let pi: Stripe.PaymentIntent;
  try {
    pi = await stripe.paymentIntents.create(
      {
        amount,
        currency: currency.toLowerCase(),
        ...(customer ? { customer } : {}),
        ...(paymentMethod ? { payment_method: paymentMethod } : {}),
        off_session: true,
        confirm: true,
        // Off-session there is nobody to follow a redirect; card-like methods only.
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        metadata: { order_id: orderId, kind: 'overage' },
      },
      { idempotencyKey: `overage-${orderId}` },
    );
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeCardError)) providerError(err);
    const failed = err.payment_intent;
    await insertOverage(deps, orderId, paymentId, failed?.id ?? null, 'failed', amount, 0, currency, `Overage of ${amount} declined: ${err.message}`);
    return false;
  }
  await insertOverage(deps, orderId, paymentId, pi.id, pi.status, amount, pi.amount_received, currency, `Charged the overage of ${amount}`);
  return pi.status === 'succeeded';
}

async function insertOverage(
  deps: Deps,
  orderId: string,
  paymentId: string,
  intentId: string | null,
  status: string,
  amount: number,
  captured: number,
  currency: string,
  note: string,
): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.database.rows(sql`
    WITH ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, amount_captured, created_at, updated_at)
      VALUES (${paymentId}::uuid, ${orderId}::uuid, 'overage', 'card', ${status}::payment_status, ${intentId}, ${currency},
              ${amount}::int, ${captured}::int, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING order_id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
    SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note}, ${JSON.stringify({ paymentIntent: intentId, amount })}::jsonb
    FROM ins`);
}

/** The customer approves a large overage; it is charged at once. */
export async function approveOverage(deps: Deps, userId: string, orderId: string): Promise<CaptureOutcome> {
  const now = deps.clock.now().toISOString();
  const rows = await deps.database.rows<{ id: string }>(sql`
    WITH ok AS (
      UPDATE orders SET overage_approved_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE id = ${orderId}::uuid AND user_id = ${userId}::uuid AND overage_approval_required AND overage_approved_at IS NULL
      RETURNING id
    ), ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note)
      SELECT id, ${now}::timestamptz, 'customer', ${userId}::uuid, 'payment', 'Customer approved the extra charge' FROM ok
    )
    SELECT id FROM ok`);
  if (!rows[0]) {
    const [order] = await deps.database.db.select({ id: orders.id }).from(orders).where(and(eq(orders.id, orderId), eq(orders.userId, userId)));
    if (!order) throw new ApiError('not_found', 'No such order.');
    throw new ApiError('overage_not_pending', 'There is no extra charge waiting for approval on this order.');
  }
  const { order, hold, overage } = await readPaymentState(deps, orderId);
  if (overage || !hold?.stripePaymentIntentId || order.finalTotal === null) return { kind: 'already_captured', captured: hold?.amountCaptured ?? 0 };
  const charged = await chargeOverage(deps, orderId, order.finalTotal - hold.amountCaptured, hold.stripePaymentIntentId, order.currency);
  return { kind: 'captured', captured: hold.amountCaptured, overage: charged ? 'charged' : 'failed' };
}

/** Cancelling an order: an uncaptured hold is released; a captured payment is refunded by staff. */
export async function releaseHold(deps: Deps, orderId: string): Promise<void> {
  if (!deps.payments) return;
  const [hold] = await deps.database.db
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, orderId), eq(payments.kind, 'hold')));
  if (!hold?.stripePaymentIntentId || ['succeeded', 'canceled'].includes(hold.status)) return;
  const pi = await deps.payments.stripe.paymentIntents.cancel(
    hold.stripePaymentIntentId,
    { cancellation_reason: 'requested_by_customer' },
    { idempotencyKey: `cancel-${hold.id}` },
  );
  await recordIntent(deps, hold, pi, 'Card hold released');
}

/**
 * After a cancellation: release an uncaptured hold, refund what was already captured.
 * Failures are logged by the caller; the payments job and reconciliation surface leftovers.
 */
export async function settleCancelledOrder(deps: Deps, orderId: string, actorUserId: string): Promise<void> {
  if (!deps.payments) return;
  await releaseHold(deps, orderId);
  const rows = await deps.database.rows<{ refundable: number }>(sql`
    SELECT COALESCE(sum(p.amount_captured), 0)::int
           - COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.order_id = ${orderId}::uuid AND r.status <> 'failed'), 0)::int AS refundable
    FROM payments p WHERE p.order_id = ${orderId}::uuid AND p.method = 'card'`);
  const refundable = Number(rows[0]?.refundable ?? 0);
  if (refundable > 0) {
    await refundOrder(deps, { orderId, amount: refundable, reason: 'Order cancelled', actorUserId });
  }
}
