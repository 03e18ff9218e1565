import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { parseRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { currencyRules, SUPPORTED_CURRENCIES } from '../../domain/currency.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { cancelOpenBalanceCharges } from '../payments/cancel-open-balance.js';
import type { OrderDto } from '../orders/schemas.js';
import { orderDtoOf, orderQuery } from '../orders/shared.js';

export interface WaiveBalanceCommand {
  orderId: string;
  /** The admin who decides; named on the timeline and in `balance_waivers.actor_user_id`. */
  adminId: string;
  reason: string;
  /** Minor units; default the whole outstanding amount. */
  amount?: number | undefined;
}

const WaiverRow = z.object({
  outstanding: z.number(),
  currency: z.string(),
  step: z.number(),
  weighed: z.boolean(),
  waived: z.number().nullable(),
  busy: z.boolean(),
});

/**
 * An admin waives what is outstanding on an order (POST /v1/staff/orders/{id}/waive-balance),
 * all of it or `amount` of it, with a reason: the shop's decision not to collect, on record.
 *
 * First, with Stripe configured, the balance charges that could still take money are stopped
 * (../payments/cancel-open-balance.ts: one read, a cancel at Stripe per open PaymentSheet intent).
 * Then ONE batch (one round trip): lock the order; mark those intents' rows cancelled; insert the `balance_waivers` row only if the
 * amount is at most what `order_balances` says is outstanding, read inside that statement after
 * the lock, so two racing waivers queue on the lock and the second sees the first's row (never
 * more waived than was outstanding); the timeline entry names the admin by id (`actor`, and
 * `balance_waivers.actor_user_id`), never by e-mail: the customer reads the timeline, so the note
 * says only "an admin" and the reason; then syncOutstandingFlag clears `payment_outstanding` if nothing is left; then the
 * order is read back. Errors (nothing written):
 * - 409 `nothing_outstanding`: nothing to waive (paid, waived already, cancelled, or not weighed:
 *   before the weigh-in the card hold covers the estimate), `details.outstanding`, `currency`;
 * - 422 `waiver_exceeds_outstanding`: `amount` is more than is outstanding (`details`);
 * - 409 `payment_in_progress` (Retry-After 60): a payment towards the balance is processing, was
 *   just made, or started after the cancels.
 * Returns the order as staff see it, with its owner.
 */
/**
 * SQL: the Stripe amount step of the currency in `code` (10 in three-decimal currencies, 100 in
 * ISK, else 1): what is left after a partial waiver must still be an amount Stripe can charge,
 * else the PaymentSheet (and an off-session charge) for it would be refused for ever.
 */
function stepOf(code: SQL): SQL {
  const steps = SUPPORTED_CURRENCIES.map((c) => [c, currencyRules(c)?.step ?? 1] as const).filter(([, step]) => step > 1);
  return sql`(CASE upper(${code}) ${sql.join(steps.map(([c, step]) => sql`WHEN ${c} THEN ${step}::int`), sql` `)} ELSE 1 END)`;
}

export async function waiveBalance(deps: Deps, cmd: WaiveBalanceCommand): Promise<OrderDto & { userId: string }> {
  // A PaymentSheet the customer still holds for this balance must not take it after the waiver.
  const cancelled = await cancelOpenBalanceCharges(deps, cmd.orderId);
  const now = deps.clock.now().toISOString();
  const amount = cmd.amount ?? null;
  const ids = cancelled.length ? sql.join(cancelled.map((id) => sql`${id}::uuid`), sql`, `) : sql`NULL::uuid`;
  const [, , inserted, , row] = await deps.database.batch((db) => [
    db.execute(sql`SELECT id FROM orders WHERE id = ${cmd.orderId}::uuid FOR UPDATE`),
    db.execute(sql`UPDATE payments SET status = 'canceled', updated_at = ${now}::timestamptz
                   WHERE id IN (${ids}) AND status::text NOT IN ('succeeded', 'canceled')`),
    db.execute(sql`
      WITH b AS (
        SELECT o.id, o.currency, ${stepOf(sql`o.currency`)} AS step, o.final_total IS NOT NULL AS weighed,
               CASE WHEN o.final_total IS NULL THEN 0 ELSE bal.outstanding END AS outstanding
        FROM orders o JOIN order_balances bal ON bal.order_id = o.id
        WHERE o.id = ${cmd.orderId}::uuid
      ),
      -- A balance charge that started after the cancels above (the customer opened a new sheet):
      -- refused, the admin tries again.
      busy AS (
        SELECT 1 FROM payments p WHERE p.order_id = ${cmd.orderId}::uuid AND p.kind = 'balance'
          AND p.status::text IN ('requires_payment_method', 'requires_confirmation', 'requires_action', 'processing')
      ),
      w AS (
        INSERT INTO balance_waivers (id, order_id, amount, reason, actor_user_id, created_at)
        SELECT ${crypto.randomUUID()}::uuid, b.id, COALESCE(${amount}::int, b.outstanding), ${cmd.reason}, ${cmd.adminId}::uuid, ${now}::timestamptz
        FROM b WHERE b.outstanding > 0 AND COALESCE(${amount}::int, b.outstanding) <= b.outstanding AND NOT EXISTS (SELECT 1 FROM busy)
          AND (b.outstanding - COALESCE(${amount}::int, b.outstanding)) % b.step = 0
        RETURNING id, amount
      ),
      ev AS (
        INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence)
        SELECT b.id, ${now}::timestamptz, 'admin', ${cmd.adminId}::uuid, 'payment',
               'Balance of ' || w.amount || ' ' || b.currency || ' waived by an admin: ' || ${cmd.reason},
               jsonb_build_object('waived', w.amount, 'reason', ${cmd.reason}::text, 'waiverId', w.id,
                                  'adminId', ${cmd.adminId}::text, 'outstandingBefore', b.outstanding)
        FROM b, w
      )
      SELECT b.outstanding, b.currency, b.step, b.weighed, (SELECT amount FROM w) AS waived, EXISTS (SELECT 1 FROM busy) AS busy FROM b`),
    db.execute(syncOutstandingFlag(cmd.orderId, now)),
    orderQuery(db, cmd.orderId),
  ]);
  const [result] = parseRows(WaiverRow, inserted);
  const order = orderDtoOf(row);
  if (!result || !order) throw new ApiError('not_found', 'No such order.');
  if (result.waived !== null) return order;
  const details = { outstanding: result.outstanding, currency: result.currency };
  if (result.busy && result.outstanding > 0) {
    throw new ApiError('payment_in_progress', 'The customer has just started paying this balance; waive once that payment has settled.', { details, retryAfterSeconds: 60 });
  }
  if (result.outstanding === 0) {
    const why = result.weighed ? 'nothing is outstanding on this order' : 'the order is not weighed yet: its card hold covers the estimate';
    throw new ApiError('nothing_outstanding', `Nothing to waive: ${why}.`, { details });
  }
  if (amount !== null && amount <= result.outstanding) {
    throw new ApiError('validation_failed', `What is left after the waiver must be a multiple of ${result.step} in ${result.currency} (Stripe could not charge it).`, {
      errors: [{ field: 'body.amount', message: `Waive all ${result.outstanding}, or leave a multiple of ${result.step}` }],
      details: { ...details, amount, step: result.step },
    });
  }
  throw new ApiError('waiver_exceeds_outstanding', `Only ${result.outstanding} ${result.currency} is outstanding; waive at most that.`, {
    details: { ...details, amount },
  });
}
