import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  date,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps, users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A service area: the postcodes it covers, its local time zone and its delivery pricing. */
export const zones = pgTable(
  'zones',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /** Normalised (upper-case, no spaces); the longest matching prefix wins. */
    postcodePrefixes: text('postcode_prefixes').array().notNull(),
    /** IANA zone for wall-clock windows ("18:00–20:00") and closed dates. */
    timeZone: text('time_zone').notNull(),
    active: boolean('active').notNull().default(true),
    /** Minor units. */
    deliveryFee: integer('delivery_fee').notNull().default(0),
    minimumOrder: integer('minimum_order').notNull().default(0),
    freeDeliveryFrom: integer('free_delivery_from'),
    /** Minor units: charged when staff mark a pickup missed (src/modules/fulfilment/missed-pickup.ts); 0 charges nothing. */
    missedPickupFee: integer('missed_pickup_fee').notNull().default(0),
    /**
     * A zone for release probes only: matched for synthetic users and no one else, so probe
     * orders never take real capacity and real customers never see the zone.
     */
    synthetic: boolean('synthetic').notNull().default(false),
    ...timestamps,
  },
  (t) => [
    check('zones_fees_nonneg', sql`${t.deliveryFee} >= 0 AND ${t.minimumOrder} >= 0 AND (${t.freeDeliveryFrom} IS NULL OR ${t.freeDeliveryFrom} >= 0)`),
    check('zones_missed_pickup_fee_nonneg', sql`${t.missedPickupFee} >= 0`),
  ],
);

export const slotKind = pgEnum('slot_kind', ['pickup', 'delivery']);

export const slots = pgTable(
  'slots',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    zoneId: uuid('zone_id')
      .notNull()
      .references(() => zones.id, { onDelete: 'cascade' }),
    kind: slotKind('kind').notNull(),
    startsAt: ts('starts_at').notNull(),
    endsAt: ts('ends_at').notNull(),
    capacity: integer('capacity').notNull(),
    /** Units booked. The check constraint is what makes overselling impossible. */
    reserved: integer('reserved').notNull().default(0),
    /** Booking closes this many minutes before the window starts. */
    cutoffMinutes: integer('cutoff_minutes').notNull().default(120),
    closed: boolean('closed').notNull().default(false),
    ...timestamps,
  },
  (t) => [
    check('slots_capacity', sql`${t.reserved} >= 0 AND ${t.reserved} <= ${t.capacity}`),
    check('slots_window', sql`${t.endsAt} > ${t.startsAt}`),
    check('slots_cutoff_nonneg', sql`${t.cutoffMinutes} >= 0`),
    uniqueIndex('slots_zone_kind_start_key').on(t.zoneId, t.kind, t.startsAt),
    /**
     * The staff queue for a date (src/modules/fulfilment/queue.ts) finds that date's slots of
     * every zone by a range on it: a few days of slots however long the history (migration 0013).
     */
    index('slots_starts_idx').on(t.startsAt),
  ],
);

/** Days a zone does no pickups or deliveries (local dates). */
export const zoneClosures = pgTable(
  'zone_closures',
  {
    zoneId: uuid('zone_id')
      .notNull()
      .references(() => zones.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    reason: text('reason'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.zoneId, t.date] })],
);

export const addresses = pgTable(
  'addresses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    label: text('label'),
    line1: text('line1').notNull(),
    line2: text('line2'),
    city: text('city').notNull(),
    /** Normalised: upper-case, no spaces. */
    postcode: text('postcode').notNull(),
    instructions: text('instructions'),
    ...timestamps,
  },
  (t) => [index('addresses_user_idx').on(t.userId, t.createdAt)],
);
