import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orders } from './schema-orders.js';
import { users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Tips after delivery (src/modules/tips). Kept out of `payments` on purpose: a tip is not what
 * the order owes, so it never enters `order_balances`, never pays an order, and order refunds
 * never touch it.
 *
 * - `method`: `card` (the customer's, off-session on the card saved with the hold) or `cash`
 *   (recorded by staff on a pay-on-delivery order).
 * - `status`: `pending` (row written, Stripe not answered yet), `processing`, `succeeded`,
 *   `failed` (declined / authentication required: `failure_code`). Forward only.
 * - One live tip per order: the partial unique index makes a second (or a concurrent) one
 *   impossible; a failed tip does not count, so the customer may try again with a new key.
 */
export const tips = pgTable(
  'tips',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /** The customer whose order it is. */
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    /** The staff member who took the order's `delivered` transition (order_events.actor_user_id); null if the system did. */
    driverUserId: uuid('driver_user_id').references(() => users.id),
    /** Who recorded it: the customer (card), or the staff member (cash). */
    recordedBy: uuid('recorded_by')
      .notNull()
      .references(() => users.id),
    method: text('method').notNull(),
    status: text('status').notNull(),
    /** Minor units of `currency`. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    /** The preset percentage asked for (10, 15, 20), or null for an amount. */
    percent: integer('percent'),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    /** Stripe's decline code or error code when `failed`. */
    failureCode: text('failure_code'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('tips_live_order_key').on(t.orderId).where(sql`${t.status} <> 'failed'`),
    uniqueIndex('tips_stripe_pi_key').on(t.stripePaymentIntentId),
    index('tips_driver_created_idx').on(t.driverUserId, t.createdAt),
    check('tips_amount_positive', sql`${t.amount} > 0`),
    check('tips_method', sql`${t.method} IN ('card', 'cash')`),
    check('tips_status', sql`${t.status} IN ('pending', 'processing', 'succeeded', 'failed')`),
  ],
);
