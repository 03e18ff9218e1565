import { sql } from 'drizzle-orm';
import { check, index, integer, pgEnum, pgTable, pgView, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orders } from './schema-orders.js';
import { timestamps, users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * hold: the authorised estimate; overage: the off-session charge above it; in_person: paid at
 * the door; balance: a charge collecting what is still outstanding after the hold was lost or an
 * overage failed (off-session on the saved card, or on-session through a PaymentSheet; an order
 * may have several, one per attempt).
 */
export const paymentKind = pgEnum('payment_kind', ['hold', 'overage', 'in_person', 'balance']);
/**
 * Mirrors Stripe's PaymentIntent status, ranked so state only moves forward: a late or
 * replayed webhook can never take a payment back to an earlier state. One is ours, not
 * Stripe's: `waived`, an overage below Stripe's minimum charge that we do not collect (no
 * PaymentIntent; the row is the durable record, so a retry answers `waived` again).
 */
export const paymentStatus = pgEnum('payment_status', [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
  'failed',
  'waived',
]);
export const paymentMethodKind = pgEnum('payment_method_kind', ['card', 'cash', 'card_present']);

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    kind: paymentKind('kind').notNull(),
    method: paymentMethodKind('method').notNull(),
    status: paymentStatus('status').notNull(),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    currency: text('currency').notNull(),
    /** Minor units. `amount` is what was asked for; the others follow Stripe's view. */
    amount: integer('amount').notNull(),
    amountCapturable: integer('amount_capturable').notNull().default(0),
    amountCaptured: integer('amount_captured').notNull().default(0),
    amountRefunded: integer('amount_refunded').notNull().default(0),
    /** When Stripe releases an uncaptured authorisation (about 7 days for online cards). */
    captureBefore: ts('capture_before'),
    /** Unix seconds of the newest Stripe event applied; older events are hints at most. */
    lastEventCreated: integer('last_event_created'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('payments_stripe_pi_key').on(t.stripePaymentIntentId),
    // One hold and one overage charge per order, whatever retries happen.
    uniqueIndex('payments_order_kind_key').on(t.orderId, t.kind).where(sql`${t.kind} IN ('hold', 'overage')`),
    index('payments_order_idx').on(t.orderId),
    index('payments_capture_before_idx').on(t.captureBefore),
    check('payments_amounts', sql`${t.amount} >= 0 AND ${t.amountCaptured} >= 0 AND ${t.amountRefunded} >= 0 AND ${t.amountRefunded} <= ${t.amountCaptured}`),
  ],
);

export const refunds = pgTable(
  'refunds',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    paymentId: uuid('payment_id')
      .notNull()
      .references(() => payments.id),
    amount: integer('amount').notNull(),
    reason: text('reason').notNull(),
    actorUserId: uuid('actor_user_id').references(() => users.id),
    /** pending until Stripe confirms; a pending refund already counts against the captured total. */
    status: text('status').notNull().default('pending'),
    stripeRefundId: text('stripe_refund_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('refunds_order_idx').on(t.orderId),
    // One row per Stripe Refund: a webhook about a refund made outside the app inserts its row once
    // (src/modules/payments/refund-events.ts, ON CONFLICT). NULLs (not yet known) do not conflict.
    uniqueIndex('refunds_stripe_refund_id_key').on(t.stripeRefundId),
    check('refunds_amount_pos', sql`${t.amount} > 0`),
  ],
);

/**
 * One row per Stripe POST that creates or moves money (a hold or a charge created, a capture, a
 * refund, a hold released), written BEFORE the request is sent: which operation on which of our
 * objects, the attempt number and the idempotency key it was sent with. Stripe replays the first
 * answer to a key, a 500 included, and prunes keys after 24 h
 * (https://docs.stripe.com/api/idempotent_requests), so a retry must look the operation up at
 * Stripe first and, when nothing is there, send a NEW attempt with a new key
 * (src/modules/payments/attempts.ts). Attempt 1 keeps the key the app always used
 * (`capture-<holdId>`); attempt n > 1 is `<that>-a<n>`.
 */
