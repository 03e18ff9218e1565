import { relations } from 'drizzle-orm';
import { addOns, services } from './schema-catalog.js';
import { orderEvents, orderLines, orders } from './schema-orders.js';
import { balanceWaivers, payments } from './schema-payments.js';
import { creditEntries } from './schema-promos.js';
import { slots } from './schema-scheduling.js';
import type { users } from './schema-users.js';

/*
 * Schema rules:
 * - money is integer minor units (`*_price`, `*_amount`), never numeric or float;
 * - every time is `timestamptz`;
 * - migrations are expand/contract: a Worker that was rolled back must still run
 *   against the schema that is live, so columns are added nullable or with defaults.
 */

export * from './schema-users.js';
export * from './schema-catalog.js';
export * from './schema-scheduling.js';
export * from './schema-orders.js';
export * from './schema-payments.js';
export * from './schema-jobs.js';
export * from './schema-notifications.js';
export * from './schema-identities.js';
export * from './schema-promos.js';
export * from './schema-account.js';
export * from './schema-tips.js';
export * from './schema-recurring.js';

export const servicesRelations = relations(services, ({ many }) => ({ addOns: many(addOns) }));
export const addOnsRelations = relations(addOns, ({ one }) => ({
  service: one(services, { fields: [addOns.serviceId], references: [services.id] }),
}));

export const ordersRelations = relations(orders, ({ many, one }) => ({
  lines: many(orderLines),
  events: many(orderEvents),
  payments: many(payments),
  waivers: many(balanceWaivers),
  /** Every credit entry naming the order; orderQuery reads only the `refund_to_credit` ones. */
  creditEntries: many(creditEntries),
  pickupSlot: one(slots, { fields: [orders.pickupSlotId], references: [slots.id], relationName: 'pickup' }),
  deliverySlot: one(slots, { fields: [orders.deliverySlotId], references: [slots.id], relationName: 'delivery' }),
}));
export const orderLinesRelations = relations(orderLines, ({ one }) => ({
  order: one(orders, { fields: [orderLines.orderId], references: [orders.id] }),
}));
export const orderEventsRelations = relations(orderEvents, ({ one }) => ({
  order: one(orders, { fields: [orderEvents.orderId], references: [orders.id] }),
}));
export const paymentsRelations = relations(payments, ({ one }) => ({
  order: one(orders, { fields: [payments.orderId], references: [orders.id] }),
}));
export const balanceWaiversRelations = relations(balanceWaivers, ({ one }) => ({
  order: one(orders, { fields: [balanceWaivers.orderId], references: [orders.id] }),
}));
export const creditEntriesRelations = relations(creditEntries, ({ one }) => ({
  order: one(orders, { fields: [creditEntries.orderId], references: [orders.id] }),
}));
export const slotsRelations = relations(slots, ({ many }) => ({
  pickups: many(orders, { relationName: 'pickup' }),
  deliveries: many(orders, { relationName: 'delivery' }),
}));

export type User = typeof users.$inferSelect;
export type Service = typeof services.$inferSelect;
export type AddOn = typeof addOns.$inferSelect;
