/**
 * A refund to account credit instead of the card (POST /v1/staff/orders/{id}/refunds with
 * `destination: "credit"`, issue 19): no Stripe call; one batch records it.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { parseRows, rowsOf } from '../../db/client.js';
import { fingerprintRequest } from '../../domain/idempotency.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { refundHoldsMoney } from './refund-events.js';
import type { RefundResult } from './refund.js';

/**
 * What is left to give back on an order, in minor units, as SQL (read after the order's row lock):
 * the card money captured, less what is refunded or reserved for a refund on each payment (as
 * refund.ts counts it), less what was already given back as credit (`refund_to_credit` entries
 * naming the order). Card refunds subtract the last term too, so the two destinations share one total.
 */
export function creditedToOrder(orderId: SQL): SQL {
  return sql`COALESCE((SELECT sum(ce.amount) FROM credit_entries ce WHERE ce.order_id = ${orderId} AND ce.reason = 'refund_to_credit'), 0)`;
}

function refundableSql(orderId: string): SQL {
  return sql`(COALESCE((SELECT sum(p.amount_captured - GREATEST(p.amount_refunded,
      COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id AND ${refundHoldsMoney(sql`r.status`)}), 0)))
    FROM payments p
    WHERE p.order_id = ${orderId}::uuid AND p.method = 'card' AND p.amount_captured > 0 AND p.stripe_payment_intent_id IS NOT NULL), 0)
    - ${creditedToOrder(sql`${orderId}::uuid`)})::int`;
}

const CreditedRow = z.object({
  found: z.number(),
  erased: z.number(),
  disputed: z.number(),
  claimed: z.number(),
  prior: z.object({ fingerprint: z.string(), response: z.unknown() }).nullable(),
});

/**
 * Gives `amount` of an order's captured card money back as the customer's account credit.
 *
 * One batch, under refund.ts's lock rule: the first statement locks the order (as a card refund
 * does), so the second, with its own snapshot once the lock is held, sees every earlier card
 * reservation and credit refund. It claims the admin's Idempotency-Key (idempotency_keys, 24 h,
 * like a credit grant) only when the amount is at most what is left to give back
 * (`refundableSql`), and only the call that claimed it raises the balance and writes the
 * `refund_to_credit` ledger entry (naming the order and the admin) and the timeline entry, which
 * tells the customer `refund_issued` with the amount, as a card refund's success does (the outbox
 * trigger of migration 0014 queues it in this statement; a replay writes nothing, so tells nothing). So a
 * card refund and a credit refund racing can never together exceed what was captured.
 *
 * Answers: the same key and body again, the first answer (`replayed`), nothing added; another
 * body with the key, 422 `idempotency_key_reused`; unknown order 404; more than is left 422
 * `refund_exceeds_captured`; the customer's account erased, 409 `conflict` (refund to the card);
 * the order flagged `disputed` (a chargeback: the bank gives the money back, and Stripe refuses a
 * card refund of a disputed charge, so credit would pay it twice), 409 `conflict`: nothing is
 * written on any refusal.
 */
export async function refundToCredit(
  deps: Deps,
  input: { orderId: string; amount: number; reason: string; actorUserId: string; key: string },
): Promise<{ result: RefundResult; replayed: boolean }> {
  const { orderId, amount, reason, actorUserId, key } = input;
  const fingerprint = await fingerprintRequest(
    { method: 'POST', path: `/v1/staff/orders/${orderId}/refunds`, body: { amount, reason, destination: 'credit' } },
    deps.sha256Hex,
  );
  const entryId = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  const result: RefundResult = { refundId: entryId, amount, status: 'succeeded', destination: 'credit' };
  const note = `Refunded ${amount} to account credit: ${reason}`;
  const [locked, rows] = await deps.database.batch((db) => [
    db.execute(sql`SELECT id FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`),
    db.execute(sql`
      WITH target AS (
        SELECT o.id, o.user_id FROM orders o JOIN users u ON u.id = o.user_id
        WHERE o.id = ${orderId}::uuid AND u.erased_at IS NULL AND NOT ('disputed' = ANY(o.flags))
      ),
      idem AS (
        INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, created_at)
        SELECT ${actorUserId}::uuid, ${key}, ${fingerprint}, 201, ${JSON.stringify(result)}::json, ${now}::timestamptz
        WHERE EXISTS (SELECT 1 FROM target) AND ${refundableSql(orderId)} >= ${amount}::int
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING 1
      ),
      bal AS (
        UPDATE users SET credit_balance = credit_balance + ${amount}::int
        WHERE id = (SELECT user_id FROM target) AND EXISTS (SELECT 1 FROM idem)
        RETURNING id
      ),
      entry AS (
        INSERT INTO credit_entries (id, user_id, amount, currency, reason, note, order_id, actor_user_id, created_at)
        SELECT ${entryId}::uuid, bal.id, ${amount}::int, ${deps.config.currency}, 'refund_to_credit', ${reason}, ${orderId}::uuid, ${actorUserId}::uuid, ${now}::timestamptz
        FROM bal
      ),
      ev AS (
        INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence, notify)
        SELECT ${orderId}::uuid, ${now}::timestamptz, 'admin', ${actorUserId}::uuid, 'payment', ${note},
               ${JSON.stringify({ creditEntry: entryId, amount, destination: 'credit' })}::jsonb, 'refund_issued'::notification_type
        FROM bal
      )
      SELECT (SELECT count(*) FROM orders WHERE id = ${orderId}::uuid)::int AS found,
             (SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = ${orderId}::uuid AND u.erased_at IS NOT NULL)::int AS erased,
             (SELECT count(*) FROM orders o WHERE o.id = ${orderId}::uuid AND 'disputed' = ANY(o.flags))::int AS disputed,
             (SELECT count(*) FROM idem)::int AS claimed,
             (SELECT json_build_object('fingerprint', k.fingerprint, 'response', k.response) FROM idempotency_keys k
               WHERE k.user_id = ${actorUserId}::uuid AND k.key = ${key}) AS prior`),
  ]);
  const [row] = parseRows(CreditedRow, rows);
  if (row!.claimed === 1) return { result, replayed: false };
  if (row!.prior) {
    if (row!.prior.fingerprint !== fingerprint) {
      throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was used for a different request. Use a new key for a new refund.');
    }
    return { result: row!.prior.response as RefundResult, replayed: true };
  }
  if (rowsOf(locked).length === 0 || row!.found === 0) throw new ApiError('not_found', 'No such order.');
  if (row!.erased === 1) throw new ApiError('conflict', 'The customer’s account was erased: there is no balance to credit; refund to the card.');
  if (row!.disputed === 1) {
    throw new ApiError('conflict', 'The card payment on this order is disputed: the chargeback gives the money back through the bank, so it is not refunded again (Stripe refuses a card refund of a disputed charge too). Settle the dispute first.');
  }
  throw new ApiError('refund_exceeds_captured', 'The refund is larger than what is left to refund of the money captured on this order (card refunds and credit refunds count together).');
}
