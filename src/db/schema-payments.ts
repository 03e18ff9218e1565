import { sql } from 'drizzle-orm';
import { check, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orders } from './schema-orders.js';
import { timestamps, users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** hold: the authorised estimate; overage: the off-session charge above it; in_person: paid at the door. */
export const paymentKind = pgEnum('payment_kind', ['hold', 'overage', 'in_person']);
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
    uniqueIndex('payments_order_kind_key').on(t.orderId, t.kind).where(sql`${t.kind} <> 'in_person'`),
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
  (t) => [index('refunds_order_idx').on(t.orderId), check('refunds_amount_pos', sql`${t.amount} > 0`)],
);

/** Every Stripe event id seen, so a redelivered event is recognised and changes nothing. */
export const webhookEvents = pgTable('webhook_events', {
  eventId: text('event_id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: ts('received_at').notNull().defaultNow(),
  outcome: text('outcome'),
});
