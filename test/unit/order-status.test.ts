import { describe, it, expect } from 'vitest';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import {
  ORDER_STATUSES,
  allowedNextStatuses,
  customerCanCancel,
  isTerminalStatus,
  planTransition,
  type ActorRole,
  type OrderStatus,
  type TransitionInput,
} from '../../src/domain/order-status.js';

function plan(partial: Partial<TransitionInput> & Pick<TransitionInput, 'from' | 'to' | 'actor'>) {
  return planTransition({ weighed: false, ...partial });
}

function expectCode(fn: () => unknown, code: DomainErrorCode): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(code);
    return error as DomainError;
  }
  throw new Error(`expected DomainError ${code}`);
}

describe('planTransition: forward path', () => {
  it('lets the payment webhook confirm a pending order', () => {
    expect(plan({ from: 'pending_payment', to: 'confirmed', actor: 'system' })).toEqual({
      from: 'pending_payment',
      to: 'confirmed',
      evidence: {},
    });
  });

  it.each(['staff', 'admin'] as const)('lets %s walk the order to delivered one step at a time', (actor) => {
    expect(plan({ from: 'confirmed', to: 'picked_up', actor, evidence: { bagCount: 2 } }).evidence).toEqual({ bagCount: 2 });
    expect(plan({ from: 'picked_up', to: 'processing', actor }).to).toBe('processing');
    expect(plan({ from: 'processing', to: 'ready', actor, weighed: true }).to).toBe('ready');
    expect(plan({ from: 'ready', to: 'out_for_delivery', actor }).to).toBe('out_for_delivery');
    expect(plan({ from: 'out_for_delivery', to: 'delivered', actor }).to).toBe('delivered');
  });

  it.each(['staff', 'admin', 'customer'] as const)('forbids %s from confirming payment', (actor) => {
    const error = expectCode(() => plan({ from: 'pending_payment', to: 'confirmed', actor }), 'transition_forbidden');
    expect(error.details).toMatchObject({ from: 'pending_payment', to: 'confirmed', actor });
  });

  it('forbids customers and the system from operational steps', () => {
    expectCode(() => plan({ from: 'processing', to: 'ready', actor: 'customer', weighed: true }), 'transition_forbidden');
    expectCode(() => plan({ from: 'out_for_delivery', to: 'delivered', actor: 'system' }), 'transition_forbidden');
  });

  it('rejects skipping a step with the allowed next states for the actor', () => {
    const error = expectCode(() => plan({ from: 'pending_payment', to: 'picked_up', actor: 'staff' }), 'illegal_transition');
    expect(error.details).toEqual({ from: 'pending_payment', to: 'picked_up', allowed: ['cancelled'] });
    const skip = expectCode(() => plan({ from: 'confirmed', to: 'processing', actor: 'staff' }), 'illegal_transition');
    expect(skip.details?.allowed).toEqual(['picked_up', 'cancelled', 'pickup_missed']);
  });

  it('rejects going backwards', () => {
    expectCode(() => plan({ from: 'ready', to: 'processing', actor: 'admin' }), 'illegal_transition');
    expectCode(() => plan({ from: 'confirmed', to: 'pending_payment', actor: 'system' }), 'illegal_transition');
  });

  it.each(ORDER_STATUSES)('reports repeating %s as transition_repeated', (status) => {
    expectCode(() => plan({ from: status, to: status, actor: 'staff' }), 'transition_repeated');
  });
});

describe('planTransition: evidence', () => {
  it('requires a bag count at pickup', () => {
    const error = expectCode(() => plan({ from: 'confirmed', to: 'picked_up', actor: 'staff' }), 'evidence_required');
    expect(error.details).toEqual({ field: 'bagCount' });
    expectCode(() => plan({ from: 'confirmed', to: 'picked_up', actor: 'staff', evidence: { note: 'x' } }), 'evidence_required');
  });

  it.each([0, 51, 1.5, -1, Number.NaN])('rejects bag count %s', (bagCount) => {
    expectCode(
      () => plan({ from: 'confirmed', to: 'picked_up', actor: 'staff', evidence: { bagCount } }),
      'invalid_evidence',
    );
  });

  it.each([1, 50])('accepts bag count %s at the boundary', (bagCount) => {
    expect(plan({ from: 'confirmed', to: 'picked_up', actor: 'staff', evidence: { bagCount } }).evidence.bagCount).toBe(bagCount);
  });

  it('rejects a bag count on any step but pickup', () => {
    expectCode(
      () => plan({ from: 'picked_up', to: 'processing', actor: 'staff', evidence: { bagCount: 2 } }),
      'invalid_evidence',
    );
  });

  it('trims notes, drops blank ones and rejects overlong ones', () => {
    const noted = plan({ from: 'ready', to: 'cancelled', actor: 'staff', evidence: { note: '  customer moved  ' } });
    expect(noted.evidence).toEqual({ note: 'customer moved' });
    expect(plan({ from: 'ready', to: 'cancelled', actor: 'staff', evidence: { note: '   ' } }).evidence).toEqual({});
    expectCode(
      () => plan({ from: 'ready', to: 'cancelled', actor: 'staff', evidence: { note: 'x'.repeat(2001) } }),
      'invalid_evidence',
    );
    expect(plan({ from: 'ready', to: 'cancelled', actor: 'staff', evidence: { note: 'x'.repeat(2000) } }).evidence.note).toHaveLength(2000);
  });

  it('requires a weigh-in before ready', () => {
    const error = expectCode(() => plan({ from: 'processing', to: 'ready', actor: 'staff', weighed: false }), 'weigh_in_required');
    expect(error.status).toBe(409);
  });
});

