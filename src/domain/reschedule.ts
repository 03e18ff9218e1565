/**
 * Moving a booked order to other slots (POST /v1/orders/{id}/reschedule and its staff twin):
 * who may move which window, until when, and into which slots. Pure; the statement in
 * src/modules/orders/reschedule.ts enforces the same rules in SQL (its `allowed` expression) and
 * calls this on the rows it read to say why, when it refused.
 *
 * - A customer moves their own order while it is `pending_payment` or `confirmed` and the CURRENT
 *   pickup window's booking cut-off has not passed (the cut-off of booking, `slotAvailability`:
 *   `starts_at - cutoff_minutes`); the new slots must be bookable as at creation (open, before
 *   their cut-off, not full).
 * - Staff and admins may move the pickup until it happens (`pending_payment`, `confirmed`) and the
 *   delivery until it leaves the shop (any state before `out_for_delivery`), past the cut-off: a
 *   new slot must be open, not full, and its window not over yet.
 * - Either way the pairing rule of creation holds on the pair that results: the delivery window
 *   starts no earlier than the pickup window's end plus the services' turnaround.
 * - Naming the slots the order already has is a no-op.
 */
import { DomainError } from './errors.js';
import type { OrderStatus } from './order-status.js';
import { checkSlotKindAndZone, earliestDeliveryStart, slotAvailability, type SlotState } from './slots.js';
import { MINUTE_MS } from './zoned-time.js';

export type RescheduleActor = 'customer' | 'staff' | 'admin';

/** The states in which a customer may reschedule (and staff may move the pickup): before pickup. */
export const PICKUP_MOVABLE: readonly OrderStatus[] = ['pending_payment', 'confirmed'];
/** The states in which staff may move the delivery: until it goes out. */
export const DELIVERY_MOVABLE: readonly OrderStatus[] = ['pending_payment', 'confirmed', 'picked_up', 'processing', 'ready'];

export interface RescheduleInput {
  actor: RescheduleActor;
  status: OrderStatus;
  zoneId: string;
  pickup: SlotState;
  delivery: SlotState;
  /** The slot asked for; undefined keeps the current one. */
  newPickup?: SlotState | undefined;
  newDelivery?: SlotState | undefined;
  /** The order's longest service turnaround (express where booked), hours. */
  turnaroundHours: number;
  now: Date;
}

export interface ReschedulePlan {
  pickup: SlotState;
  delivery: SlotState;
  movesPickup: boolean;
  movesDelivery: boolean;
}

function refuse(message: string, details: Record<string, unknown>): never {
  throw new DomainError('order_not_reschedulable', message, details);
}

/** Why staff cannot use this slot now: closed, full, or its window is over. */
function staffAvailability(slot: SlotState, now: Date): 'closed' | 'ended' | 'full' | undefined {
  if (slot.closed) return 'closed';
  if (slot.endsAt.getTime() <= now.getTime()) return 'ended';
  if (slot.reserved >= slot.capacity) return 'full';
  return undefined;
}

/**
 * Decides a reschedule. Throws DomainError: 409 `order_not_reschedulable` (`details.status`, or
 * `details.reason: 'past_cutoff'` with `cutoffAt` for a customer), 422 `slot_kind_mismatch` /
 * `slot_zone_mismatch` / `delivery_too_early`, 409 `slot_unavailable` (`details.reason`:
 * closed, past_cutoff, full; `ended` for staff).
 */
export function planReschedule(input: RescheduleInput): ReschedulePlan {
  const movesPickup = input.newPickup !== undefined && input.newPickup.id !== input.pickup.id;
  const movesDelivery = input.newDelivery !== undefined && input.newDelivery.id !== input.delivery.id;
  const pickup = movesPickup ? input.newPickup! : input.pickup;
  const delivery = movesDelivery ? input.newDelivery! : input.delivery;
  const plan = { pickup, delivery, movesPickup, movesDelivery };
  if (!movesPickup && !movesDelivery) return plan;

  const { actor, status, now } = input;
  if (actor === 'customer') {
    if (!PICKUP_MOVABLE.includes(status)) refuse(`An order that is ${status} can no longer be rescheduled from the app; contact the shop.`, { status });
    const cutoffAt = input.pickup.startsAt.getTime() - input.pickup.cutoffMinutes * MINUTE_MS;
    if (now.getTime() >= cutoffAt) {
      refuse('The pickup window’s booking cut-off has passed; contact the shop.', { reason: 'past_cutoff', cutoffAt: new Date(cutoffAt).toISOString() });
    }
  } else {
    if (movesPickup && !PICKUP_MOVABLE.includes(status)) refuse(`The pickup of an order that is ${status} cannot be moved.`, { status, slot: 'pickup' });
    if (movesDelivery && !DELIVERY_MOVABLE.includes(status)) refuse(`The delivery of an order that is ${status} cannot be moved.`, { status, slot: 'delivery' });
  }

  const moved = [...(movesPickup ? [['pickup', pickup]] : []), ...(movesDelivery ? [['delivery', delivery]] : [])] as Array<['pickup' | 'delivery', SlotState]>;
  for (const [which, slot] of moved) checkSlotKindAndZone(which, slot, input.zoneId);
  const earliest = earliestDeliveryStart(pickup, input.turnaroundHours);
  if (delivery.startsAt.getTime() < earliest) {
    throw new DomainError('delivery_too_early', 'The delivery slot starts before the laundry can be ready', {
      earliestDeliveryStart: new Date(earliest).toISOString(),
      turnaroundHours: input.turnaroundHours,
    });
  }
  for (const [which, slot] of moved) {
    const availability = slotAvailability(slot, now);
    const reason = actor === 'customer' ? (availability.bookable ? undefined : availability.reason) : staffAvailability(slot, now);
    if (reason) {
      throw new DomainError('slot_unavailable', `The ${which} slot cannot be booked: ${reason}`, { slot: which, slotId: slot.id, reason });
    }
  }
  return plan;
}
