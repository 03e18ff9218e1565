import { sql } from 'drizzle-orm';
import { DomainError } from '../../domain/errors.js';
import {
  ORDER_STATUSES,
  planTransition,
  type ActorRole,
  type OrderStatus,
  type PlannedTransition,
  type TransitionEvidence,
} from '../../domain/order-status.js';
import { rowsOf } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { OrderDto } from './schemas.js';
import { orderDtoOf, orderQuery } from './shared.js';

export interface TransitionCommand {
  orderId: string;
  /** A customer acting on their own order: anyone else's id reads as missing (404). */
  ownerId?: string;
  to: OrderStatus;
  actor: { role: ActorRole; userId: string | null };
  evidence?: TransitionEvidence;
  /** Runs on the current order when the move did not happen, before the state machine explains why. */
  refuse?: (current: OrderDto) => void;
}

/** Capacity a cancelled order (or a missed pickup, before which nothing was used) gives back: a window it has not used yet. */
function releases(from: OrderStatus, to: OrderStatus) {
  if (to === 'pickup_missed') return { pickup: true, delivery: true };
  if (to !== 'cancelled') return { pickup: false, delivery: false };
  return {
    pickup: from === 'pending_payment' || from === 'confirmed',
    delivery: from !== 'out_for_delivery' && from !== 'delivered',
  };
}

function plans(cmd: TransitionCommand): PlannedTransition[] {
  const out: PlannedTransition[] = [];
  for (const from of ORDER_STATUSES) {
    try {
      out.push(planTransition({ from, to: cmd.to, actor: cmd.actor.role, evidence: cmd.evidence, weighed: true }));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
    }
  }
  return out;
}

/**
 * SQL on the order being moved (`orders` columns, unqualified): a weighed card order that still
 * has something to collect, read from `order_balances` (the twin of src/domain/balance.ts). Such
 * an order cannot go out for delivery until the balance is collected or an admin waives it.
 * Pay-on-delivery orders keep their rule: paid at the door, or flagged `unpaid_on_delivery`.
 */
const owesCardBalance = sql`(payment_method = 'card' AND final_total IS NOT NULL
  AND COALESCE((SELECT b.outstanding FROM order_balances b WHERE b.order_id = orders.id), 0) > 0)`;

/** The 409 for a ready card order the guard held back: its balance (read in the same batch) says why. */
function refuseOutstanding(order: OrderDto): void {
  if (order.paymentMethod !== 'card' || order.weighedAt === null || order.balance.outstanding === 0) return;
  throw new ApiError(
    'payment_outstanding',
    `${order.balance.outstanding} ${order.currency} of this order is not paid: collect it (capture, or the customer pays it) or have an admin waive it before delivery.`,
    { details: { outstanding: order.balance.outstanding, currency: order.currency } },
  );
}

const statusArray = (list: OrderStatus[]) => sql`${`{${list.join(',')}}`}::order_status[]`;

/**
 * CTEs (led by a comma) of a cancellation, on the `moved` row: the order's promo redemption is
 * given back (the code's count and the customer's), and its credit returns to the balance with
 * an `order_released` ledger entry. An order is cancelled once (the move is guarded by its
 * status), so it gives back once. A missed pickup gives back both too: the order never used them,
 * and its fee is charged on its own (the zone's `missed_pickup_fee` as the final total).
 */
function giveBackRedemptionAndCredit(now: string) {
  return sql`
      promo_back AS (
        UPDATE promo_codes p SET redemption_count = redemption_count - 1, updated_at = ${now}::timestamptz
        FROM moved m WHERE p.id = m.promo_code_id
        RETURNING p.id
      ),
      promo_use_back AS (
        UPDATE promo_customer_uses u SET uses = uses - 1 FROM moved m WHERE u.promo_code_id = m.promo_code_id AND u.user_id = m.user_id
        RETURNING u.user_id
      ),
      credit_back AS (
        UPDATE users u SET credit_balance = credit_balance + m.credit_applied FROM moved m WHERE u.id = m.user_id AND m.credit_applied > 0
        RETURNING u.id
      ),
      credit_entry AS (
        INSERT INTO credit_entries (user_id, amount, currency, reason, order_id, created_at)
        SELECT m.user_id, m.credit_applied, m.currency, 'order_released', m.id, ${now}::timestamptz FROM moved m WHERE m.credit_applied > 0
      ),`;
}

/**
 * Moves an order to `cmd.to` in ONE round trip. The pure state machine is asked up front
 * which current statuses allow the move (and normalises the evidence); one batch then locks
 * the order, moves it only if its status is one of those (and, for `ready`, it is weighed),
 * appends the timeline entry, gives unused slot capacity back on cancellation (and the promo
 * redemption and credit: giveBackRedemptionAndCredit), and reads the
 * order back. If nothing moved, the state machine explains why from the order as read (409 /
 * 422 with the same codes as ever); a move that should have happened but raced is a 409.
 */
