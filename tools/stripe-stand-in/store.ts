/**
 * stripe-stand-in, part: the object types and the in-memory state (objects, clock, emitted
 * events), lookups, lists and `expand[]`.
 */
import {
  clone,
  invalidParam,
  missing,
  newId,
  randomToken,
  StripeApiError,
  testCard,
  type FormValue,
  type Params,
  type StripeObject,
  type TestCard,
} from './util.js';

import type { Refund } from './refunds.js';

export const DEFAULT_API_VERSION = '2026-10-28.endive';

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export interface Customer extends StripeObject {
  object: 'customer';
  email: string | null;
  metadata: Record<string, string>;
  invoice_settings: { default_payment_method: string | null; [key: string]: unknown };
}

export interface PaymentMethod extends StripeObject {
  object: 'payment_method';
  customer: string | null;
  card: { brand: string; last4: string; [key: string]: unknown };
}

export interface PaymentIntent extends StripeObject {
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  status: PaymentIntentStatus;
  payment_method: string | null;
  latest_charge: string | null;
  last_payment_error: unknown;
  next_action: unknown;
  canceled_at: number | null;
  cancellation_reason: string | null;
  created: number;
  metadata: Record<string, string>;
}

export interface Charge extends StripeObject {
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  refunded: boolean;
  disputed: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  currency: string;
  customer: string | null;
  payment_intent: string | null;
  payment_method: string | null;
  created: number;
  payment_method_details: { type: 'card'; card: { capture_before?: number; [key: string]: unknown } };
}

export interface StripeEvent {
  id: string;
  object: 'event';
  type: string;
  api_version: string;
  created: number;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
}

/** What a handler knows of the API request it serves. */
export interface RequestContext {
  requestId: string | null;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  /** Consumes a pending `failNext({mode: 'decline'})` rule for this confirming request, if any. */
  takeDecline(): TestCard['decline'] | null;
}

export const NO_REQUEST: RequestContext = {
  requestId: null,
  idempotencyKey: null,
  stripeVersion: null,
  takeDecline: () => null,
};

export interface ListObject {
  object: 'list';
  data: StripeObject[];
  has_more: boolean;
  url: string;
}

export class StripeState {
  customers = new Map<string, Customer>();
  /** Ids of customers deleted (DELETE /v1/customers/:id): retrievable as `{id, object, deleted: true}`, nothing else. */
  deletedCustomers = new Set<string>();
  paymentMethods = new Map<string, PaymentMethod>();
  paymentIntents = new Map<string, PaymentIntent>();
  charges = new Map<string, Charge>();
  refunds = new Map<string, Refund>();
  disputes = new Map<string, StripeObject & { charge: string }>();
  ephemeralKeys = new Map<string, StripeObject>();
  customerSessions: StripeObject[] = [];
  /** Events the state changes emitted, oldest first (Stripe may deliver them in any order). */
  events: StripeEvent[] = [];
  /** Test behaviour of payment methods made from `pm_card_*` test ids (not part of their JSON). */
  cardBehaviour = new Map<string, TestCard>();
  /** Added to the wall clock by `advanceTime`. */
  clockOffsetMs = 0;

  constructor(readonly apiVersion = DEFAULT_API_VERSION) {}

  reset(): void {
    for (const m of [this.customers, this.paymentMethods, this.paymentIntents, this.charges, this.refunds]) m.clear();
    for (const m of [this.disputes, this.ephemeralKeys, this.cardBehaviour]) m.clear();
    this.customerSessions = [];
    this.deletedCustomers.clear();
    this.events = [];
    this.clockOffsetMs = 0;
  }

  /** The stand-in's clock in ms: the wall clock plus what `advanceTime` added. */
  nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Unix seconds, like every `created`. */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Any stored object by id (used by expand and event lookup). */
  find(id: string): StripeObject | undefined {
    for (const m of [this.customers, this.paymentIntents, this.charges, this.refunds, this.paymentMethods, this.disputes]) {
      const o = (m as Map<string, StripeObject>).get(id);
      if (o) return o;
    }
    return this.events.find((e) => e.id === id) as StripeObject | undefined;
  }

  buildEvent(
    type: string,
    object: StripeObject,
    request: StripeEvent['request'] = { id: null, idempotency_key: null },
    previous?: Record<string, unknown>,
  ): StripeEvent {
    return {
      id: newId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: this.now(),
      data: previous ? { object: clone(object), previous_attributes: clone(previous) } : { object: clone(object) },
      livemode: false,
      pending_webhooks: 1,
      request,
      type,
    };
  }

