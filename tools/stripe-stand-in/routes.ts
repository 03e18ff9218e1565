/**
 * stripe-stand-in, part: the `/v1` route table. Each route names the parameters it accepts
 * (anything else is a 400 `parameter_unknown`, as on Stripe) and returns the object to send.
 */
import type { ListObject, RequestContext, StripeState } from './store.js';
import {
  attachPaymentMethod,
  createCustomerSession,
  createEphemeralKey,
  CUSTOMER_CREATE_PARAMS,
  CUSTOMER_UPDATE_PARAMS,
  deleteCustomer,
  deletedCustomer,
  detachPaymentMethod,
  upsertCustomer,
} from './customers.js';
import { charge } from './charges.js';
import { createRefund, REFUND_PARAMS } from './refunds.js';
import {
  CAPTURE_PARAMS,
  cancelPaymentIntent,
  capturePaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  paymentIntent,
  PI_CONFIRM_PARAMS,
  PI_CREATE_PARAMS,
  PI_UPDATE_PARAMS,
  updatePaymentIntent,
} from './payments.js';
import { missing, Params, StripeApiError, type Form, type StripeObject } from './util.js';

type Handler = (state: StripeState, p: Params, id: string, ctx: RequestContext) => StripeObject | ListObject;

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  params: readonly string[];
  handle: Handler;
}

const LIST = ['limit', 'starting_after', 'ending_before', 'created'];
const ID = '([A-Za-z0-9_]+)';

function route(method: Route['method'], path: string, params: readonly string[], handle: Handler): Route {
  return { method, pattern: new RegExp(`^${path.replace(':id', ID)}$`), params, handle };
}

function found<T>(value: T | undefined, kind: string, id: string): T {
  if (value === undefined) throw missing(kind, id);
  return value;
}