export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /** hold | capture | overage | balance | refund | cancel */
    operation: text('operation').notNull(),
    /** Our id the operation acts on: the order (hold, overage, balance), the hold payment (capture, cancel), the refund row (refund). */
    subject: text('subject').notNull(),
    attempt: integer('attempt').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** When it was recorded, just before it was sent (the app's clock). */
    sentAt: ts('sent_at').notNull(),
    /**
     * null: sent, no failure seen (its result is on our payment or refund rows); `server_error`:
     * Stripe answered 5xx (stored for the key); `no_answer`: timeout or connection lost;
     * `refused`: a 4xx (stored for the key too); `adopted`: a later look-up found its object at Stripe.
     */
    outcome: text('outcome'),
    /** The Stripe object a look-up found for it (pi_…, re_…). */
    stripeObjectId: text('stripe_object_id'),
    /** What the failure was (Stripe's error type and code), for ops. */
    error: text('error'),
  },
  (t) => [
    uniqueIndex('payment_attempts_operation_key').on(t.operation, t.subject, t.attempt),
    uniqueIndex('payment_attempts_idempotency_key').on(t.idempotencyKey),
    index('payment_attempts_order_idx').on(t.orderId),
    check('payment_attempts_operation', sql`${t.operation} IN ('hold', 'capture', 'overage', 'balance', 'refund', 'cancel')`),
    check('payment_attempts_attempt_pos', sql`${t.attempt} >= 1`),
  ],
);

/** Every Stripe event id seen, so a redelivered event is recognised and changes nothing. */
export const webhookEvents = pgTable('webhook_events', {
  eventId: text('event_id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: ts('received_at').notNull().defaultNow(),
  outcome: text('outcome'),
});

/**
 * An admin's decision not to collect part of an order's balance (a goodwill gesture, a charge
 * that cannot be collected), with the reason and the admin: it counts as `waived` in the
 * order's balance (src/domain/balance.ts). Rows are never updated or deleted.
 */
export const balanceWaivers = pgTable(
  'balance_waivers',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /** Minor units of the order's currency. */
    amount: integer('amount').notNull(),
    reason: text('reason').notNull(),
    actorUserId: uuid('actor_user_id')
      .notNull()
      .references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('balance_waivers_order_idx').on(t.orderId), check('balance_waivers_amount_pos', sql`${t.amount} > 0`)],
);

/**
 * Every order's balance in minor units, the SQL twin of `orderBalance()` in
 * src/domain/balance.ts (test/node/order-balance.test.ts proves they agree): what SQL-side
 * guards and jobs read (the `out_for_delivery` guard, the payments job, the outstanding gauge).
 * - due: 0 once cancelled, else the final total once weighed, else the estimate;
 * - authorised: held on a card and not captured (a hold in requires_capture);
 * - paid: captured or taken at the door (refunds do not reduce it);
 * - refunded: returned to the customer's card (Stripe's running totals on our payment rows);
 * - waived: overages below Stripe's minimum charge, and admins' waivers;
 * - outstanding: max(0, due − paid − waived);
 * - refunded_to_credit: given back as account credit (`refund_to_credit` credit entries naming
 *   the order, migration 0027); like `refunded`, it never enters `outstanding`. Last because
 *   CREATE OR REPLACE VIEW can only append columns.
 */
export const orderBalances = pgView('order_balances', {
  orderId: uuid('order_id').notNull(),
  due: integer('due').notNull(),
  authorised: integer('authorised').notNull(),
  paid: integer('paid').notNull(),
  refunded: integer('refunded').notNull(),
  waived: integer('waived').notNull(),
  outstanding: integer('outstanding').notNull(),
  refundedToCredit: integer('refunded_to_credit').notNull(),
}).as(sql`
  SELECT o.id AS order_id, b.due, b.authorised, b.paid, b.refunded, b.waived,
         GREATEST(0, b.due - b.paid - b.waived)::int AS outstanding,
         COALESCE((SELECT sum(ce.amount) FROM credit_entries ce WHERE ce.order_id = o.id AND ce.reason = 'refund_to_credit'), 0)::int AS refunded_to_credit
  FROM orders o
  CROSS JOIN LATERAL (
    SELECT (CASE WHEN o.status = 'cancelled' THEN 0 ELSE COALESCE(o.final_total, o.estimated_total) END)::int AS due,
           COALESCE((SELECT sum(p.amount_capturable) FROM payments p WHERE p.order_id = o.id AND p.status::text = 'requires_capture'), 0)::int AS authorised,
           COALESCE((SELECT sum(p.amount_captured) FROM payments p WHERE p.order_id = o.id), 0)::int AS paid,
           COALESCE((SELECT sum(p.amount_refunded) FROM payments p WHERE p.order_id = o.id), 0)::int AS refunded,
           (COALESCE((SELECT sum(p.amount) FROM payments p WHERE p.order_id = o.id AND p.status::text = 'waived'), 0)
            + COALESCE((SELECT sum(w.amount) FROM balance_waivers w WHERE w.order_id = o.id), 0))::int AS waived
  ) b`);
