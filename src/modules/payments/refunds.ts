import { eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { requirePayments } from './sheet.js';

export interface RefundResult {
  refundId: string;
  amount: number;
  status: 'succeeded' | 'pending';
}

/**
 * A full or partial refund of captured card money, by an admin. The refund row is reserved
 * first in one statement that locks the payment and checks captured − already refunded
 * (pending included), so two concurrent refunds can never exceed what was captured. Then
 * Stripe is called with a key derived from the refund id, then the row is settled.
 */
export async function refundOrder(
  deps: Deps,
  input: { orderId: string; amount: number; reason: string; actorUserId: string },
): Promise<RefundResult> {
  const { stripe } = requirePayments(deps);
  const card = await deps.database.db.select().from(payments).where(eq(payments.orderId, input.orderId));
  // Refund the overage charge before the hold: it is the most recent money taken.
  const source = card
    .filter((p) => p.method === 'card' && p.amountCaptured > 0 && p.stripePaymentIntentId)
    .sort((a, b) => (a.kind === 'overage' ? -1 : 1) - (b.kind === 'overage' ? -1 : 1));
  if (source.length === 0) {
    throw new ApiError('refund_exceeds_captured', 'Nothing has been captured on this order, so nothing can be refunded.');
  }
  const refundId = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  const reserved = await deps.database.rows<{ payment_id: string }>(sql`
      WITH candidates AS (
        SELECT p.id, p.amount_captured
               - COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id AND r.status <> 'failed'), 0) AS refundable
        FROM payments p
        WHERE p.order_id = ${input.orderId}::uuid AND p.method = 'card' AND p.amount_captured > 0
        ORDER BY (p.kind = 'overage') DESC
        FOR UPDATE
      ),
      pick AS (SELECT id FROM candidates WHERE refundable >= ${input.amount}::int LIMIT 1),
      ins AS (
        INSERT INTO refunds (id, order_id, payment_id, amount, reason, actor_user_id, status, created_at)
        SELECT ${refundId}::uuid, ${input.orderId}::uuid, id, ${input.amount}::int, ${input.reason}, ${input.actorUserId}::uuid, 'pending', ${now}::timestamptz
        FROM pick
        RETURNING payment_id
      )
      SELECT payment_id FROM ins`);
  const payment = card.find((p) => p.id === reserved[0]?.payment_id);
  if (!payment?.stripePaymentIntentId) {
    throw new ApiError('refund_exceeds_captured', 'The refund is larger than what is left to refund on any captured payment of this order.');
  }
  let refund: Stripe.Refund;
  try {
    refund = await stripe.refunds.create(
      { payment_intent: payment.stripePaymentIntentId, amount: input.amount, reason: 'requested_by_customer', metadata: { order_id: input.orderId, refund_id: refundId } },
      { idempotencyKey: `refund-${refundId}` },
    );
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError) {
      // Stripe said no (not "did not answer"): release the reservation.
      if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeCardError) {
        await deps.database.rows(sql`UPDATE refunds SET status = 'failed' WHERE id = ${refundId}::uuid`);
      }
      throw new ApiError('payment_provider_error', `Stripe did not refund (${err.type}); the refund stays pending and is safe to retry.`);
    }
    throw err;
  }
  const status = refund.status === 'succeeded' ? 'succeeded' : 'pending';
  await deps.database.rows(sql`
    WITH settled AS (
      UPDATE refunds SET status = ${status}, stripe_refund_id = ${refund.id} WHERE id = ${refundId}::uuid RETURNING order_id, payment_id
    ),
    paid AS (
      UPDATE payments p SET amount_refunded = LEAST(p.amount_captured, p.amount_refunded + ${input.amount}::int), updated_at = ${now}::timestamptz
      FROM settled s WHERE p.id = s.payment_id AND ${status} = 'succeeded'
    )
    INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence)
    SELECT order_id, ${now}::timestamptz, 'admin', ${input.actorUserId}::uuid, 'payment', ${`Refunded ${input.amount}: ${input.reason}`},
           ${JSON.stringify({ refund: refund.id, amount: input.amount })}::jsonb
    FROM settled`);
  return { refundId, amount: input.amount, status };
}

/** Pay on delivery: staff record the money taken at the door. */
export async function recordInPersonPayment(
  deps: Deps,
  input: { orderId: string; method: 'cash' | 'card_present'; amount: number; actorUserId: string; actorRole: 'staff' | 'admin' },
): Promise<void> {
  const now = deps.clock.now().toISOString();
  const rows = await deps.database.rows<{ ok: number; found: boolean }>(sql`
    WITH o AS (
      SELECT id, payment_method, status, currency, COALESCE(final_total, estimated_total) AS due FROM orders WHERE id = ${input.orderId}::uuid
    ),
    ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, currency, amount, amount_captured, created_at, updated_at)
      SELECT ${crypto.randomUUID()}::uuid, id, 'in_person', ${input.method}::payment_method_kind, 'succeeded', currency,
             ${input.amount}::int, ${input.amount}::int, ${now}::timestamptz, ${now}::timestamptz
      FROM o
      WHERE payment_method = 'on_delivery' AND status IN ('out_for_delivery', 'delivered')
        AND NOT EXISTS (SELECT 1 FROM payments WHERE order_id = o.id AND kind = 'in_person' AND status = 'succeeded')
      RETURNING order_id
    ),
    unflag AS (
      UPDATE orders SET flagged_reason = NULL, updated_at = ${now}::timestamptz
      WHERE id IN (SELECT order_id FROM ins) AND flagged_reason = 'unpaid_on_delivery'
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, ${input.actorRole}::actor_role, ${input.actorUserId}::uuid, 'payment',
             ${`Paid at the door (${input.method === 'cash' ? 'cash' : 'card'})`}, ${JSON.stringify({ method: input.method, amount: input.amount })}::jsonb
      FROM ins
    )
    SELECT (SELECT count(*) FROM ins)::int AS ok, EXISTS (SELECT 1 FROM o) AS found`);
  if (!rows[0]?.found) throw new ApiError('not_found', 'No such order.');
  if (rows[0].ok !== 1) {
    throw new ApiError(
      'payment_not_applicable',
      'Only a pay-on-delivery order that is out for delivery or delivered, and not yet paid, can take a payment at the door.',
    );
  }
}
