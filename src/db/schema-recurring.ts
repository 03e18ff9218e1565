/**
 * Recurring pickups (issue 19; src/modules/recurring). A schedule is the customer's standing
 * order; the scheduled job turns each of its local dates into one order through the same
 * creation path as the app (src/modules/orders/create.ts).
 *
 * Exactly once per (schedule, local date): the job first claims the date with an INSERT into
 * `recurring_occurrences` whose primary key is (schedule_id, date); a second or concurrent run
 * gets no row back and creates nothing. The order's Idempotency-Key is derived from the same
 * pair, so a run that died between its claim and its order retries into a replay, not a second
 * order.
 */
import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orders, paymentMethod } from './schema-orders.js';
import { addresses } from './schema-scheduling.js';
import { timestamps, users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const recurringPickups = pgTable(
  'recurring_pickups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** `weekly` | `biweekly` (src/domain/recurrence.ts). */
    cadence: text('cadence').notNull(),
    /** The first occurrence, a local date in the zone; its weekday is the schedule's. */
    anchorDate: date('anchor_date', { mode: 'string' }).notNull(),
    /** Local 'HH:MM' the preferred pickup window starts at. */
    pickupStart: text('pickup_start').notNull(),
    /** The delivery is this many local days after the pickup, in the window starting at delivery_start. */
    deliveryDaysAfter: integer('delivery_days_after').notNull(),
    deliveryStart: text('delivery_start').notNull(),
    /** The caller's address; removing the address removes the schedule. */
    addressId: uuid('address_id')
      .notNull()
      .references(() => addresses.id, { onDelete: 'cascade' }),
    /** The order lines, exactly as POST /v1/orders takes them (`items`). */
    items: jsonb('items').notNull(),
    express: boolean('express').notNull().default(false),
    paymentMethod: paymentMethod('payment_method').notNull(),
    notes: text('notes'),
    /** `active` | `paused`. */
    status: text('status').notNull().default('active'),
    /** Local dates with no occurrence. */
    skippedDates: date('skipped_dates', { mode: 'string' }).array().notNull().default(sql`'{}'::date[]`),
    ...timestamps,
  },
  (t) => [
    index('recurring_pickups_user_idx').on(t.userId, t.createdAt),
    index('recurring_pickups_active_idx').on(t.status),
    check('recurring_pickups_cadence', sql`${t.cadence} IN ('weekly', 'biweekly')`),
    check('recurring_pickups_status', sql`${t.status} IN ('active', 'paused')`),
    check('recurring_pickups_delivery_days', sql`${t.deliveryDaysAfter} BETWEEN 0 AND 14`),
  ],
);

export const recurringOccurrences = pgTable(
  'recurring_occurrences',
  {
    scheduleId: uuid('schedule_id')
      .notNull()
      .references(() => recurringPickups.id, { onDelete: 'cascade' }),
    /** The local pickup date. */
    date: date('date', { mode: 'string' }).notNull(),
    /** `creating` (claimed) | `created` | `needs_attention` (no order: see reason) | `skipped` (POST …/skip). */
    status: text('status').notNull(),
    orderId: uuid('order_id').references(() => orders.id, { onDelete: 'set null' }),
    /** Why there is no order: an error code (`slot_unavailable`, `postcode_not_served`, …). */
    reason: text('reason'),
    /** When this run claimed the date: a claim left `creating` for long was a run that died. */
    claimedAt: ts('claimed_at').notNull(),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.scheduleId, t.date] }),
    check('recurring_occurrences_status', sql`${t.status} IN ('creating', 'created', 'needs_attention', 'skipped')`),
  ],
);
