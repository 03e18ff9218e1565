/**
 * stripe-stand-in, part: charges (made when an intent is authorised or declined), refunds and
 * disputes, with the events each change emits.
 */
import {
  clone,
  invalidParam,
  missing,
  newId,
  randomToken,
  StripeApiError,
  type StripeObject,
  type TestCard,
} from './util.js';
import { NO_REQUEST, type Charge, type PaymentIntent, type PaymentMethod, type RequestContext, type StripeState } from './store.js';

export type Decline = NonNullable<TestCard['decline']>;

/** Card authorisations are held for 7 days (online card payments), then released. */
export const AUTHORIZATION_SECONDS = 7 * 24 * 3600;

export function charge(state: StripeState, id: string, param?: string): Charge {
  const ch = state.charges.get(id);
  if (!ch) throw param ? invalidParam(param, `No such charge: '${id}'`, 'resource_missing') : missing('charge', id);
  return ch;
}

function newCharge(state: StripeState, pi: PaymentIntent, pm: PaymentMethod, fields: Partial<Charge>): Charge {
  const created = state.now();
  const ch: Charge = {
    id: newId('ch'),
    object: 'charge',
    amount: pi.amount,
    amount_captured: 0,
    amount_refunded: 0,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: clone(pm.billing_details),
    calculated_statement_descriptor: 'LAUNDRY',
    captured: false,
    created,
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description ?? null,
    disputed: false,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: clone(pi.metadata),
    outcome: { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
    paid: true,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: {
      type: 'card',
      card: { ...clone(pm.card), amount_authorized: pi.amount, network_transaction_id: randomToken(15) },
    },
    receipt_email: pi.receipt_email ?? null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${randomToken(40)}`,
    refunded: false,
    status: 'succeeded',
    ...fields,
  };
  state.charges.set(ch.id, ch);
  return ch;
}

export function declineIntent(state: StripeState, pi: PaymentIntent, pm: PaymentMethod, d: Decline, ctx: RequestContext): StripeApiError {
  const ch = newCharge(state, pi, pm, {
    status: 'failed',
    paid: false,
    failure_code: d.code,
    failure_message: d.message,
    outcome: { network_status: 'declined_by_network', reason: d.decline_code, risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' },
  });
  const docUrl = `https://stripe.com/docs/error-codes/${d.code.replace(/_/g, '-')}`;
  pi.status = 'requires_payment_method';
  pi.latest_charge = ch.id;
  pi.payment_method = null;
  pi.next_action = null;
  pi.last_payment_error = { type: 'card_error', charge: ch.id, code: d.code, decline_code: d.decline_code, doc_url: docUrl, message: d.message, payment_method: clone(pm) };
  state.emit('charge.failed', ch, ctx);
  state.emit('payment_intent.payment_failed', pi, ctx);
  return new StripeApiError(402, {
    type: 'card_error',
    code: d.code,
    decline_code: d.decline_code,
    message: d.message,
    doc_url: docUrl,
    charge: ch.id,
    payment_intent: clone(pi),
    payment_method: clone(pm),
  });
}

export function authoriseIntent(state: StripeState, pi: PaymentIntent, pm: PaymentMethod, amount: number, ctx: RequestContext): void {
  const manual = pi.capture_method === 'manual';
  const ch = newCharge(state, pi, pm, {
    captured: !manual,
    amount_captured: manual ? 0 : amount,
    balance_transaction: manual ? null : newId('txn'),
  });
  ch.payment_method_details.card.amount_authorized = amount;
  if (manual) ch.payment_method_details.card.capture_before = ch.created + AUTHORIZATION_SECONDS;
  pi.payment_method = pm.id;
  pi.latest_charge = ch.id;
  pi.last_payment_error = null;
  pi.next_action = null;
  pi.status = manual ? 'requires_capture' : 'succeeded';
  if (manual) pi.amount_capturable = amount;
  else pi.amount_received = amount;
  state.emit('charge.succeeded', ch, ctx);
  state.emit(manual ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded', pi, ctx);
}

/** A dispute object for a charge: the stored one, or (for `event()`) an unsaved one. */
export function disputeFor(state: StripeState, ch: Charge, opts: { amount?: number; reason?: string } = {}, save = false): StripeObject & { charge: string } {
  const existing = [...state.disputes.values()].find((d) => d.charge === ch.id);
  if (existing && !save) return existing;
  const created = state.now();
  const dp = {
    id: newId('dp'),
    object: 'dispute',
    amount: opts.amount ?? ch.amount_captured,
    balance_transactions: [],
    charge: ch.id,
    created,
    currency: ch.currency,
    evidence_details: { due_by: created + 7 * 24 * 3600, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: ch.payment_intent,
    reason: opts.reason ?? 'fraudulent',
    status: 'needs_response',
  };
  if (save) {
    state.disputes.set(dp.id, dp);
    ch.disputed = true;
    state.emit('charge.dispute.created', dp, NO_REQUEST);
  }
  return dp;
}
