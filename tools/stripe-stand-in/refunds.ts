/**
 * stripe-stand-in, part: refunds, including the asynchronous ones of Stripe's test cards
 * (https://docs.stripe.com/testing#refunds, "Simulate an asynchronous refund"):
 *
 * - `pm_card_pendingRefund` (4000 0000 0000 7726): the refund begins `pending`; "some time later"
 *   it becomes `succeeded` (`refund.updated`);
 * - `pm_card_refundFail` (4000 0000 0000 5126): the refund begins `succeeded`; "some time later"
 *   it becomes `failed` with `failure_reason: expired_or_canceled_card` (`refund.failed`);
 * - every other card: `succeeded` at once, for good.
 *
 * "Some time later" is a test's call: `settleRefund(id, status)` (handle, or `POST
 * /__control/settle-refund`). A card refund can be canceled only from the Dashboard, which the
 * control also stands for (`canceled`). Events, per https://docs.stripe.com/api/refunds (event
 * list) and the 2024-10-28.acacia change that sends refund.* for every refund: creating emits
 * `refund.created` and `charge.refunded`; a later change emits `refund.updated` and
 * `charge.refund.updated`, plus `refund.failed` when it failed. A failed or canceled refund gives
 * its amount back to the charge: `amount_refunded` goes down and `refunded` is false again.
 */
import { invalidParam, newId, StripeApiError, unexpectedState, type Params, type StripeObject } from './util.js';
import type { Charge, RequestContext, StripeState } from './store.js';
import { NO_REQUEST } from './store.js';
import { charge } from './charges.js';

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export interface Refund extends StripeObject {
  object: 'refund';
  amount: number;
  charge: string;
  created: number;
  status: RefundStatus;
  payment_intent: string | null;
}

export const REFUND_PARAMS = [
  'amount', 'charge', 'currency', 'customer', 'instructions_email', 'metadata', 'origin', 'payment_intent', 'reason',
  'refund_application_fee', 'reverse_transfer',
];

/** The refund's charge: named directly, or the latest charge of a succeeded PaymentIntent. */
function refundedCharge(state: StripeState, p: Params): Charge {
  const piId = p.str('payment_intent');
  const chId = p.str('charge');
  if (!piId === !chId) throw invalidParam(piId ? 'charge' : 'payment_intent', 'Provide exactly one of charge or payment_intent.', 'parameter_missing');
  if (!piId) return charge(state, chId!, 'charge');
  const pi = state.paymentIntents.get(piId);
  if (!pi) throw invalidParam('payment_intent', `No such payment_intent: '${piId}'`, 'resource_missing');
  if (pi.status !== 'succeeded' || !pi.latest_charge) {
    throw unexpectedState(`This PaymentIntent (${pi.id}) does not have a successful charge to refund (status ${pi.status}).`);
  }
  return charge(state, pi.latest_charge);
}

export function createRefund(state: StripeState, p: Params, ctx: RequestContext): Refund {
  const ch = refundedCharge(state, p);
  if (!ch.captured || ch.status !== 'succeeded') {
    throw new StripeApiError(400, { type: 'invalid_request_error', code: 'charge_not_refundable', message: `Charge ${ch.id} has not been captured and cannot be refunded.` });
  }
  const remaining = ch.amount_captured - ch.amount_refunded;
  if (remaining <= 0) {
    throw new StripeApiError(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${ch.id} has already been refunded.` });
  }
  const amount = p.int('amount') ?? remaining;
  if (amount < 1) throw invalidParam('amount', 'Invalid positive integer', 'parameter_invalid_integer');
  if (amount > remaining) {
    throw new StripeApiError(400, {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount',
      message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
    });
  }
  const pending = ch.payment_method !== null && state.cardBehaviour.get(ch.payment_method)?.refund === 'pending';
  const refund: Refund = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: newId('txn'),
    charge: ch.id,
    created: state.now(),
    currency: ch.currency,
    customer: ch.customer,
    customer_account: null,
    description: null,
    destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
    metadata: p.metadata(),
    payment_intent: ch.payment_intent,
    payment_method: ch.payment_method,
    reason: p.oneOf('reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const),
    receipt_number: null,
    source_transfer_reversal: null,
    status: pending ? 'pending' : 'succeeded',
    transfer_reversal: null,
    ...(pending ? { pending_reason: 'processing' } : {}),
  };
  state.refunds.set(refund.id, refund);
  ch.amount_refunded += amount;
  ch.refunded = ch.amount_refunded >= ch.amount_captured;
  state.emit('refund.created', refund, ctx);
  state.emit('charge.refunded', ch, ctx);
  return refund;
}

export interface SettleRefundOptions {
  /** `failed` only; default `expired_or_canceled_card` (Stripe's refundFail test card). */
  failureReason?: string;
}

/**
 * A refund's later outcome. Allowed: `pending` → succeeded | failed | canceled; a succeeded
 * refund of `pm_card_refundFail` → failed; a succeeded card refund → canceled (Dashboard).
 * Anything else is a test mistake (throws a plain Error → 400 on the control route).
 */
export function settleRefund(state: StripeState, id: string, status: Exclude<RefundStatus, 'pending'>, opts: SettleRefundOptions = {}): Refund {
  const refund = state.refunds.get(id) as Refund | undefined;
  if (!refund) throw new Error(`settleRefund: no refund ${id}`);
  if (!['succeeded', 'failed', 'canceled'].includes(status)) throw new Error(`settleRefund: status must be succeeded, failed or canceled, not ${String(status)}`);
  const ch = charge(state, refund.charge);
  const failsLater = ch.payment_method !== null && state.cardBehaviour.get(ch.payment_method)?.refund === 'fail';
  const allowed =
    refund.status === 'pending' ||
    (refund.status === 'succeeded' && status === 'failed' && failsLater) ||
    (refund.status === 'succeeded' && status === 'canceled');
  if (!allowed) throw new Error(`settleRefund: a ${refund.status} refund${failsLater ? '' : ' of this card'} cannot become ${status}`);
  const previous = { status: refund.status, ...(refund.pending_reason ? { pending_reason: refund.pending_reason } : {}) };
  refund.status = status;
  delete refund.pending_reason;
  if (status === 'failed' || status === 'canceled') {
    ch.amount_refunded -= refund.amount; // the money stays with (returns to) the merchant
    ch.refunded = ch.amount_refunded >= ch.amount_captured && ch.amount_captured > 0;
    if (status === 'failed') {
      refund.failure_reason = opts.failureReason ?? 'expired_or_canceled_card';
      refund.failure_balance_transaction = newId('txn');
    }
  }
  state.emit('refund.updated', refund, NO_REQUEST, previous);
  state.emit('charge.refund.updated', refund, NO_REQUEST, previous);
  if (status === 'failed') state.emit('refund.failed', refund, NO_REQUEST, previous);
  return refund;
}
