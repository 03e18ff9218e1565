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

export function createCustomerSession(state: StripeState, p: Params): StripeObject {
  const customer = state.customer(p.required('customer'), 'customer');
  const components = booleans(p.obj('components') ?? {}) as Record<string, { enabled?: boolean }>;
  if (!Object.values(components).some((c) => c && c.enabled === true)) {
    throw invalidParam('components', 'At least one component must be enabled.', 'parameter_missing');
  }
  const created = state.now();
  const session: StripeObject = {
    id: newId('cuss'),
    object: 'customer_session',
    client_secret: `cuss_secret_${randomToken(48)}`,
    components,
    created,
    customer: customer.id,
    expires_at: created + 1800,
    livemode: false,
  };
  state.customerSessions.push(session);
  const { id: _id, ...wire } = session; // Stripe's customer_session has no id; the stand-in keeps one for state()
  return wire as StripeObject;
}

function booleans(v: FormValue): unknown {
  if (v === 'true' || v === 'false') return v === 'true';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(booleans);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, booleans(x)]));
}
