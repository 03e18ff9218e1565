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

/** A charge's `outcome`, with the fields the stripe types require. */
function outcome(o: { network_status: string; reason: string | null; seller_message: string; type: string }) {
  return { advice_code: null, network_advice_code: null, network_decline_code: null, risk_level: 'normal', ...o };
}

function newCharge(state: StripeState, pi: PaymentIntent, pm: PaymentMethod, fields: Partial<Charge>): Charge {
  const created = state.now();
  const ch: Charge = {
    id: newId('ch'),
    object: 'charge',
    amount: pi.amount,
    amount_captured: 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
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
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: clone(pi.metadata),
    outcome: outcome({ network_status: 'approved_by_network', reason: null, seller_message: 'Payment complete.', type: 'authorized' }),
    paid: true,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: {
      type: 'card',
      card: {
        ...clone(pm.card),
        amount_authorized: pi.amount,
        authorization_code: null,
        electronic_commerce_indicator: null,
        installments: null,
        mandate: null,
        network: pm.card.brand,
        network_transaction_id: randomToken(15),
        three_d_secure: null,
        transaction_link_id: null,
      },
    },
    on_behalf_of: null,
    receipt_email: pi.receipt_email ?? null,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${randomToken(40)}`,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor ?? null,
    statement_descriptor_suffix: pi.statement_descriptor_suffix ?? null,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: pi.transfer_group ?? null,
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
    outcome: outcome({ network_status: 'declined_by_network', reason: d.decline_code, seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' }),
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

/** Dispute.Evidence's fields (all null until evidence is submitted). */
const EVIDENCE_FIELDS = [
  'access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal',
  'customer_communication', 'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature',
  'duplicate_charge_documentation', 'duplicate_charge_explanation', 'duplicate_charge_id', 'product_description', 'receipt',
  'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation', 'service_date', 'service_documentation',
  'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number',
  'uncategorized_file', 'uncategorized_text',
];

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
    enhanced_eligibility_types: [],
    evidence: { ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])), enhanced_evidence: {} },
    evidence_details: { due_by: created + 7 * 24 * 3600, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: null },
    intended_submission_method: null,
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
