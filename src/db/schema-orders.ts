import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  json,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { ORDER_STATUSES } from '../domain/order-status.js';
import type { AddressSnapshot } from './address-snapshot.js';
import { notificationType } from './schema-notification-kinds.js';
import type { PriceBreakdown, PricingRules } from '../domain/pricing.js';
import { pricingModel, services } from './schema-catalog.js';
import { promoCodes } from './schema-promos.js';
import { addresses, slots, zones } from './schema-scheduling.js';
import { timestamps, users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const orderStatus = pgEnum('order_status', ORDER_STATUSES);
export const paymentMethod = pgEnum('payment_method', ['card', 'on_delivery']);
export const actorRole = pgEnum('actor_role', ['customer', 'staff', 'admin', 'system']);

export type { AddressSnapshot };

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    status: orderStatus('status').notNull(),
    paymentMethod: paymentMethod('payment_method').notNull(),
    zoneId: uuid('zone_id')
      .notNull()
      .references(() => zones.id),
    addressId: uuid('address_id').references(() => addresses.id, { onDelete: 'set null' }),
    /** The address as it was when ordered: later edits or deletion never move a booked pickup. */
    address: jsonb('address').$type<AddressSnapshot>().notNull(),
    pickupSlotId: uuid('pickup_slot_id')
      .notNull()
      .references(() => slots.id),
    deliverySlotId: uuid('delivery_slot_id')
      .notNull()
      .references(() => slots.id),
    express: boolean('express').notNull(),
    notes: text('notes'),
    currency: text('currency').notNull(),
    /** Server-computed estimate (PriceBreakdown), minor units. */
    estimate: jsonb('estimate').$type<PriceBreakdown>().notNull(),
    estimatedTotal: integer('estimated_total').notNull(),
    /** The zone's pricing rules as they were at order time; the weigh-in prices with these. */
    pricingRules: jsonb('pricing_rules').$type<PricingRules>().notNull(),
    /** Set once, at weigh-in: the price the payment is captured at. */
    finalBreakdown: jsonb('final_breakdown').$type<PriceBreakdown>(),
    finalTotal: integer('final_total'),
    weighedAt: ts('weighed_at'),
    bagCount: integer('bag_count'),
    cancelledAt: ts('cancelled_at'),
    /**
     * Needs a person: a disputed charge, an amount Stripe reports that we did not ask for, an
     * unpaid delivery… Every open flag, oldest first, each once (ORDER_FLAGS in src/domain/order-status.ts; the SQL in src/modules/orders/shared.ts).
     */
    flags: text('flags').array().notNull().default(sql`'{}'::text[]`),
    /** The latest of `flags` (null when none): kept for the release before `flags` existed. */
    flaggedReason: text('flagged_reason'),
    /** Set when the weighed price exceeds the hold by more than the approval threshold. */
    overageApprovalRequired: boolean('overage_approval_required').notNull().default(false),
    overageApprovedAt: ts('overage_approved_at'),
    /** The promo code redeemed (src/db/schema-promos.ts); its redemption is given back when the order is cancelled. */
    promoCodeId: uuid('promo_code_id').references(() => promoCodes.id),
    /** Minor units taken off by the promo code at creation (also in `estimate.discount`). */
    discountAmount: integer('discount_amount').notNull().default(0),
    /** Minor units of account credit spent on the order at creation; given back on cancel (credit_entries `order_released`). */
    creditApplied: integer('credit_applied').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    index('orders_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    index('orders_status_created_idx').on(t.status, t.createdAt.desc(), t.id.desc()),
    index('orders_pickup_slot_idx').on(t.pickupSlotId),
    index('orders_delivery_slot_idx').on(t.deliverySlotId),
    index('orders_promo_code_idx').on(t.promoCodeId),
    check('orders_adjustments_nonneg', sql`${t.discountAmount} >= 0 AND ${t.creditApplied} >= 0`),
    check('orders_totals_nonneg', sql`${t.estimatedTotal} >= 0 AND (${t.finalTotal} IS NULL OR ${t.finalTotal} >= 0)`),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id),
    /** Copied at order time: later catalog edits never reprice an order. */
    serviceName: text('service_name').notNull(),
    pricingModel: pricingModel('pricing_model').notNull(),
    unitPrice: integer('unit_price').notNull(),
    /** Copied with the price: null when the order is not express. */
    expressSurchargeBps: integer('express_surcharge_bps'),
    quantity: integer('quantity'),
    estimatedWeightGrams: integer('estimated_weight_grams'),
    finalQuantity: integer('final_quantity'),
    finalWeightGrams: integer('final_weight_grams'),
    addOns: jsonb('add_ons').$type<Array<{ id: string; name: string; price: number }>>().notNull(),
    estimatedTotal: integer('estimated_total').notNull(),
    finalTotal: integer('final_total'),
  },
  (t) => [index('order_lines_order_idx').on(t.orderId, t.position)],
);

/** The customer-visible timeline. Append-only: a trigger refuses UPDATE and DELETE. */
export const orderEvents = pgTable(
  'order_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    at: ts('at').notNull(),
    actorRole: actorRole('actor_role').notNull(),
    actorUserId: uuid('actor_user_id'),
    /** created | status_changed | weighed */
    type: text('type').notNull(),
    fromStatus: orderStatus('from_status'),
    toStatus: orderStatus('to_status'),
    note: text('note'),
    evidence: jsonb('evidence').$type<Record<string, unknown>>(),
    /**
     * A notification this entry causes that its statuses do not say (`payment_action_required`,
     * `refund_issued`): the outbox trigger (migration 0014) writes it. Null for most entries.
     */
    notify: notificationType('notify'),
  },
  (t) => [index('order_events_order_idx').on(t.orderId, t.id)],
);

/**
 * Idempotency for order creation, scoped to the user. The response is stored in the same
 * statement that creates the order, so a replay returns exactly what the first call did.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    statusCode: integer('status_code').notNull(),
    /** `json`, not `jsonb`: the stored text keeps its key order, so a replay is byte-identical. */
    response: json('response').notNull(),
    orderId: uuid('order_id').references(() => orders.id, { onDelete: 'set null' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    /** The retention sweep (src/modules/jobs/retention.ts) finds keys past their 24 h by it. */
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);
