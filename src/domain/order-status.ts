import { DomainError } from './errors.js';

export const ORDER_STATUSES = [
  'pending_payment',
  'confirmed',
  'picked_up',
  'processing',
  'ready',
  'out_for_delivery',
  'delivered',
  'cancelled',
  'pickup_missed',
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ACTOR_ROLES = ['customer', 'staff', 'admin', 'system'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['delivered', 'cancelled', 'pickup_missed'];

/**
 * Why staff could not collect an order (`pickup_missed`): recorded on the timeline with the
 * zone's missed-pickup fee. `other` wants a note saying what happened.
 */
export const MISSED_PICKUP_REASONS = ['customer_absent', 'no_access', 'items_not_ready', 'other'] as const;
export type MissedPickupReason = (typeof MISSED_PICKUP_REASONS)[number];

export const MIN_BAG_COUNT = 1;
export const MAX_BAG_COUNT = 50;
export const MAX_NOTE_LENGTH = 2000;

export interface TransitionEvidence {
  bagCount?: number;
  note?: string;
  /** Only, and required, on `pickup_missed`. */
  reason?: MissedPickupReason;
}

export interface TransitionInput {
  from: OrderStatus;
  to: OrderStatus;
  actor: ActorRole;
  evidence?: TransitionEvidence;
  /** Whether a weigh-in has been recorded, i.e. the final price is known. */
  weighed: boolean;
}

export interface PlannedTransition {
  from: OrderStatus;
  to: OrderStatus;
  /** Normalised: only the fields that belong to this step, note trimmed. */
  evidence: TransitionEvidence;
}

const STAFF: readonly ActorRole[] = ['staff', 'admin'];

/**
 * Every legal edge and who may take it. Payment confirmation belongs to the payment webhook
 * alone so that no one can move an unpaid order forward; the customer's cancel window closes
 * at pickup because after that the shop holds their laundry.
 */
const EDGES: ReadonlyArray<{ from: OrderStatus; to: OrderStatus; actors: readonly ActorRole[] }> = [
  { from: 'pending_payment', to: 'confirmed', actors: ['system'] },
  { from: 'confirmed', to: 'picked_up', actors: STAFF },
  { from: 'picked_up', to: 'processing', actors: STAFF },
  { from: 'processing', to: 'ready', actors: STAFF },
  { from: 'ready', to: 'out_for_delivery', actors: STAFF },
  { from: 'out_for_delivery', to: 'delivered', actors: STAFF },
  { from: 'pending_payment', to: 'cancelled', actors: ['customer', 'staff', 'admin', 'system'] },
  { from: 'confirmed', to: 'cancelled', actors: ['customer', 'staff', 'admin'] },
  { from: 'picked_up', to: 'cancelled', actors: STAFF },
  { from: 'processing', to: 'cancelled', actors: STAFF },
  { from: 'ready', to: 'cancelled', actors: STAFF },
  { from: 'out_for_delivery', to: 'cancelled', actors: STAFF },
  // The driver came and could not collect: terminal, the zone's fee is charged (src/modules/fulfilment/missed-pickup.ts).
  { from: 'confirmed', to: 'pickup_missed', actors: STAFF },
];

export function isTerminalStatus(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function allowedNextStatuses(from: OrderStatus, actor: ActorRole): OrderStatus[] {
  const allowed = new Set(
    EDGES.filter((edge) => edge.from === from && edge.actors.includes(actor)).map((edge) => edge.to),
  );
  return ORDER_STATUSES.filter((status) => allowed.has(status));
}

export function customerCanCancel(status: OrderStatus): boolean {
  return allowedNextStatuses(status, 'customer').includes('cancelled');
}

function normaliseEvidence(to: OrderStatus, evidence: TransitionEvidence | undefined): TransitionEvidence {
  const normalised: TransitionEvidence = {};
  const bagCount = evidence?.bagCount;
  if (to === 'picked_up') {
    if (bagCount === undefined || bagCount === null) {
      throw new DomainError('evidence_required', 'Pickup must record the bag count', { field: 'bagCount' });
    }
    if (!Number.isSafeInteger(bagCount) || bagCount < MIN_BAG_COUNT || bagCount > MAX_BAG_COUNT) {
      throw new DomainError('invalid_evidence', `Bag count must be an integer ${MIN_BAG_COUNT}..${MAX_BAG_COUNT}`, {
        field: 'bagCount',
        value: bagCount,
      });
    }
    normalised.bagCount = bagCount;
  } else if (bagCount !== undefined && bagCount !== null) {
    // The timeline is customer-visible; a bag count on any other step would read as a recount.
    throw new DomainError('invalid_evidence', 'A bag count is only recorded at pickup', { field: 'bagCount' });
  }

  const reason = evidence?.reason;
  if (to === 'pickup_missed') {
    if (reason === undefined || reason === null) {
      throw new DomainError('evidence_required', 'A missed pickup must record the reason', { field: 'reason', allowed: MISSED_PICKUP_REASONS });
    }
    if (!MISSED_PICKUP_REASONS.includes(reason)) {
      throw new DomainError('invalid_evidence', `Reason must be one of ${MISSED_PICKUP_REASONS.join(', ')}`, { field: 'reason', value: reason });
    }
    normalised.reason = reason;
  } else if (reason !== undefined && reason !== null) {
    throw new DomainError('invalid_evidence', 'A reason is only recorded on a missed pickup', { field: 'reason' });
  }

  const note = evidence?.note;
  if (note !== undefined && note !== null) {
    if (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH) {
      throw new DomainError('invalid_evidence', `Note must be a string of at most ${MAX_NOTE_LENGTH} characters`, {
        field: 'note',
      });
    }
    const trimmed = note.trim();
    if (trimmed !== '') normalised.note = trimmed;
  }
  return normalised;
}

/**
 * Decides whether a status change may happen and what evidence it carries, without applying
 * it. Skipped or repeated steps are errors (409 upstream), never silent successes.
 */
export function planTransition(input: TransitionInput): PlannedTransition {
  const { from, to, actor } = input;
  if (from === to) {
    throw new DomainError('transition_repeated', `Order is already ${to}`, { from, to });
  }
  const edge = EDGES.find((candidate) => candidate.from === from && candidate.to === to);
  if (!edge) {
    throw new DomainError('illegal_transition', `Cannot move an order from ${from} to ${to}`, {
      from,
      to,
      allowed: allowedNextStatuses(from, actor),
    });
  }
  if (!edge.actors.includes(actor)) {
    throw new DomainError('transition_forbidden', `A ${actor} cannot move an order from ${from} to ${to}`, {
      from,
      to,
      actor,
      allowed: allowedNextStatuses(from, actor),
    });
  }
  const evidence = normaliseEvidence(to, input.evidence);
  if (to === 'ready' && !input.weighed) {
    throw new DomainError('weigh_in_required', 'Record the weigh-in before marking the order ready', {
      from,
      to,
    });
  }
  return { from, to, evidence };
}

/**
 * Order flags: reasons an order needs a person. An order can have several at once (a disputed
 * charge on an order whose hold is also about to expire); each is raised once and cleared on
 * its own. `orders.flags` holds them, oldest first; `flagged_reason` is kept equal to the
 * latest, for readers from before `flags` existed.
 */
export const ORDER_FLAGS = [
  'amount_mismatch',
  'disputed',
  'hold_expiring',
  'unpaid_on_delivery',
  'overage_failed',
  'payment_outstanding',
  'refund_failed',
] as const;
export type OrderFlag = (typeof ORDER_FLAGS)[number];