  /** Records the event a state change emits, with a snapshot of the object as it is now (and, for updates, what changed). */
  emit(type: string, object: StripeObject, ctx: RequestContext, previous?: Record<string, unknown>): void {
    this.events.push(this.buildEvent(type, object, { id: ctx.requestId, idempotency_key: ctx.idempotencyKey }, previous));
  }

  /** All objects, deep-copied, keyed by id. */
  snapshot() {
    const rec = <T>(m: Map<string, T>) => clone(Object.fromEntries(m));
    return {
      customers: rec(this.customers),
      payment_methods: rec(this.paymentMethods),
      payment_intents: rec(this.paymentIntents),
      charges: rec(this.charges),
      refunds: rec(this.refunds),
      disputes: rec(this.disputes),
      ephemeral_keys: rec(this.ephemeralKeys),
      customer_sessions: clone(this.customerSessions),
      deleted_customers: [...this.deletedCustomers],
      events: clone(this.events),
    };
  }

  customer(id: string, param?: string): Customer {
    const c = this.customers.get(id);
    if (!c) throw param ? referenced('customer', id, param) : missing('customer', id);
    return c;
  }

  /** A stored payment method, or a fresh one made from a `pm_card_*` test id, as Stripe does. */
  paymentMethod(id: string, param = 'payment_method'): PaymentMethod {
    const existing = this.paymentMethods.get(id);
    if (existing) return existing;
    const card = testCard(id);
    if (!card) throw referenced('payment_method', id, param, 'PaymentMethod');
    const pm = newPaymentMethod(this, card);
    this.cardBehaviour.set(pm.id, card);
    return pm;
  }

  /** Replaces ids named by `expand[]` paths (`latest_charge`, `data.customer`, `a.b`) with objects. */
  expand(value: StripeObject | ListObject, paths: string[]): unknown {
    const out = clone(value) as unknown;
    const walk = (node: unknown, segments: string[]): void => {
      if (!node || typeof node !== 'object' || segments.length === 0) return;
      const [head, ...rest] = segments as [string, ...string[]];
      const obj = node as Record<string, unknown>;
      if (head === 'data' && Array.isArray(obj.data)) return obj.data.forEach((item) => walk(item, rest));
      const v = obj[head];
      const found = typeof v === 'string' ? this.find(v) : undefined;
      if (found) obj[head] = clone(found);
      walk(obj[head], rest);
    };
    for (const p of paths) walk(out, p.split('.'));
    return out;
  }

  /** Newest first, with `limit`, `starting_after`, `ending_before` and `created[gt|gte|lt|lte]`. */
  list<T extends StripeObject>(items: Iterable<T>, p: Params, url: string): ListObject {
    const limit = p.int('limit') ?? 10;
    if (limit < 1 || limit > 100) throw invalidParam('limit', 'Invalid limit: must be between 1 and 100');
    let data = [...items].reverse().sort((a, b) => Number(b.created ?? 0) - Number(a.created ?? 0));
    const created = p.form.created;
    if (created !== undefined) {
      const bounds: Record<string, FormValue> = typeof created === 'string' ? { eq: created } : (created as Record<string, FormValue>);
      for (const [op, raw] of Object.entries(bounds)) {
        const n = p.int(`created[${op}]`, raw)!;
        const test = { eq: (c: number) => c === n, gt: (c: number) => c > n, gte: (c: number) => c >= n, lt: (c: number) => c < n, lte: (c: number) => c <= n }[op];
        if (!test) throw invalidParam('created', `Invalid created filter: ${op}`);
        data = data.filter((o) => test(Number(o.created)));
      }
    }
    const after = p.str('starting_after');
    const before = p.str('ending_before');
    if (after) data = data.slice(data.findIndex((o) => o.id === after) + 1 || data.length);
    if (before) {
      const i = data.findIndex((o) => o.id === before);
      data = i < 0 ? [] : data.slice(Math.max(0, i - limit), i);
    }
    return { object: 'list', data: clone(data.slice(0, limit)), has_more: data.length > limit, url };
  }
}

/** A missing object named in a parameter: 400 resource_missing (a missing path id is 404). */
function referenced(kind: string, id: string, param: string, label = kind): StripeApiError {
  return new StripeApiError(
    400,
    { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${label}: '${id}'` },
    false,
  );
}

export function newPaymentMethod(state: StripeState, card: Pick<TestCard, 'brand' | 'last4'> = { brand: 'visa', last4: '4242' }): PaymentMethod {
  const pm: PaymentMethod = {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: card.brand,
      exp_month: 12,
      exp_year: new Date().getUTCFullYear() + 3,
      fingerprint: randomToken(16),
      funding: 'credit',
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: state.now(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
  state.paymentMethods.set(pm.id, pm);
  return pm;
}
