/**
 * stripe-stand-in, part: the simple resources — customers, attaching payment methods,
 * ephemeral keys and customer sessions.
 */
import { invalidParam, newId, randomToken, StripeApiError, type FormValue, type Params, type StripeObject } from './util.js';
import type { Customer, PaymentMethod, RequestContext, StripeState } from './store.js';

const CUSTOMER_COMMON = [
  'address', 'balance', 'business_name', 'cash_balance', 'description', 'email', 'individual_name', 'invoice_prefix',
  'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'phone', 'preferred_locales', 'shipping', 'source', 'tax',
  'tax_exempt', 'validate',
];
export const CUSTOMER_CREATE_PARAMS = [...CUSTOMER_COMMON, 'payment_method', 'tax_id_data', 'test_clock'];
export const CUSTOMER_UPDATE_PARAMS = [...CUSTOMER_COMMON, 'default_source'];

export function upsertCustomer(state: StripeState, p: Params, existing?: Customer): Customer {
  const c: Customer = existing ?? {
    id: newId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: state.now(),
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
  for (const f of ['email', 'name', 'phone', 'description', 'business_name', 'individual_name'] as const) if (p.has(f)) c[f] = p.str(f);
  c.metadata = p.metadata(c.metadata);
  const pmId = p.str('payment_method');
  if (pmId) state.paymentMethod(pmId).customer = c.id;
  const inv = p.obj('invoice_settings');
  if (inv && 'default_payment_method' in inv) {
    const def = typeof inv.default_payment_method === 'string' && inv.default_payment_method ? inv.default_payment_method : null;
    if (def && state.paymentMethod(def, 'invoice_settings[default_payment_method]').customer !== c.id) {
      throw invalidParam('invoice_settings[default_payment_method]', `The customer does not have a payment method with the ID ${def}.`, 'resource_missing');
    }
    c.invoice_settings.default_payment_method = def;
  }
  state.customers.set(c.id, c);
  return c;
}

/**
 * DELETE /v1/customers/:id (docs.stripe.com/api/customers/delete): permanent. Answers
 * `{id, object: 'customer', deleted: true}`; an unknown or already deleted customer is a 404
 * `resource_missing`. The customer's payment methods are detached (Stripe removes the card
 * details); afterwards it can only be retrieved, as the same deleted stub.
 */
export function deleteCustomer(state: StripeState, id: string): StripeObject {
  state.customer(id);
  state.customers.delete(id);
  state.deletedCustomers.add(id);
  for (const pm of state.paymentMethods.values()) if (pm.customer === id) pm.customer = null;
  return deletedCustomer(id);
}

export const deletedCustomer = (id: string): StripeObject => ({ id, object: 'customer', deleted: true });

export function attachPaymentMethod(state: StripeState, pm: PaymentMethod, customerId: string): void {
  const customer = state.customer(customerId, 'customer');
  if (pm.customer && pm.customer !== customer.id) {
    throw invalidParam('customer', `The payment method you provided has already been attached to a customer.`, 'payment_method_unexpected_state');
  }
  pm.customer = customer.id;
}

export function detachPaymentMethod(state: StripeState, pm: PaymentMethod): void {
  if (!pm.customer) throw invalidParam('payment_method', `The payment method ${pm.id} is not attached to a customer.`, 'payment_method_unexpected_state');
  const c = state.customers.get(pm.customer);
  if (c && c.invoice_settings.default_payment_method === pm.id) c.invoice_settings.default_payment_method = null;
  pm.customer = null;
}

export function createEphemeralKey(state: StripeState, p: Params, ctx: RequestContext): StripeObject {
  if (!ctx.stripeVersion) {
    throw new StripeApiError(
      400,
      { type: 'invalid_request_error', message: 'Stripe-Version header is required when creating an ephemeral key: pass the API version your mobile SDK uses.' },
      false,
    );
  }
  const customer = state.customer(p.required('customer'), 'customer');
  const created = state.now();
  const key: StripeObject = {
    id: newId('ephkey'),
    object: 'ephemeral_key',
    associated_objects: [{ id: customer.id, type: 'customer' }],
    created,
    expires: created + 3600,
    livemode: false,
    secret: `ek_test_${randomToken(48)}`,
  };
  state.ephemeralKeys.set(key.id, key);
  return key;
}

/**
 * The components of a CustomerSession and the features each accepts (stripe-node 23.1.0's
 * CustomerSessionCreateParams for 2026-10-28.endive; the mobile PaymentSheet's is
 * `mobile_payment_element`). Unknown components or features: 400 parameter_unknown.
 */
const SESSION_FEATURES: Record<string, Record<string, readonly string[] | 'filters'>> = {
  active_entitlements: {},
  buy_button: {},
  customer_portal: {},
  pricing_table: {},
  customer_sheet: { payment_method_allow_redisplay_filters: 'filters', payment_method_remove: ['disabled', 'enabled'] },
  mobile_payment_element: {
    payment_method_allow_redisplay_filters: 'filters',
    payment_method_redisplay: ['disabled', 'enabled'],
    payment_method_remove: ['disabled', 'enabled'],
    payment_method_save: ['disabled', 'enabled'],
    payment_method_save_allow_redisplay_override: ['always', 'limited', 'unspecified'],
  },
  payment_element: {
    payment_method_allow_redisplay_filters: 'filters',
    payment_method_redisplay: ['disabled', 'enabled'],
    payment_method_redisplay_limit: [],
    payment_method_remove: ['disabled', 'enabled'],
    payment_method_save: ['disabled', 'enabled'],
    payment_method_save_usage: ['off_session', 'on_session'],
  },
};
const REDISPLAY = ['always', 'limited', 'unspecified'];

/** One component of the answer: every component is present, `enabled`, and `features` (null unless it has some). */
function sessionComponent(name: string, given: { [key: string]: FormValue } | undefined): Record<string, unknown> {
  const param = `components[${name}]`;
  const known = SESSION_FEATURES[name]!;
  for (const k of Object.keys(given ?? {})) {
    if (k !== 'enabled' && !(k === 'features' && Object.keys(known).length > 0)) throw invalidParam(`${param}[${k}]`, `Received unknown parameter: ${param}[${k}]`, 'parameter_unknown');
  }
  if (given && given.enabled !== 'true' && given.enabled !== 'false') throw invalidParam(`${param}[enabled]`, `Missing required param: ${param}[enabled].`, 'parameter_missing');
  const out: Record<string, unknown> = { enabled: given?.enabled === 'true' };
  if (Object.keys(known).length === 0) return out;
  const f = given?.features;
  if (f !== undefined && (typeof f !== 'object' || Array.isArray(f))) throw invalidParam(`${param}[features]`, `Invalid object: ${param}[features]`);
  const features: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f ?? {})) {
    const allowed = known[k];
    const at = `${param}[features][${k}]`;
    if (!allowed) throw invalidParam(at, `Received unknown parameter: ${at}`, 'parameter_unknown');
    if (allowed === 'filters') {
      const list = Array.isArray(v) ? v : [v];
      if (!list.every((x) => typeof x === 'string' && REDISPLAY.includes(x))) throw invalidParam(at, `Invalid ${k}: must be some of ${REDISPLAY.join(', ')}`);
      features[k] = list;
    } else if (allowed.length === 0) {
      if (typeof v !== 'string' || !/^\d+$/.test(v)) throw invalidParam(at, `Invalid integer: ${String(v)}`);
      features[k] = Number(v);
    } else {
      if (typeof v !== 'string' || !allowed.includes(v)) throw invalidParam(at, `Invalid ${k}: must be one of ${allowed.join(', ')}`);
      features[k] = v;
    }
  }
  out.features = f === undefined ? null : { ...Object.fromEntries(Object.keys(known).map((k) => [k, null])), ...features };
  return out;
}

