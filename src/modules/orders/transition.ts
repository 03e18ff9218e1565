import { sql } from 'drizzle-orm';
import { planTransition, type ActorRole, type OrderStatus, type TransitionEvidence } from '../../domain/order-status.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { OrderDto, TimelineEntryDto } from './schemas.js';

export interface TransitionRequest {
  order: Pick<OrderDto, 'id' | 'status' | 'weighedAt' | 'pickupSlot' | 'deliverySlot' | 'timeline'>;
  to: OrderStatus;
  actor: { role: ActorRole; userId: string | null };
  evidence?: TransitionEvidence;
}

/** Capacity a cancelled order gives back: a window it has not used yet. */
function releases(from: OrderStatus, to: OrderStatus) {
  if (to !== 'cancelled') return { pickup: false, delivery: false };
  return {
    pickup: from === 'pending_payment' || from === 'confirmed',
    delivery: from !== 'out_for_delivery' && from !== 'delivered',
  };
}

/**
 * Applies one status change: the pure state machine decides, then ONE statement moves the
 * order (only if it is still in the state we read), appends the timeline entry and, on
 * cancellation, gives unused slot capacity back. A concurrent change makes it a 409.
 * Returns the order's timeline with the new entry.
 */
export async function applyTransition(deps: Deps, req: TransitionRequest): Promise<{ status: OrderStatus; timeline: TimelineEntryDto[] }> {
  const planned = planTransition({
    from: req.order.status,
    to: req.to,
    actor: req.actor.role,
    evidence: req.evidence,
    weighed: req.order.weighedAt !== null,
  });
  const now = deps.clock.now().toISOString();
  const release = releases(planned.from, planned.to);
  const evidence = planned.evidence.bagCount !== undefined ? { bagCount: planned.evidence.bagCount } : null;
  const note = planned.evidence.note ?? null;
  const giveBack = (slotId: string, yes: boolean) => sql`
    UPDATE slots SET reserved = reserved - 1, updated_at = ${now}::timestamptz
    WHERE id = ${slotId}::uuid AND ${yes} AND EXISTS (SELECT 1 FROM moved)
    RETURNING id`;
  const rows = await deps.database.rows<{ moved: number }>(sql`
    WITH moved AS (
      UPDATE orders SET
        status = ${planned.to}::order_status,
        updated_at = ${now}::timestamptz,
        cancelled_at = CASE WHEN ${planned.to} = 'cancelled' THEN ${now}::timestamptz ELSE cancelled_at END,
        bag_count = COALESCE(${evidence?.bagCount ?? null}::int, bag_count)
      WHERE id = ${req.order.id}::uuid AND status = ${planned.from}::order_status
      RETURNING id
    ),
    pickup AS (${giveBack(req.order.pickupSlot.id, release.pickup)}),
    delivery AS (${giveBack(req.order.deliverySlot.id, release.delivery)}),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, from_status, to_status, note, evidence)
      SELECT id, ${now}::timestamptz, ${req.actor.role}::actor_role, ${req.actor.userId}::uuid, 'status_changed',
             ${planned.from}::order_status, ${planned.to}::order_status, ${note}, ${evidence ? JSON.stringify(evidence) : null}::jsonb
      FROM moved
    )
    SELECT count(*)::int AS moved FROM moved`);
  if (rows[0]?.moved !== 1) {
    throw new ApiError('conflict', 'The order changed while this request was in flight; reload it and try again.');
  }
  const entry: TimelineEntryDto = {
    at: now,
    actor: req.actor,
    type: 'status_changed',
    from: planned.from,
    to: planned.to,
    note,
    evidence,
  };
  return { status: planned.to, timeline: [...req.order.timeline, entry] };
}
