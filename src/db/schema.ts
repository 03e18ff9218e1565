import { relations, sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/*
 * Schema rules:
 * - money is integer minor units (`*_price`, `*_amount`), never numeric or float;
 * - every time is `timestamptz`;
 * - migrations are expand/contract: a Worker that was rolled back must still run
 *   against the schema that is live, so columns are added nullable or with defaults.
 */

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const userRole = pgEnum('user_role', ['customer', 'staff', 'admin']);
export type UserRole = (typeof userRole.enumValues)[number];

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Stored trimmed and lower-cased; the unique index is on this value. */
    email: text('email').notNull(),
    /** PHC string: algorithm, parameters, salt and hash. */
    passwordHash: text('password_hash').notNull(),
    role: userRole('role').notNull().default('customer'),
    name: text('name'),
    ...timestamps,
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Every token descended from one login shares a family; reuse revokes the family. */
    familyId: uuid('family_id').notNull(),
    /** SHA-256 of the opaque token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    /** rotated | reuse_detected | logout | failed_login */
    revokedReason: text('revoked_reason'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_token_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
  ],
);

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

export const servicesRelations = relations(services, ({ many }) => ({ addOns: many(addOns) }));
export const addOnsRelations = relations(addOns, ({ one }) => ({
  service: one(services, { fields: [addOns.serviceId], references: [services.id] }),
}));

export type User = typeof users.$inferSelect;
export type Service = typeof services.$inferSelect;
export type AddOn = typeof addOns.$inferSelect;
