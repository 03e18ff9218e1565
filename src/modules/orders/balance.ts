/**
 * The `payment_outstanding` flag, kept true to the order's balance (the `order_balances` view,
 * twin of src/domain/balance.ts): raised on a weighed card order that is not cancelled and has
 * something outstanding (a lost hold, a declined or unapproved overage), cleared once nothing
 * is (collected, or waived by an admin). A card order with the flag cannot go out for delivery.
 */
import { sql, type SQL } from 'drizzle-orm';
import { clearFlag, hasFlag, raiseFlag } from './shared.js';

/**
 * One statement that brings the flag in line with the balance for one order (or, with `null`,
 * every order: the payments job's sweep), with a timeline entry for each change naming the
 * amount. Raising it tells the customer (`notify` = payment_action_required: the outbox trigger of
 * migration 0014 writes the notification in this same statement), unless the order awaits their
 * overage approval, which told them already (src/modules/payments/capture.ts). Run it AFTER the statement that changed the money (the next statement of the same
 * batch, or the next call): a statement's CTEs do not see each other's writes.
 */
export function syncOutstandingFlag(orderId: string | null, now: string, onlyClear = false): SQL {
  // onlyClear: for a step in the middle of a workflow (a capture before its overage charge), which
  // may settle what was owed but must not flag an order the workflow is about to settle.
  const scope = orderId === null ? sql`true` : sql`o.id = ${orderId}::uuid`;
  const clearing = onlyClear ? sql` AND ${hasFlag('payment_outstanding')}` : sql``;
  return sql`
    WITH target AS (
      SELECT o.id, b.outstanding, o.currency, o.overage_approval_required AS awaiting_approval,
             (o.payment_method = 'card' AND o.final_total IS NOT NULL AND o.status <> 'cancelled' AND b.outstanding > 0) AS owed
      FROM orders o JOIN order_balances b ON b.order_id = o.id
      WHERE ${scope}${clearing} AND ((o.payment_method = 'card' AND o.final_total IS NOT NULL AND o.status <> 'cancelled' AND b.outstanding > 0)
                          <> ${hasFlag('payment_outstanding')})
    ),
    raised AS (
      UPDATE orders SET ${raiseFlag('payment_outstanding')}, updated_at = ${now}::timestamptz
      FROM target t WHERE orders.id = t.id AND t.owed RETURNING orders.id
    ),
    cleared AS (
      UPDATE orders SET ${clearFlag('payment_outstanding')}, updated_at = ${now}::timestamptz
      FROM target t WHERE orders.id = t.id AND NOT t.owed RETURNING orders.id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note, evidence, notify)
    SELECT t.id, ${now}::timestamptz, 'system', 'payment',
           CASE WHEN t.owed THEN 'Payment outstanding: ' || t.outstanding || ' ' || t.currency || ' to collect before delivery'
                ELSE 'Nothing outstanding any more' END,
           jsonb_build_object('outstanding', t.outstanding),
           CASE WHEN t.owed AND NOT t.awaiting_approval THEN 'payment_action_required'::notification_type END
    FROM target t
    RETURNING order_id`;
}
