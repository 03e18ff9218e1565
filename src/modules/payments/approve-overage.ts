import { z } from 'zod';
import { sql } from 'drizzle-orm';
import { AnyRow } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { settleOverage, type CaptureOutcome } from './capture.js';
import { readPaymentState, requirePayments } from './shared.js';

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
  const rows = await deps.database.rows(OverageRequiredRow, sql`
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
    SELECT o.overage_approval_required AS required FROM o`);
  if (!rows[0]) throw new ApiError('not_found', 'No such order.');
  const { order, hold, overage, covered } = await readPaymentState(deps, orderId);
  if (!rows[0].required || overage || hold?.status !== 'succeeded' || order.finalTotal === null) {
    throw new ApiError('overage_not_pending', 'There is no extra charge waiting for approval on this order.');
  }
  try {
    const settled = await settleOverage(deps, order, hold, hold.amountCaptured, undefined, true, covered);
    return { kind: 'captured', captured: hold.amountCaptured, overage: settled };
  } finally {
    // Charged, declined or failed: the flag follows the balance (cleared once the overage is paid).
    // A failure here must not hide the charge's own answer: the payments job's sweep syncs it later.
    await deps.database
      .rows(AnyRow, syncOutstandingFlag(orderId, deps.clock.now().toISOString()))
      .catch((error: unknown) => deps.logger.error('syncing payment_outstanding after approve-overage failed', { error, orderId }));
  }
}