const ROUTES: Route[] = [
  route('POST', '/v1/customers', CUSTOMER_CREATE_PARAMS, (s, p) => upsertCustomer(s, p)),
  route('GET', '/v1/customers', [...LIST, 'email', 'test_clock'], (s, p) => {
    const email = p.str('email');
    return s.list([...s.customers.values()].filter((c) => !email || c.email === email), p, '/v1/customers');
  }),
  route('GET', '/v1/customers/:id', [], (s, _p, id) => (s.deletedCustomers.has(id) ? deletedCustomer(id) : s.customer(id))),
  route('DELETE', '/v1/customers/:id', [], (s, _p, id) => deleteCustomer(s, id)),
  route('POST', '/v1/customers/:id', CUSTOMER_UPDATE_PARAMS, (s, p, id) => upsertCustomer(s, p, s.customer(id))),
  route('GET', '/v1/customers/:id/payment_methods', [...LIST, 'type', 'allow_redisplay'], (s, p, id) => {
    s.customer(id);
    const pms = [...s.paymentMethods.values()].filter((pm) => pm.customer === id && (!p.str('type') || pm.type === p.str('type')));
    return s.list(pms, p, `/v1/customers/${id}/payment_methods`);
  }),
  route('GET', '/v1/payment_methods/:id', [], (s, _p, id) => found(s.paymentMethods.get(id), 'payment_method', id)),
  route('POST', '/v1/payment_methods/:id/attach', ['customer'], (s, p, id) => {
    const pm = found(s.paymentMethods.get(id), 'payment_method', id);
    attachPaymentMethod(s, pm, p.required('customer'));
    return pm;
  }),
  route('POST', '/v1/payment_methods/:id/detach', [], (s, _p, id) => {
    const pm = found(s.paymentMethods.get(id), 'payment_method', id);
    detachPaymentMethod(s, pm);
    return pm;
  }),

  route('POST', '/v1/payment_intents', PI_CREATE_PARAMS, (s, p, _id, ctx) => createPaymentIntent(s, p, ctx)),
  route('GET', '/v1/payment_intents', [...LIST, 'customer', 'customer_account'], (s, p) => {
    const customer = p.str('customer');
    return s.list([...s.paymentIntents.values()].filter((pi) => !customer || pi.customer === customer), p, '/v1/payment_intents');
  }),
  route('GET', '/v1/payment_intents/:id', ['client_secret'], (s, _p, id) => paymentIntent(s, id)),
  route('POST', '/v1/payment_intents/:id', PI_UPDATE_PARAMS, (s, p, id) => updatePaymentIntent(s, paymentIntent(s, id), p)),
  route('POST', '/v1/payment_intents/:id/confirm', PI_CONFIRM_PARAMS, (s, p, id, ctx) => confirmPaymentIntent(s, paymentIntent(s, id), p, ctx)),
  route('POST', '/v1/payment_intents/:id/capture', CAPTURE_PARAMS, (s, p, id, ctx) => capturePaymentIntent(s, paymentIntent(s, id), p, ctx)),
  route('POST', '/v1/payment_intents/:id/cancel', ['cancellation_reason'], (s, p, id, ctx) => cancelPaymentIntent(s, paymentIntent(s, id), p, ctx)),

  route('GET', '/v1/charges', [...LIST, 'customer', 'payment_intent', 'transfer_group'], (s, p) => {
    const [customer, pi] = [p.str('customer'), p.str('payment_intent')];
    const charges = [...s.charges.values()].filter((c) => (!customer || c.customer === customer) && (!pi || c.payment_intent === pi));
    return s.list(charges, p, '/v1/charges');
  }),
  route('GET', '/v1/charges/:id', [], (s, _p, id) => charge(s, id)),
  route('POST', '/v1/refunds', REFUND_PARAMS, (s, p, _id, ctx) => createRefund(s, p, ctx)),
  route('GET', '/v1/refunds', [...LIST, 'charge', 'payment_intent'], (s, p) => {
    const [ch, pi] = [p.str('charge'), p.str('payment_intent')];
    const refunds = [...s.refunds.values()].filter((r) => (!ch || r.charge === ch) && (!pi || r.payment_intent === pi));
    return s.list(refunds, p, '/v1/refunds');
  }),
  route('GET', '/v1/refunds/:id', [], (s, _p, id) => found(s.refunds.get(id), 'refund', id)),
  route('GET', '/v1/disputes/:id', [], (s, _p, id) => found(s.disputes.get(id), 'dispute', id)),

  route('POST', '/v1/ephemeral_keys', ['customer', 'issuing_card', 'nonce', 'verification_session'], (s, p, _id, ctx) => createEphemeralKey(s, p, ctx)),
  route('DELETE', '/v1/ephemeral_keys/:id', [], (s, _p, id) => {
    const key = found(s.ephemeralKeys.get(id), 'ephemeral_key', id);
    key.expires = s.now();
    return key;
  }),
  route('POST', '/v1/customer_sessions', ['customer', 'customer_account', 'components'], (s, p) => createCustomerSession(s, p)),

  route('GET', '/v1/events', [...LIST, 'type', 'types', 'delivery_success'], (s, p) => {
    const type = p.str('type');
    const events = s.events.filter((e) => !type || (type.endsWith('*') ? e.type.startsWith(type.slice(0, -1)) : e.type === type));
    return s.list(events as unknown as StripeObject[], p, '/v1/events');
  }),
  route('GET', '/v1/events/:id', [], (s, _p, id) => found(s.events.find((e) => e.id === id), 'event', id) as unknown as StripeObject),
];

/** Runs one `/v1` request against the state; throws StripeApiError for Stripe-shaped failures. */
export function dispatch(state: StripeState, method: string, path: string, form: Form, ctx: RequestContext): unknown {
  let pathMatched = false;
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const p = new Params(form, r.params);
    const result = r.handle(state, p, m[1] ?? '', ctx);
    return state.expand(result, p.expand());
  }
  throw new StripeApiError(
    404,
    {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}).${pathMatched ? ' The path exists with another method.' : ''} The Stripe stand-in emulates only a part of the API; see tools/stripe-stand-in/index.ts.`,
    },
    false,
  );
}
