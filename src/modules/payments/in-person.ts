import { z } from 'zod';
import { sql } from 'drizzle-orm';
import { parseRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { clearFlag, hasFlag } from '../orders/shared.js';

const InPersonRow = z.object({ ok: z.number(), applicable: z.boolean(), due: z.number(), currency: z.string() });

/**
 * Pay on delivery: staff record the money taken at the door, once, and only the amount due
 * (the final total once weighed): anything else is a 422 naming what is due, so a typo never
 * settles an order short or claims more than the customer owes. Two racing requests are
 * serialised by locking the order first (one batch): the insert's own snapshot, taken once
 * the lock is held, sees a payment the other request recorded.
 */
export async function recordInPersonPayment(
  deps: Deps,
  input: { orderId: string; method: 'cash' | 'card_present'; amount: number; actorUserId: string; actorRole: 'staff' | 'admin' },
): Promise<void> {
  const now = deps.clock.now().toISOString();
  const [, result] = await deps.database.batch((db) => [
    db.execute(sql`SELECT id FROM orders WHERE id = ${input.orderId}::uuid FOR UPDATE`),
    db.execute(sql`
    WITH o AS (
      SELECT id, currency, COALESCE(final_total, estimated_total) AS due,
             payment_method = 'on_delivery' AND status IN ('out_for_delivery', 'delivered')
               AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.id AND p.kind = 'in_person' AND p.status = 'succeeded') AS applicable
      FROM orders WHERE id = ${input.orderId}::uuid
    ),
    ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, currency, amount, amount_captured, created_at, updated_at)
      SELECT ${crypto.randomUUID()}::uuid, id, 'in_person', ${input.method}::payment_method_kind, 'succeeded', currency,
             ${input.amount}::int, ${input.amount}::int, ${now}::timestamptz, ${now}::timestamptz
      FROM o
      WHERE applicable AND due = ${input.amount}::int
      RETURNING order_id
    ),
    unflag AS (
      UPDATE orders SET ${clearFlag('unpaid_on_delivery')}, updated_at = ${now}::timestamptz
      WHERE id IN (SELECT order_id FROM ins) AND ${hasFlag('unpaid_on_delivery')}
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, ${input.actorRole}::actor_role, ${input.actorUserId}::uuid, 'payment',
             ${`Paid at the door (${input.method === 'cash' ? 'cash' : 'card'})`}, ${JSON.stringify({ method: input.method, amount: input.amount })}::jsonb
      FROM ins
    )
    SELECT (SELECT count(*) FROM ins)::int AS ok, o.applicable, o.due, o.currency FROM o`),
  ]);
  const [row] = parseRows(InPersonRow, result);
  if (!row) throw new ApiError('not_found', 'No such order.');
  if (row.ok === 1) return;
  if (!row.applicable) {
    throw new ApiError(
      'payment_not_applicable',
      'Only a pay-on-delivery order that is out for delivery or delivered, and not yet paid, can take a payment at the door.',
    );
  }
  throw new ApiError('payment_amount_mismatch', `The amount due is ${row.due} (${row.currency} minor units); record exactly that amount.`, {
    details: { due: row.due, amount: input.amount, currency: row.currency },
  });
}