describe('planTransition: cancellation', () => {
  it.each(['pending_payment', 'confirmed'] as const)('lets the customer cancel from %s', (from) => {
    expect(plan({ from, to: 'cancelled', actor: 'customer' }).to).toBe('cancelled');
  });

  it.each(['picked_up', 'processing', 'ready', 'out_for_delivery'] as const)('forbids the customer cancelling from %s', (from) => {
    const error = expectCode(() => plan({ from, to: 'cancelled', actor: 'customer' }), 'transition_forbidden');
    expect(error.details?.allowed).toEqual([]);
  });

  it.each(['pending_payment', 'confirmed', 'picked_up', 'processing', 'ready', 'out_for_delivery'] as const)(
    'lets staff and admin cancel from %s',
    (from) => {
      expect(plan({ from, to: 'cancelled', actor: 'staff' }).to).toBe('cancelled');
      expect(plan({ from, to: 'cancelled', actor: 'admin' }).to).toBe('cancelled');
    },
  );

  it('lets the system cancel only an unpaid order', () => {
    expect(plan({ from: 'pending_payment', to: 'cancelled', actor: 'system' }).to).toBe('cancelled');
    expectCode(() => plan({ from: 'confirmed', to: 'cancelled', actor: 'system' }), 'transition_forbidden');
  });

  it('treats delivered and cancelled as terminal', () => {
    const error = expectCode(() => plan({ from: 'delivered', to: 'cancelled', actor: 'admin' }), 'illegal_transition');
    expect(error.details?.allowed).toEqual([]);
    expectCode(() => plan({ from: 'cancelled', to: 'confirmed', actor: 'system' }), 'illegal_transition');
    expect(isTerminalStatus('delivered')).toBe(true);
    expect(isTerminalStatus('cancelled')).toBe(true);
    expect(isTerminalStatus('ready')).toBe(false);
  });

  it('marks a pickup missed only from confirmed, by staff, with a reason; it is terminal', () => {
    expect(plan({ from: 'confirmed', to: 'pickup_missed', actor: 'staff', evidence: { reason: 'customer_absent', note: '  no answer ' } })).toEqual({
      from: 'confirmed',
      to: 'pickup_missed',
      evidence: { reason: 'customer_absent', note: 'no answer' },
    });
    expect(expectCode(() => plan({ from: 'confirmed', to: 'pickup_missed', actor: 'admin' }), 'evidence_required').details).toMatchObject({ field: 'reason' });
    expectCode(() => plan({ from: 'confirmed', to: 'pickup_missed', actor: 'staff', evidence: { reason: 'asleep' as never } }), 'invalid_evidence');
    expectCode(() => plan({ from: 'confirmed', to: 'pickup_missed', actor: 'customer', evidence: { reason: 'other' } }), 'transition_forbidden');
    expectCode(() => plan({ from: 'picked_up', to: 'pickup_missed', actor: 'staff', evidence: { reason: 'other' } }), 'illegal_transition');
    expectCode(() => plan({ from: 'pending_payment', to: 'pickup_missed', actor: 'staff', evidence: { reason: 'other' } }), 'illegal_transition');
    expectCode(() => plan({ from: 'confirmed', to: 'cancelled', actor: 'staff', evidence: { reason: 'other' } }), 'invalid_evidence');
    expect(allowedNextStatuses('pickup_missed', 'admin')).toEqual([]);
    expect(isTerminalStatus('pickup_missed')).toBe(true);
  });
});

describe('allowedNextStatuses and customerCanCancel', () => {
  const expected: Record<ActorRole, Partial<Record<OrderStatus, OrderStatus[]>>> = {
    customer: { pending_payment: ['cancelled'], confirmed: ['cancelled'] },
    system: { pending_payment: ['confirmed', 'cancelled'] },
    staff: {
      pending_payment: ['cancelled'],
      confirmed: ['picked_up', 'cancelled', 'pickup_missed'],
      picked_up: ['processing', 'cancelled'],
      processing: ['ready', 'cancelled'],
      ready: ['out_for_delivery', 'cancelled'],
      out_for_delivery: ['delivered', 'cancelled'],
    },
    admin: {},
  };
  expected.admin = expected.staff;

  it.each(Object.keys(expected) as ActorRole[])('matches the table for %s', (actor) => {
    for (const status of ORDER_STATUSES) {
      expect(allowedNextStatuses(status, actor), `${actor} from ${status}`).toEqual(expected[actor][status] ?? []);
    }
  });

  it('lets the customer cancel only before pickup', () => {
    expect(ORDER_STATUSES.filter(customerCanCancel)).toEqual(['pending_payment', 'confirmed']);
  });
});
