/**
 * Promo codes and account credit (issue 19). Every count and balance here is changed only
 * inside the statement that also writes the order (src/modules/orders/create.ts), the cancel
 * (src/modules/orders/transition.ts) or the admin grant (src/modules/credit/grant.ts), each ONE
 * statement, so they are exact under concurrency:
 * - `promo_codes.redemption_count` is raised by an UPDATE guarded by `max_redemptions`
 *   (READ COMMITTED re-checks the guard on the row's latest version), and a CHECK backs it;
 * - `promo_customer_uses.uses` per (code, customer) likewise, by an upsert guarded by the limit;
 * - `users.credit_balance` by guarded UPDATEs, with a CHECK (>= 0); every change of it writes one
 *   `credit_entries` row in the same statement, so the ledger sums to the balance.
 */
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orders } from './schema-orders.js';
import { timestamps, users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const promoKind = pgEnum('promo_kind', ['percent', 'amount']);

export const promoCodes = pgTable(
  'promo_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Normalised: trimmed, upper case, [A-Z0-9-]{3,32} (src/domain/promo.ts normalizePromoCode). */
    code: text('code').notNull(),
    kind: promoKind('kind').notNull(),
    /** `percent`: basis points 1..10000 of the subtotal. `amount`: minor units of `currency`. */
    value: integer('value').notNull(),
    /** `amount` codes only: the currency of `value` (the shop's). Null for `percent`. */
    currency: text('currency'),
    /** Minor units: the order subtotal (lines, before fees) must be at least this. */
    minimumSubtotal: integer('minimum_subtotal'),
    validFrom: ts('valid_from'),
    validUntil: ts('valid_until'),
    /** Null = unlimited. */
    maxRedemptions: integer('max_redemptions'),
    perCustomerLimit: integer('per_customer_limit').notNull().default(1),
    firstOrderOnly: boolean('first_order_only').notNull().default(false),
    active: boolean('active').notNull().default(true),
    /** Redemptions held by orders that are not cancelled. */
    redemptionCount: integer('redemption_count').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('promo_codes_code_key').on(t.code),
    check('promo_codes_redemptions_within_limit', sql`${t.redemptionCount} >= 0 AND (${t.maxRedemptions} IS NULL OR ${t.redemptionCount} <= ${t.maxRedemptions})`),
    check('promo_codes_value_valid', sql`(${t.kind} = 'percent' AND ${t.value} BETWEEN 1 AND 10000 AND ${t.currency} IS NULL) OR (${t.kind} = 'amount' AND ${t.value} >= 1 AND ${t.currency} IS NOT NULL)`),
  ],
);

/** How many live (not cancelled) orders of a customer hold a code; guarded by `per_customer_limit`. */
export const promoCustomerUses = pgTable(
  'promo_customer_uses',
  {
    promoCodeId: uuid('promo_code_id')
      .notNull()
      .references(() => promoCodes.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    uses: integer('uses').notNull(),
  },
  (t) => [primaryKey({ columns: [t.promoCodeId, t.userId] }), check('promo_customer_uses_nonneg', sql`${t.uses} >= 0`)],
);

export const CREDIT_REASONS = ['goodwill', 'refund_to_credit', 'promo_reward', 'order_applied', 'order_released'] as const;
export type CreditReason = (typeof CREDIT_REASONS)[number];
export const creditReason = pgEnum('credit_reason', CREDIT_REASONS);

/** The credit ledger: append-only; `users.credit_balance` is its sum per user. */
export const creditEntries = pgTable(
  'credit_entries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Signed minor units: + credit given, - credit spent. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    reason: creditReason('reason').notNull(),
    note: text('note'),
    /** The admin who granted it; null for entries the order flow writes. */
    actorUserId: uuid('actor_user_id').references(() => users.id, { onDelete: 'set null' }),
    orderId: uuid('order_id').references(() => orders.id),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('credit_entries_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    // Every read of an order's balance sums its refunds to credit (src/modules/orders/shared.ts
    // orderQuery, the order_balances view, refund-credit.ts): by order, without scanning the ledger.
    index('credit_entries_order_idx').on(t.orderId).where(sql`${t.orderId} IS NOT NULL`),
    check('credit_entries_amount_nonzero', sql`${t.amount} <> 0`),
  ],
);
