import { z } from 'zod';
import { sql, type SQL } from 'drizzle-orm';
import { batchThen, parseRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { settleOverage, type CaptureOutcome } from './capture.js';
import { PriorAttempt, priorAttemptSql } from './attempts.js';
import { paymentStateOf, paymentStateQueries, requirePayments } from './shared.js';

const OverageRequiredRow = z.object({ required: z.boolean() });

/**
 * The customer approves a large overage; it is charged at once. Approving again after a
 * Stripe failure left it uncharged retries the charge (looked up at Stripe first, then sent with a
 * new attempt key if Stripe has none: ./attempts.ts); once it is charged or declined there is
 * nothing pending: 409 overage_not_pending. Whatever the charge did, one more statement then
 * brings `payment_outstanding` in line with the balance (src/modules/orders/balance.ts).
 */
export async function approveOverage(deps: Deps, userId: string, orderId: string): Promise<CaptureOutcome> {
  requirePayments(deps);
  const now = deps.clock.now().toISOString();
  const approve = sql`
    WITH o AS (
      SELECT id, overage_approval_required, overage_approved_at FROM orders
      WHERE id = ${orderId}::uuid AND user_id = ${userId}::uuid FOR UPDATE
    ),
    ok AS (
      UPDATE orders SET overage_approved_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      FROM o WHERE orders.id = o.id AND o.overage_approval_required AND o.overage_approved_at IS NULL
      RETURNING orders.id
    ), ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note)
      SELECT id, ${now}::timestamptz, 'customer', ${userId}::uuid, 'payment', 'Customer approved the extra charge' FROM ok
    )
    SELECT o.overage_approval_required AS required FROM o`;
  // After the approval, in the same batch: the payment state and, when the overage is now due
  // (approved, hold captured, no overage row yet), its attempt recorded before it is sent.
  const due = sql`SELECT ${orderId}::text FROM orders o JOIN payments h ON h.order_id = o.id AND h.kind = 'hold' AND h.status = 'succeeded'
                  WHERE o.id = ${orderId}::uuid AND o.overage_approval_required AND o.overage_approved_at IS NOT NULL
                    AND o.final_total > h.amount_captured
                    AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.kind = 'overage')`;
  const [approved, orderRows, paymentRows, waiverRows, prior] = await deps.database.batch((db) => [
    db.execute(approve),
    ...paymentStateQueries(db, orderId),
    db.execute(priorAttemptSql(orderId, 'overage', due, deps.clock.now())),
  ]);
  const rows = parseRows(OverageRequiredRow, approved);

  if (!rows[0]) throw new ApiError('not_found', 'No such order.');
  const { order, hold, overage, covered } = paymentStateOf(orderRows, paymentRows, waiverRows);
  if (!rows[0].required || overage || hold?.status !== 'succeeded' || order.finalTotal === null) {
    throw new ApiError('overage_not_pending', 'There is no extra charge waiting for approval on this order.');
  }
  const deferred: SQL[] = [];
  try {
    const settled = await settleOverage(deps, order, hold, hold.amountCaptured, undefined, true, covered, deferred, parseRows(PriorAttempt, prior)[0]);
    return { kind: 'captured', captured: hold.amountCaptured, overage: settled };
  } finally {
    // Charged, declined or failed: the overage row and the flag following the balance (cleared
    // once the overage is paid), one batch. A failed flag sync alone must not hide the charge's
    // own answer (the payments job's sweep syncs it later); a lost overage row is an error (its
    // webhook adopts it: ./adopt.ts).
    const now = deps.clock.now().toISOString();
    await batchThen(deps.database, deferred, (db) => db.execute(syncOutstandingFlag(orderId, now)))
      .catch((error: unknown) => {
        deps.logger.error('recording the overage or syncing payment_outstanding after approve-overage failed', { error, orderId });
        if (deferred.length > 0) throw error;
      });
  }
}