export function createCustomerSession(state: StripeState, p: Params): StripeObject {
  const given = p.obj('components');
  if (!given) throw invalidParam('components', 'Missing required param: components.', 'parameter_missing');
  for (const k of Object.keys(given)) {
    if (!SESSION_FEATURES[k]) throw invalidParam(`components[${k}]`, `Received unknown parameter: components[${k}]`, 'parameter_unknown');
    if (typeof given[k] !== 'object' || Array.isArray(given[k])) throw invalidParam(`components[${k}]`, `Invalid object: components[${k}]`);
  }
  const components = Object.fromEntries(
    Object.keys(SESSION_FEATURES).map((name) => [name, sessionComponent(name, given[name] as { [key: string]: FormValue } | undefined)]),
  ) as Record<string, { enabled: boolean }>;
  if (!Object.values(components).some((c) => c.enabled)) {
    throw invalidParam('components', 'At least one component must be enabled.', 'parameter_missing');
  }
  const customer = state.customer(p.required('customer'), 'customer');
  const created = state.now();
  const session: StripeObject = {
    id: newId('cuss'),
    object: 'customer_session',
    client_secret: `cuss_secret_${randomToken(48)}`,
    components,
    created,
    customer: customer.id,
    customer_account: null,
    expires_at: created + 1800,
    livemode: false,
  };
  state.customerSessions.push(session);
  const { id: _id, ...wire } = session; // Stripe's customer_session has no id; the stand-in keeps one for state()
  return wire as StripeObject;
}
