import { DomainError } from './errors.js';
import { HOUR_MS, MINUTE_MS } from './zoned-time.js';

export { zonedWallTimeToUtc } from './zoned-time.js';
export { MAX_POSTCODE_LENGTH, matchZone, normalizePostcode, type Zone } from './postcodes.js';
export {
  MAX_CUTOFF_MINUTES,
  MAX_GENERATION_DAYS,
  MAX_SLOT_CAPACITY,
  generateSlots,
  planSlots,
  type GeneratedSlot,
  type SlotPlan,
  type SlotTemplate,
  type SlotWindow,
  type Weekday,
} from './slot-template.js';

export type SlotKind = 'pickup' | 'delivery';

export interface SlotState {
  id: string;
  zoneId: string;
  kind: SlotKind;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  reserved: number;
  /** Booking closes this many minutes before startsAt. */
  cutoffMinutes: number;
  closed: boolean;
}

export type SlotAvailability =
  | { bookable: true; remaining: number }
  | { bookable: false; reason: 'past_cutoff' | 'full' | 'closed' };


export function slotAvailability(slot: SlotState, now: Date): SlotAvailability {
  if (slot.closed) return { bookable: false, reason: 'closed' };
  const cutoffAt = slot.startsAt.getTime() - slot.cutoffMinutes * MINUTE_MS;
  if (now.getTime() >= cutoffAt) return { bookable: false, reason: 'past_cutoff' };
  const remaining = slot.capacity - slot.reserved;
  if (remaining <= 0) return { bookable: false, reason: 'full' };
  return { bookable: true, remaining };
}

/** 422 `slot_kind_mismatch` / `slot_zone_mismatch` when `slot` cannot serve as the order's `which` slot in `zoneId`. */
export function checkSlotKindAndZone(which: SlotKind, slot: SlotState, zoneId: string): void {
  if (slot.kind !== which) {
    throw new DomainError('slot_kind_mismatch', `The ${which} slot is a ${slot.kind} slot`, {
      slot: which,
      slotId: slot.id,
      kind: slot.kind,
    });
  }
  if (slot.zoneId !== zoneId) {
    throw new DomainError('slot_zone_mismatch', `The ${which} slot does not serve this address's zone`, {
      slot: which,
      slotId: slot.id,
      slotZoneId: slot.zoneId,
      zoneId,
    });
  }
}

/** The pairing rule: the earliest start (epoch ms) of a delivery window after this pickup window and turnaround. */
export function earliestDeliveryStart(pickup: Pick<SlotState, 'endsAt'>, turnaroundHours: number): number {
  if (!Number.isFinite(turnaroundHours) || turnaroundHours < 0) {
    throw new RangeError('turnaroundHours must be a non-negative finite number');
  }
  return pickup.endsAt.getTime() + turnaroundHours * HOUR_MS;
}

export function checkSlotPair(input: {
  pickup: SlotState;
  delivery: SlotState;
  zoneId: string;
  turnaroundHours: number;
  now: Date;
}): void {
  const { pickup, delivery, zoneId } = input;
  checkSlotKindAndZone('pickup', pickup, zoneId);
  checkSlotKindAndZone('delivery', delivery, zoneId);
  const earliestDelivery = earliestDeliveryStart(pickup, input.turnaroundHours);
  if (delivery.startsAt.getTime() < earliestDelivery) {
    throw new DomainError('delivery_too_early', 'The delivery slot starts before the laundry can be ready', {
      earliestDeliveryStart: new Date(earliestDelivery).toISOString(),
      turnaroundHours: input.turnaroundHours,
    });
  }
  for (const [which, slot] of [['pickup', pickup], ['delivery', delivery]] as const) {
    const availability = slotAvailability(slot, input.now);
    if (!availability.bookable) {
      throw new DomainError('slot_unavailable', `The ${which} slot cannot be booked: ${availability.reason}`, {
        slot: which,
        slotId: slot.id,
        reason: availability.reason,
      });
    }
  }
}
