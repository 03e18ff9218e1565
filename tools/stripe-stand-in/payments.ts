/**
 * stripe-stand-in, part: payment intents — create, update, confirm, capture, cancel, the
 * simulated PaymentSheet `authorize`, and authorisation expiry.
 */
import { invalidParam, missing, newId, randomToken, StripeApiError, unexpectedState, type Params } from './util.js';
import {
  newPaymentMethod,
  NO_REQUEST,
  type PaymentIntent,
  type PaymentIntentStatus,
  type PaymentMethod,
  type RequestContext,
  type StripeState,
} from './store.js';
import { authoriseIntent, charge, declineIntent } from './charges.js';
import { validAmount } from './amounts.js';

const PRE_CONFIRM: PaymentIntentStatus[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const CANCELABLE: PaymentIntentStatus[] = [...PRE_CONFIRM, 'requires_capture', 'processing'];

/** The parameters of API version 2026-10-28.endive (`payment_method_types` became `allowed_payment_method_types`). */
export const PI_CREATE_PARAMS = [
  'amount', 'currency', 'allowed_payment_method_types', 'amount_details', 'application_fee_amount', 'automatic_payment_methods',
  'capture_method', 'confirm', 'confirmation_method', 'confirmation_token', 'customer', 'customer_account', 'description',
  'error_on_requires_action', 'excluded_payment_method_types', 'hooks', 'mandate', 'mandate_data', 'metadata', 'off_session',
  'on_behalf_of', 'payment_details', 'payment_method', 'payment_method_configuration', 'payment_method_data',
  'payment_method_options', 'radar_options', 'receipt_email', 'return_url', 'setup_future_usage', 'shipping',
  'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'transfer_group', 'use_stripe_sdk',
];
export const PI_UPDATE_PARAMS = [
  'allowed_payment_method_types', 'amount', 'amount_details', 'application_fee_amount', 'capture_method', 'currency', 'customer',
  'customer_account', 'description', 'excluded_payment_method_types', 'hooks', 'metadata', 'payment_details', 'payment_method',
  'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'receipt_email', 'setup_future_usage',
  'shipping', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'transfer_group',
];
export const PI_CONFIRM_PARAMS = [
  'allowed_payment_method_types', 'amount_details', 'amount_to_confirm', 'capture_method', 'confirmation_token',
  'error_on_requires_action', 'excluded_payment_method_types', 'hooks', 'mandate', 'mandate_data', 'off_session',
  'payment_details', 'payment_method', 'payment_method_data', 'payment_method_options', 'radar_options', 'receipt_email',
  'return_url', 'setup_future_usage', 'shipping', 'use_stripe_sdk',
];
export const CAPTURE_PARAMS = [
  'amount_details', 'amount_to_capture', 'application_fee_amount', 'final_capture', 'hooks', 'metadata', 'payment_details',
  'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data',
];
export function paymentIntent(state: StripeState, id: string): PaymentIntent {
  const pi = state.paymentIntents.get(id);
  if (!pi) throw missing('payment_intent', id);
  return pi;
}

/** `off_session` is a boolean or `one_off` / `recurring`. */
function offSession(p: Params): boolean | null {
  const v = p.str('off_session');
  if (v === null) return null;
  if (v === 'one_off' || v === 'recurring') return true;
  return p.bool('off_session');
}

export function createPaymentIntent(state: StripeState, p: Params, ctx: RequestContext): PaymentIntent {
  const currency = p.required('currency').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidParam('currency', `Invalid currency: ${currency}`);
  const amount = validAmount(p, 'amount', currency);
  const customer = p.str('customer');
  if (customer) state.customer(customer, 'customer');
  const confirm = p.bool('confirm') ?? false;
  const off = offSession(p);
  if (off !== null && !confirm) throw invalidParam('off_session', 'You may only specify `off_session` when `confirm` is true.');
  const pmId = p.str('payment_method');
  if (confirm && !pmId) {
    throw invalidParam('payment_method', "You cannot confirm this PaymentIntent because it's missing a payment method.", 'parameter_missing');
  }
  const pm = pmId ? state.paymentMethod(pmId) : null;
  const allowed = p.form.allowed_payment_method_types;
  const apm = p.obj('automatic_payment_methods');
  const id = newId('pi');
  const pi: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    allowed_payment_method_types: Array.isArray(allowed) ? allowed : null,
    // Automatic payment methods are on by default (since 2023-08-16).
    automatic_payment_methods: apm
      ? { allow_redirects: apm.allow_redirects ?? 'always', enabled: apm.enabled === 'true' }
      : { allow_redirects: 'always', enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: p.oneOf('capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? 'automatic_async',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: p.oneOf('confirmation_method', ['automatic', 'manual'] as const) ?? 'automatic',
    created: state.now(),
    currency,
    customer,
    customer_account: null,
    description: p.str('description'),
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: p.metadata(),
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: p.str('receipt_email'),
    review: null,
    setup_future_usage: p.oneOf('setup_future_usage', ['off_session', 'on_session'] as const),
    shipping: null,
    source: null,
    statement_descriptor: p.str('statement_descriptor'),
    statement_descriptor_suffix: p.str('statement_descriptor_suffix'),
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: null,
    transfer_group: p.str('transfer_group'),
  };
  state.paymentIntents.set(id, pi);
  state.emit('payment_intent.created', pi, ctx);
  if (confirm && pm) {
    requireReturnUrl(pi, p);
    confirmWith(state, pi, pm, off ?? false, ctx);
  }
  return pi;
}

export function updatePaymentIntent(state: StripeState, pi: PaymentIntent, p: Params): PaymentIntent {
  const changesPayment = ['amount', 'currency', 'payment_method', 'capture_method', 'customer'].some((k) => p.has(k));
  if (changesPayment && !PRE_CONFIRM.includes(pi.status)) {
    throw unexpectedState(`This PaymentIntent's amount, currency, customer, payment_method or capture_method could not be updated because it has a status of ${pi.status}.`);
  }
  if (p.has('currency')) pi.currency = p.required('currency').toLowerCase();
  if (p.has('amount')) pi.amount = validAmount(p, 'amount', pi.currency);
  if (p.has('customer')) pi.customer = p.str('customer') && state.customer(p.required('customer'), 'customer').id;
  if (p.has('capture_method')) pi.capture_method = p.oneOf('capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? 'automatic_async';
  if (p.has('payment_method')) {
    const id = p.str('payment_method');
    pi.payment_method = id ? state.paymentMethod(id).id : null;
    pi.status = pi.payment_method ? 'requires_confirmation' : 'requires_payment_method';
  }
  for (const f of ['description', 'receipt_email', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_group'] as const) {
    if (p.has(f)) pi[f] = p.str(f);
  }
  pi.metadata = p.metadata(pi.metadata);
  return pi;
}

export function confirmPaymentIntent(state: StripeState, pi: PaymentIntent, p: Params, ctx: RequestContext): PaymentIntent {
  if (!PRE_CONFIRM.includes(pi.status)) {
    throw unexpectedState(`You cannot confirm this PaymentIntent because it has a status of ${pi.status}.`);
  }
  if (p.has('amount_to_confirm')) validAmount(p, 'amount_to_confirm', pi.currency);
  const pmId = p.str('payment_method') ?? pi.payment_method;
  if (!pmId) throw invalidParam('payment_method', "You cannot confirm this PaymentIntent because it's missing a payment method.", 'parameter_missing');
  requireReturnUrl(pi, p);
  confirmWith(state, pi, state.paymentMethod(pmId), offSession(p) ?? false, ctx);
  return pi;
}

/**
 * Confirming server-side an intent whose automatic payment methods may redirect needs a
 * `return_url`, even off-session: pass one, or `automatic_payment_methods[allow_redirects]=never`,
 * or limit `allowed_payment_method_types` to card (the stand-in's reading of it).
 */
function requireReturnUrl(pi: PaymentIntent, p: Params): void {
  const apm = pi.automatic_payment_methods as { enabled: boolean; allow_redirects: string } | null;
  const allowed = pi.allowed_payment_method_types as string[] | null;
  const mayRedirect = !allowed || allowed.some((t) => t !== 'card' && t !== 'link');
  if (apm?.enabled && apm.allow_redirects !== 'never' && mayRedirect && !p.str('return_url')) {
    throw invalidParam(
      'return_url',
      'return_url must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.',
      'parameter_missing',
    );
  }
}

/** Authorises now, or declines (402), or asks for authentication (3DS test cards). */
function confirmWith(state: StripeState, pi: PaymentIntent, pm: PaymentMethod, off: boolean, ctx: RequestContext): void {
  if (pi.customer && pm.customer && pm.customer !== pi.customer) {
    throw invalidParam('payment_method', `The provided PaymentMethod ${pm.id} belongs to another customer.`, 'payment_method_unexpected_state');
  }
  // A PaymentMethod used once without being attached to a Customer is spent: Stripe refuses it again
  // ("…may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first").
  if (!pm.customer && [...state.charges.values()].some((ch) => ch.payment_method === pm.id)) {
    throw invalidParam(
      'payment_method',
      `The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.`,
      'payment_method_unexpected_state',
    );
  }
  pi.payment_method = pm.id;
  const behaviour = state.cardBehaviour.get(pm.id);
  let decline = ctx.takeDecline() ?? behaviour?.decline ?? null;
  if (!decline && behaviour?.authenticationRequired) {
    if (off) {
      decline = { code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' };
    } else {
      pi.status = 'requires_action';
      pi.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: 'https://hooks.stripe.com/3d_secure_2/hosted' } };
      state.emit('payment_intent.requires_action', pi, ctx);
      return;
    }
  }
  if (decline) throw declineIntent(state, pi, pm, decline, ctx);
  authoriseIntent(state, pi, pm, pi.amount, ctx);
}

export function capturePaymentIntent(state: StripeState, pi: PaymentIntent, p: Params, ctx: RequestContext): PaymentIntent {
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  const amount = validAmount(p, 'amount_to_capture', pi.currency, p.int('amount_to_capture') ?? pi.amount_capturable);
  if (amount > pi.amount_capturable) {
    throw new StripeApiError(400, {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount_to_capture',
      message: `The amount to capture (${amount}) must be less than or equal to the amount capturable (${pi.amount_capturable}).`,
    });
  }
  pi.metadata = p.metadata(pi.metadata);
  const ch = charge(state, pi.latest_charge!);
  ch.captured = true;
  ch.amount_captured = amount;
  ch.balance_transaction = newId('txn');
  pi.amount_received = amount;
  pi.amount_capturable = 0; // the rest of the hold is released
  pi.status = 'succeeded';
  state.emit('charge.captured', ch, ctx);
  state.emit('payment_intent.succeeded', pi, ctx);
  return pi;
}

export function cancelPaymentIntent(state: StripeState, pi: PaymentIntent, p: Params | null, ctx: RequestContext): PaymentIntent {
  if (!CANCELABLE.includes(pi.status)) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
    );
  }
  pi.status = 'canceled';
  pi.canceled_at = state.now();
  pi.cancellation_reason = p ? p.oneOf('cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const) : 'automatic';
  pi.amount_capturable = 0;
  state.emit('payment_intent.canceled', pi, ctx);
  return pi;
}

/**
 * Authorisations not captured by `capture_before` are released: the intent is canceled
 * (`automatic`), with `charge.expired` ("Occurs whenever an uncaptured charge expires",
 * https://docs.stripe.com/api/events/types) and `payment_intent.canceled`.
 */
export function expireAuthorizations(state: StripeState): void {
  const now = state.now();
  for (const pi of state.paymentIntents.values()) {
    if (pi.status !== 'requires_capture' || !pi.latest_charge) continue;
    const ch = state.charges.get(pi.latest_charge);
    const before = ch?.payment_method_details.card.capture_before;
    if (!ch || before === undefined || before > now) continue;
    state.emit('charge.expired', ch, NO_REQUEST);
    cancelPaymentIntent(state, pi, null, NO_REQUEST);
  }
}

export interface AuthorizeOptions {
  /** Authorised amount (a partial authorisation when below the intent's amount). */
  amount?: number;
  /** A stored or `pm_card_*` payment method; default a new Visa 4242. */
  paymentMethod?: string;
  /** Simulate the sheet's card being declined instead (`true` = generic_decline, or a decline_code). */
  decline?: boolean | string;
}

/** The mobile PaymentSheet completing: authorise (manual) or succeed, and save the card on the customer. */
export function authorizePaymentIntent(state: StripeState, id: string, opts: AuthorizeOptions = {}): PaymentIntent {
  const pi = paymentIntent(state, id);
  if (!PRE_CONFIRM.includes(pi.status)) throw new Error(`authorize(${id}): the intent is ${pi.status}`);
  const amount = opts.amount ?? pi.amount;
  if (!Number.isInteger(amount) || amount < 1 || amount > pi.amount) throw new Error(`authorize(${id}): amount must be 1..${pi.amount}`);
  const pm = opts.paymentMethod ? state.paymentMethod(opts.paymentMethod) : newPaymentMethod(state);
  if (pi.customer) {
    pm.customer = pi.customer;
    state.customer(pi.customer).invoice_settings.default_payment_method = pm.id;
  }
  if (opts.decline) {
    const code = typeof opts.decline === 'string' ? opts.decline : 'generic_decline';
    declineIntent(state, pi, pm, { code: 'card_declined', decline_code: code, message: 'Your card was declined.' }, NO_REQUEST);
  } else {
    authoriseIntent(state, pi, pm, amount, NO_REQUEST);
  }
  return pi;
}