export async function changeOrderStatus(deps: Deps, cmd: TransitionCommand): Promise<OrderDto & { userId: string }> {
  const candidates = plans(cmd);
  const from = candidates.map((p) => p.from);
  const evidence = candidates[0]?.evidence ?? {};
  const bagCount = evidence.bagCount ?? null;
  const note = evidence.note ?? null;
  const recorded = bagCount !== null ? { bagCount } : evidence.reason ? { reason: evidence.reason } : null;
  // A missed pickup: the zone's fee is what the order owes (its final total, so the balance and
  // its collection treat it like a weighed price), shown on the entry as `fee` and, for the
  // notification, `amount`; the entry names the `pickup_missed` notification.
  const missed = cmd.to === 'pickup_missed';
  const now = deps.clock.now().toISOString();
  const owner = cmd.ownerId ? sql` AND user_id = ${cmd.ownerId}::uuid` : sql``;
  const giveBack = (column: 'pickup_slot_id' | 'delivery_slot_id', when: OrderStatus[]) => sql`
    UPDATE slots SET reserved = reserved - 1, updated_at = ${now}::timestamptz
    WHERE id = (SELECT ${sql.raw(column)} FROM moved WHERE from_status = ANY(${statusArray(when)}))
    RETURNING id`;
  const [, moved, row] = await deps.database.batch((db) => [
    db.execute(sql`SELECT id FROM orders WHERE id = ${cmd.orderId}::uuid${owner} FOR UPDATE`),
    db.execute(sql`
      WITH cur AS (
        SELECT id, status, pickup_slot_id, delivery_slot_id, user_id, currency, promo_code_id, credit_applied FROM orders
        WHERE id = ${cmd.orderId}::uuid${owner} AND status = ANY(${statusArray(from)})
          AND (NOT ${cmd.to === 'ready'} OR weighed_at IS NOT NULL)
          AND (NOT ${cmd.to === 'out_for_delivery'} OR NOT ${owesCardBalance})
      ),
      moved AS (
        UPDATE orders o SET
          status = ${cmd.to}::order_status,
          updated_at = ${now}::timestamptz,
          cancelled_at = CASE WHEN ${cmd.to} = 'cancelled' THEN ${now}::timestamptz ELSE o.cancelled_at END,
          bag_count = COALESCE(${bagCount}::int, o.bag_count),
          final_total = CASE WHEN ${missed} THEN (SELECT z.missed_pickup_fee FROM zones z WHERE z.id = o.zone_id) ELSE o.final_total END
        FROM cur WHERE o.id = cur.id
        RETURNING o.id, cur.status AS from_status, cur.pickup_slot_id, cur.delivery_slot_id, cur.user_id, cur.currency,
                  cur.promo_code_id, cur.credit_applied, o.final_total AS fee
      ),${cmd.to === 'cancelled' || missed ? giveBackRedemptionAndCredit(now) : sql``}
      pickup AS (${giveBack('pickup_slot_id', from.filter((f) => releases(f, cmd.to).pickup))}),
      delivery AS (${giveBack('delivery_slot_id', from.filter((f) => releases(f, cmd.to).delivery))}),
      ev AS (
        INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, from_status, to_status, note, evidence, notify)
        SELECT id, ${now}::timestamptz, ${cmd.actor.role}::actor_role, ${cmd.actor.userId}::uuid, 'status_changed',
               from_status, ${cmd.to}::order_status, ${note},
               ${recorded === null ? null : JSON.stringify(recorded)}::jsonb
                 || CASE WHEN ${missed} THEN jsonb_build_object('fee', fee, 'amount', fee) ELSE '{}'::jsonb END,
               CASE WHEN ${missed} THEN 'pickup_missed'::notification_type END
        FROM moved
      )
      SELECT from_status::text FROM moved`),
    orderQuery(db, cmd.orderId, cmd.ownerId),
  ]);
  const order = orderDtoOf(row);
  if (!order) throw new ApiError('not_found', 'No such order.');
  if (rowsOf(moved).length === 1) return order;
  cmd.refuse?.(order);
  if (cmd.to === 'out_for_delivery' && order.status === 'ready') refuseOutstanding(order);
  // Throws the state machine's own answer for the status the order is really in.
  planTransition({ from: order.status, to: cmd.to, actor: cmd.actor.role, evidence: cmd.evidence, weighed: order.weighedAt !== null });
  throw new ApiError('conflict', 'The order changed while this request was in flight; reload it and try again.');
}
