/**
 * The promo code and credit parts of the order's one write statement (src/modules/orders/create.ts).
 * Each counter is raised by a guarded UPDATE or upsert on one row: under READ COMMITTED a
 * concurrent statement waits for that row and re-checks the guard on its latest version, so the
 * guards hold exactly however many orders race (10 redemptions left and 50 orders: 10 redeem).
 * When a guard fails, the statement's last SELECT aborts it (`laundry_abort`): nothing is written.
 */
import { sql, type SQL } from 'drizzle-orm';
import { DomainError } from '../../domain/errors.js';
import type { OrderPlan } from './plan.js';

/**
 * CTEs (each followed by a comma) that run before the order insert: `promo` counts the
 * redemption (only while the code is active and under its total limit), `promo_use` counts it
 * for the customer (only under the per-customer limit), `credit` spends the credit (only while
 * the balance covers it; the column's CHECK backs this).
 */
export function redeem(userId: string, plan: OrderPlan, nowIso: string): SQL {
  const parts: SQL[] = [];
  if (plan.promo) {
    const id = plan.promo.id;
    parts.push(sql`promo AS (
        UPDATE promo_codes SET redemption_count = redemption_count + 1, updated_at = ${nowIso}::timestamptz
        WHERE id = ${id}::uuid AND EXISTS (SELECT 1 FROM idem) AND active
          AND (max_redemptions IS NULL OR redemption_count < max_redemptions)
        RETURNING id
      ),
      promo_use AS (
        INSERT INTO promo_customer_uses (promo_code_id, user_id, uses)
        SELECT ${id}::uuid, ${userId}::uuid, 1 WHERE EXISTS (SELECT 1 FROM idem)
        ON CONFLICT (promo_code_id, user_id) DO UPDATE SET uses = promo_customer_uses.uses + 1
          WHERE promo_customer_uses.uses < ${customerCap(plan.promo)}::int
        RETURNING 1
      ),`);
  }
  const credit = plan.estimate.creditApplied ?? 0;
  if (credit > 0) {
    parts.push(sql`credit AS (
        UPDATE users SET credit_balance = credit_balance - ${credit}::int
        WHERE id = ${userId}::uuid AND EXISTS (SELECT 1 FROM idem) AND credit_balance >= ${credit}::int
        RETURNING 1
      ),`);
  }
  return sql.join(parts, sql` `);
}

/** The credit ledger entry (a CTE after `ord`, led by a comma): the order's credit, spent. */
export function creditSpent(userId: string, plan: OrderPlan, nowIso: string): SQL {
  const credit = plan.estimate.creditApplied ?? 0;
  if (credit === 0) return sql``;
  return sql`, credit_entry AS (
        INSERT INTO credit_entries (user_id, amount, currency, reason, order_id, created_at)
        SELECT ${userId}::uuid, ${-credit}::int, ${plan.estimate.currency}, 'order_applied', ord.id, ${nowIso}::timestamptz FROM ord
      )`;
}

/**
 * How many live orders of one customer may hold the code: its per-customer limit, or 1 for a
 * first-order-only code (a customer has one first order). The snapshot check in
 * `redemptionRefusals` cannot see a first order committed by a concurrent statement; this cap is
 * checked on the (code, customer) row's latest version, so two first orders racing with the code
 * cannot both pass, whatever the per-customer limit says.
 */
function customerCap(promo: NonNullable<OrderPlan['promo']>): number {
  return promo.firstOrderOnly ? 1 : promo.perCustomerLimit;
}

/** WHEN clauses for the statement's last SELECT: each guard that failed aborts it with its reason. */
export function redemptionRefusals(userId: string, plan: OrderPlan): SQL {
  const parts: SQL[] = [];
  if (plan.promo) {
    parts.push(sql`WHEN NOT EXISTS (SELECT 1 FROM promo) THEN laundry_abort(CASE
        WHEN (SELECT active FROM promo_codes WHERE id = ${plan.promo.id}::uuid) THEN 'promo_code_exhausted' ELSE 'promo_code_inactive' END)
      WHEN NOT EXISTS (SELECT 1 FROM promo_use) THEN laundry_abort(${plan.promo.firstOrderOnly ? 'promo_code_first_order_only' : 'promo_code_already_used'})`);
    // "First order": the customer has no order that is not cancelled (read in the statement's
    // snapshot; a first order with this code committed meanwhile is caught by `customerCap`).
    if (plan.promo.firstOrderOnly) {
      parts.push(sql`WHEN EXISTS (SELECT 1 FROM orders o WHERE o.user_id = ${userId}::uuid AND o.status <> 'cancelled')
        THEN laundry_abort('promo_code_first_order_only')`);
    }
  }
  if ((plan.estimate.creditApplied ?? 0) > 0) parts.push(sql`WHEN NOT EXISTS (SELECT 1 FROM credit) THEN laundry_abort('credit_changed')`);
  return sql.join(parts, sql` `);
}

const REFUSALS = {
  promo_code_exhausted: 'has been used as many times as it allows',
  promo_code_inactive: 'is no longer offered',
  promo_code_already_used: 'has already been used on your account as many times as it allows',
  promo_code_first_order_only: 'is for a first order only',
} as const;

/** Throws the DomainError for an abort reason the promo guards gave; returns for any other reason. */
export function throwPromoRefusal(reason: string, plan: OrderPlan): void {
  if (!plan.promo || !Object.hasOwn(REFUSALS, reason)) return;
  const code = reason as keyof typeof REFUSALS;
  throw new DomainError(code, `The code ${plan.promo.code} ${REFUSALS[code]}.`, { promoCode: plan.promo.code });
}

/**
 * A CTE (led by a comma) for the weigh-in statement, after its `upd`: when the final price leaves
 * less to pay than the credit spent at creation, the rest goes back to the balance with an
 * `order_released` entry (the order's `credit_applied` is lowered to `used` by the same statement).
 */
export function creditUnusedAtWeighIn(order: { id: string; userId: string; currency: string; creditApplied: number }, used: number, nowIso: string): SQL {
  const unused = order.creditApplied - used;
  if (unused <= 0) return sql``;
  return sql`, credit_back AS (
        UPDATE users u SET credit_balance = credit_balance + ${unused}::int FROM upd WHERE u.id = ${order.userId}::uuid RETURNING u.id
      ),
      credit_entry AS (
        INSERT INTO credit_entries (user_id, amount, currency, reason, note, order_id, created_at)
        SELECT ${order.userId}::uuid, ${unused}::int, ${order.currency}, 'order_released', 'Not needed at the weigh-in', upd.id, ${nowIso}::timestamptz FROM upd
      )`;
}
