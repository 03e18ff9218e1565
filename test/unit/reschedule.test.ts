import { describe, expect, it } from 'vitest';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import { planReschedule, type RescheduleInput } from '../../src/domain/reschedule.js';
import type { SlotState } from '../../src/domain/slots.js';

const HOUR = 3_600_000;
const now = new Date('2026-12-01T08:00:00.000Z');
const at = (hours: number) => new Date(now.getTime() + hours * HOUR);

function slot(id: string, kind: 'pickup' | 'delivery', startsInHours: number, extra: Partial<SlotState> = {}): SlotState {
  return { id, zoneId: 'z1', kind, startsAt: at(startsInHours), endsAt: at(startsInHours + 2), capacity: 10, reserved: 1, cutoffMinutes: 120, closed: false, ...extra };
}

const pickup = slot('p1', 'pickup', 24);
const delivery = slot('d1', 'delivery', 24 + 2 + 48);

function plan(extra: Partial<RescheduleInput>) {
  return planReschedule({ actor: 'customer', status: 'confirmed', zoneId: 'z1', pickup, delivery, turnaroundHours: 48, now, ...extra });
}

function refused(fn: () => unknown, code: DomainErrorCode): DomainError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe(code);
    return err as DomainError;
  }
  throw new Error(`expected ${code}`);
}

describe('planReschedule', () => {
  it('moves either window, or both, into bookable slots', () => {
    const p2 = slot('p2', 'pickup', 20);
    const d2 = slot('d2', 'delivery', 80);
    expect(plan({ newPickup: p2 })).toEqual({ pickup: p2, delivery, movesPickup: true, movesDelivery: false });
    expect(plan({ newDelivery: d2 })).toEqual({ pickup, delivery: d2, movesPickup: false, movesDelivery: true });
    expect(plan({ newPickup: p2, newDelivery: d2 })).toMatchObject({ movesPickup: true, movesDelivery: true });
  });

  it('is a no-op for the slots the order has, whatever the state or the clock', () => {
    const noop = { pickup, delivery, movesPickup: false, movesDelivery: false };
    expect(plan({ newPickup: pickup, newDelivery: delivery })).toEqual(noop);
    expect(plan({ newPickup: pickup, status: 'delivered', now: at(100) })).toEqual(noop);
    expect(plan({})).toEqual(noop);
  });

  it('lets a customer reschedule only before pickup and before the current pickup window’s cut-off', () => {
    const p2 = slot('p2', 'pickup', 23, { cutoffMinutes: 0 });
    expect(refused(() => plan({ newPickup: p2, status: 'picked_up' }), 'order_not_reschedulable').details).toEqual({ status: 'picked_up' });
    expect(plan({ newPickup: p2, status: 'pending_payment' }).movesPickup).toBe(true);
    // Cut-off at 22 h from now (24 h window, 120 min): one minute before, allowed; at it, refused.
    expect(plan({ newPickup: p2, now: new Date(at(22).getTime() - 60_000) }).movesPickup).toBe(true);
    const late = refused(() => plan({ newPickup: p2, now: at(22) }), 'order_not_reschedulable');
    expect(late.details).toEqual({ reason: 'past_cutoff', cutoffAt: at(22).toISOString() });
    // The delivery alone is no different for a customer.
    refused(() => plan({ newDelivery: slot('d2', 'delivery', 90), now: at(23) }), 'order_not_reschedulable');
  });

  it('refuses full, closed and past-cut-off slots for customers, as at booking', () => {
    for (const [s, reason] of [
      [slot('p2', 'pickup', 20, { reserved: 10 }), 'full'],
      [slot('p2', 'pickup', 20, { closed: true }), 'closed'],
      [slot('p2', 'pickup', 1), 'past_cutoff'],
      [slot('p2', 'pickup', -5), 'past_cutoff'],
    ] as const) {
      expect(refused(() => plan({ newPickup: s }), 'slot_unavailable').details).toEqual({ slot: 'pickup', slotId: 'p2', reason });
    }
  });

  it('lets staff move past the cut-off, the pickup until it happens and the delivery until it goes out', () => {
    const soon = slot('p2', 'pickup', 1);
    // Its cut-off passed an hour ago (1 h away, 120 min): refused to the customer, not to staff.
    refused(() => plan({ newPickup: soon }), 'slot_unavailable');
    expect(plan({ actor: 'staff', newPickup: soon }).movesPickup).toBe(true);
    // The current pickup's own cut-off binds customers only.
    expect(plan({ actor: 'staff', newPickup: slot('p4', 'pickup', 23.5), now: at(23) }).movesPickup).toBe(true);
    // A window already running is still usable by staff; one that ended is not.
    expect(plan({ actor: 'admin', newPickup: slot('p3', 'pickup', -1), now }).movesPickup).toBe(true);
    expect(refused(() => plan({ actor: 'staff', newPickup: slot('p3', 'pickup', -2) }), 'slot_unavailable').details?.reason).toBe('ended');
    expect(refused(() => plan({ actor: 'staff', newPickup: slot('p3', 'pickup', 3, { reserved: 10 }) }), 'slot_unavailable').details?.reason).toBe('full');
    expect(refused(() => plan({ actor: 'staff', newPickup: soon, status: 'picked_up' }), 'order_not_reschedulable').details).toEqual({ status: 'picked_up', slot: 'pickup' });
    for (const status of ['picked_up', 'processing', 'ready'] as const) {
      expect(plan({ actor: 'staff', status, newDelivery: slot('d2', 'delivery', 90) }).movesDelivery).toBe(true);
    }
    for (const status of ['out_for_delivery', 'delivered', 'cancelled', 'pickup_missed'] as const) {
      refused(() => plan({ actor: 'staff', status, newDelivery: slot('d2', 'delivery', 90) }), 'order_not_reschedulable');
    }
  });

  it('keeps the pairing rule: delivery no earlier than the pickup window’s end plus turnaround', () => {
    // Pickup ends at 26 h; 48 h turnaround: the delivery may start at 74 h, not a minute before.
    expect(plan({ newDelivery: slot('d2', 'delivery', 74) }).movesDelivery).toBe(true);
    const early = refused(() => plan({ newDelivery: slot('d2', 'delivery', 73.5) }), 'delivery_too_early');
    expect(early.details).toEqual({ earliestDeliveryStart: at(74).toISOString(), turnaroundHours: 48 });
    // A later pickup pushes past the booked delivery.
    refused(() => plan({ newPickup: slot('p2', 'pickup', 30) }), 'delivery_too_early');
    // Staff are bound by it too.
    refused(() => plan({ actor: 'staff', newPickup: slot('p2', 'pickup', 30) }), 'delivery_too_early');
  });

  it('refuses a slot of another kind or zone', () => {
    expect(refused(() => plan({ newPickup: slot('x', 'delivery', 20) }), 'slot_kind_mismatch').details).toMatchObject({ slot: 'pickup', kind: 'delivery' });
    expect(refused(() => plan({ newDelivery: slot('x', 'delivery', 90, { zoneId: 'z2' }) }), 'slot_zone_mismatch').details).toMatchObject({ slot: 'delivery', slotZoneId: 'z2' });
  });
});
