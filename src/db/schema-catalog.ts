import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from './schema-users.js';

export const pricingModel = pgEnum('pricing_model', ['per_kg', 'per_item']);
export type PricingModel = (typeof pricingModel.enumValues)[number];

export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    pricingModel: pricingModel('pricing_model').notNull(),
    /** Minor units per kilogram (per_kg) or per item (per_item). */
    unitPrice: integer('unit_price').notNull(),
    currency: text('currency').notNull(),
    turnaroundHours: integer('turnaround_hours').notNull(),
    /** Express surcharge in basis points of the line total (5000 = +50%); null = no express. */
    expressSurchargeBps: integer('express_surcharge_bps'),
    expressTurnaroundHours: integer('express_turnaround_hours'),
    active: boolean('active').notNull().default(true),
    sortOrder: integer('sort_order').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('services_slug_key').on(t.slug),
    check('services_unit_price_nonneg', sql`${t.unitPrice} >= 0`),
    check('services_currency_iso', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check('services_turnaround_pos', sql`${t.turnaroundHours} > 0`),
    check(
      'services_express_consistent',
      sql`(${t.expressSurchargeBps} IS NULL) = (${t.expressTurnaroundHours} IS NULL)`,
    ),
    check(
      'services_express_valid',
      sql`${t.expressSurchargeBps} IS NULL OR (${t.expressSurchargeBps} >= 0 AND ${t.expressTurnaroundHours} > 0 AND ${t.expressTurnaroundHours} < ${t.turnaroundHours})`,
    ),
  ],
);

export const addOns = pgTable(
  'add_ons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    /** Flat price per order line, in minor units of the service's currency. */
    price: integer('price').notNull(),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('add_ons_service_slug_key').on(t.serviceId, t.slug),
    check('add_ons_price_nonneg', sql`${t.price} >= 0`),
  ],
);
