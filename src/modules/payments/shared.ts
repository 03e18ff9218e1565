/**
 * What the payments module's operations share: the Stripe client guard and error mapping, the
 * forward-only rank of payment states (the webhook, capture and the job all obey it), and the
 * reads and writes of our payment rows that more than one operation performs.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeError } from '../../payments/stripe-errors.js';
import type { Db } from '../../db/client.js';
import { balanceWaivers, orders, payments } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { Payments } from '../../payments/stripe.js';
import { syncOutstandingFlag } from '../orders/balance.js';

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentOrderRow = typeof orders.$inferSelect;

export function requirePayments(deps: Deps): Payments {
  if (!deps.payments) {
    throw new ApiError('payments_not_configured', 'Card payments are not configured on this server; choose pay on delivery.');
  }
  return deps.payments;
}

/**
 * A Stripe failure (down, timed out, refused) is a 502 the client may retry, never a 500:
 * every money-moving Stripe POST is a recorded attempt (./attempts.ts), so a retry looks the
 * operation up at Stripe before sending again, with a new key if Stripe stored a 500.
 */
export function providerError(err: unknown): never {
  if (isStripeError(err)) {
    throw new ApiError('payment_provider_error', `Stripe did not complete the request (${err.type}); it is safe to retry.`, { details: { stripeCode: err.code ?? null } });
  }
  throw err;
}

/** Forward-only ranking of payment states: an older event never undoes a newer state. */
export const STATUS_RANK: Record<string, number> = {
  requires_payment_method: 0,
  requires_confirmation: 1,
  requires_action: 2,
  processing: 3,
  failed: 3,
  requires_capture: 4,
  succeeded: 5,
  canceled: 5,
};

/** SQL rank of a payment_status column, the same forward-only order the webhook uses. */
export const paymentRank = (col: SQL): SQL =>
  sql`(CASE ${col} ${sql.join(
    Object.entries(STATUS_RANK).map(([s, r]) => sql`WHEN ${s} THEN ${r}`),
    sql` `,
  )} END)`;

/** The order, its payment rows and its waivers: three reads for a caller's batch (see `paymentStateOf`). */
export const paymentStateQueries = (db: Db, orderId: string) =>
  [
    db.select().from(orders).where(eq(orders.id, orderId)),
    db.select().from(payments).where(eq(payments.orderId, orderId)),
    db.select({ amount: balanceWaivers.amount }).from(balanceWaivers).where(eq(balanceWaivers.orderId, orderId)),
  ] as const;

/** What `paymentStateQueries` read: the order (404 when gone), its hold, its overage, and what else covers the price. */
export function paymentStateOf(orderRows: PaymentOrderRow[], paymentRows: PaymentRow[], waiverRows: Array<{ amount: number }>) {
  const order = orderRows[0];
  if (!order) throw new ApiError('not_found', 'No such order.');
  return {
    order,
    hold: paymentRows.find((p) => p.kind === 'hold'),
    overage: paymentRows.find((p) => p.kind === 'overage'),
    /**
     * What beyond the hold and the overage charge already covers the weighed price: admins'
     * waivers, balance payments made (or being made: open on the customer's PaymentSheet, in
     * flight, or declined once: the customer may still retry that PaymentIntent), so an overage
     * charge never takes what the customer paid, may be paying, or the shop waived.
     */
    covered:
      waiverRows.reduce((a, w) => a + w.amount, 0) +
      paymentRows
        .filter((p) => p.kind === 'balance' && p.status !== 'canceled')
        .reduce((a, p) => a + (p.status === 'succeeded' ? p.amountCaptured : p.amount), 0),
  };
}
export type PaymentState = ReturnType<typeof paymentStateOf>;

export async function readPaymentState(deps: Deps, orderId: string): Promise<PaymentState> {
  const [orderRows, paymentRows, waiverRows] = await deps.database.batch((db) => paymentStateQueries(db, orderId));
  return paymentStateOf(orderRows, paymentRows, waiverRows);
}

/** Records Stripe's view of an intent on our row: forward-only, one statement, with a timeline note. */
export async function recordIntent(deps: Deps, row: Pick<PaymentRow, 'id' | 'orderId'>, pi: Stripe.PaymentIntent, note: string): Promise<void> {
  // The same round trip clears payment_outstanding if this settled what was owed (a capture retry
  // collecting what the weigh-in flagged); raising it is left to the workflow's own sync.
  await deps.database.batch((db) => [
    db.execute(recordIntentSql(deps, row, pi, note)),
    db.execute(syncOutstandingFlag(row.orderId, deps.clock.now().toISOString(), true)),
  ]);
}

/** `recordIntent`'s statement, for a caller that sends it in a batch of its own. */
export function recordIntentSql(deps: Deps, row: Pick<PaymentRow, 'id' | 'orderId'>, pi: Stripe.PaymentIntent, note: string): SQL {
  const now = deps.clock.now().toISOString();
  const status = pi.status === 'requires_payment_method' ? 'failed' : pi.status;
  return sql`
    WITH moved AS (
      UPDATE payments SET status = ${status}::payment_status,
        amount_capturable = ${pi.amount_capturable}::int,
        amount_captured = GREATEST(amount_captured, ${pi.amount_received}::int),
        updated_at = ${now}::timestamptz
      WHERE id = ${row.id}::uuid AND status NOT IN ('succeeded', 'canceled')
        AND ${paymentRank(sql`status::text`)} <= ${STATUS_RANK[status] ?? 0}
      RETURNING order_id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
    SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note},
           ${JSON.stringify({ paymentIntent: pi.id, status: pi.status, amountReceived: pi.amount_received })}::jsonb
    FROM moved`;
}

/** Remembers the user's Stripe Customer, once: a statement, or the tail of a CTE. */
export function saveCustomerSql(userId: string, customerId: string, now: string): SQL {
  return sql`UPDATE users SET stripe_customer_id = ${customerId}, updated_at = ${now}::timestamptz
             WHERE id = ${userId}::uuid AND stripe_customer_id IS NULL`;
}
