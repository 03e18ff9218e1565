/**
 * Requests for test/node/hostile-input.test.ts: a baseline per operation in /openapi.json
 * that passes authentication and validation (from the schema, or a fixture where JSON Schema
 * cannot say what passes), and the field cases to mutate on top of it.
 */
import { expect } from 'vitest';
import type { ApiResponse } from './client.js';
import { uniqueEmail } from './client.js';
import { actor, address, slot, uniquePrefix, zone, type Actor } from './fixtures.js';
import type { TestApp } from './node-app.js';
import { bodyField, getAt, leaves, operations, resolve, sample, setAt, type Operation, type Schema } from './openapi-walk.js';

export interface Fixtures {
  customer: Actor;
  admin: Actor;
  password: string;
  refreshToken: string;
  zone: { id: string; postcode: string };
  slotId: string;
  addressId: string;
  spareAddressId: string;
  orderId: string;
  cancellableOrderId: string;
  /** An inbox entry of `customer` (the outbox row the order's confirmation wrote). */
  notificationId: string;
  /** A second session of `customer` (a login), which DELETE /v1/me/sessions/{id} may end. */
  sessionId: string;
  /** Another customer, for the operations that change the password or delete the account. */
  spare: { email: string; token: string };
  /**
   * A third customer, for DELETE /v1/me/sessions: logging out everywhere ends the caller's own
   * session too, and its access token is refused from then on (src/db/role-check.ts).
   */
  everywhere: { email: string; token: string };
  serviceId: string;
  addOnId: string;
  washFold: { id: string; addOnId: string };
  pickupSlotId: string;
  deliverySlotId: string;
  promoCodeId: string;
}

export interface Baseline {
  token?: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

let t: TestApp;
let doc: Schema;
let f: Fixtures;

/** Hand-written bodies where JSON Schema cannot say what passes (refinements, uniqueness, real ids). */
export function bodyFixture(key: string): unknown {
  const n = crypto.randomUUID().slice(0, 8);
  const bodies: Record<string, () => unknown> = {
    'POST /v1/auth/register': () => ({ email: uniqueEmail('hostile'), password: 'a long enough password', name: 'Ada' }),
    'POST /v1/auth/login': () => ({ email: f.customer.email, password: f.password }),
    'POST /v1/auth/refresh': () => ({ refreshToken: f.refreshToken }),
    'POST /v1/auth/logout': () => ({ refreshToken: 'x'.repeat(40) }),
    'POST /v1/me/password': () => ({ currentPassword: f.password, newPassword: f.password }),
    // A wrong password: 403 current_password_incorrect after validation, and no account is erased.
    'DELETE /v1/me': () => ({ password: `not the password ${n}` }),
    // Not a JWS: refused as `malformed` before any key set is fetched.
    'POST /v1/auth/oauth/apple': () => ({ idToken: `not-a-jwt-${n}-${'x'.repeat(20)}`, nonce: `nonce-${n}-0123456789` }),
    'POST /v1/auth/oauth/google': () => ({ idToken: `not-a-jwt-${n}-${'x'.repeat(20)}`, nonce: `nonce-${n}-0123456789`, name: 'Ada' }),
    'POST /v1/admin/services': () => ({ slug: `svc-${n}`, name: 'Hostile', pricingModel: 'per_item', unitPrice: 100, turnaroundHours: 48 }),
    'PATCH /v1/admin/services/{id}': () => ({ name: 'Hostile renamed', description: 'Edited' }),
    'POST /v1/admin/services/{id}/add-ons': () => ({ slug: `addon-${n}`, name: 'Extra', price: 100 }),
    'PATCH /v1/admin/add-ons/{id}': () => ({ name: 'Extra renamed' }),
    'POST /v1/addresses': () => ({ line1: '1 Test Street', city: 'Testville', postcode: f.zone.postcode }),
    'PATCH /v1/addresses/{id}': () => ({ label: 'Work' }),
    'PATCH /v1/me': () => ({ name: 'Ada', phone: '+447700900123', locale: 'en-GB' }),
    'PATCH /v1/me/notification-preferences': () => ({ out_for_delivery: { sms: false }, refund_issued: { push: true } }),
    'POST /v1/admin/zones': () => ({
      name: `Zone ${n}`,
      postcodePrefixes: [uniquePrefix()],
      timeZone: 'Europe/London',
      deliveryFee: 0,
      minimumOrder: 0,
      freeDeliveryFrom: null,
    }),
    'PATCH /v1/admin/zones/{id}': () => ({ name: `Zone ${n}` }),
    'POST /v1/admin/zones/{id}/slots': () => ({ kind: 'pickup', startsAt: '2030-01-07T09:00:00Z', endsAt: '2030-01-07T11:00:00Z', capacity: 5 }),
    'POST /v1/admin/zones/{id}/slots/generate': () => ({
      cutoffMinutes: 60,
      windows: [{ weekday: 1, start: '09:00', end: '11:00', kind: 'delivery', capacity: 5 }],
      from: '2030-01-07',
      to: '2030-01-13',
    }),
    'PATCH /v1/admin/slots/{id}': () => ({ capacity: 20 }),
    'POST /v1/admin/zones/{id}/closures': () => ({ date: '2030-12-25', reason: 'Holiday' }),
    'POST /v1/orders': () => ({
      items: [{ serviceId: f.washFold.id, estimatedWeightGrams: 6000, addOnIds: [f.washFold.addOnId] }],
      addressId: f.addressId,
      pickupSlotId: f.pickupSlotId,
      deliverySlotId: f.deliverySlotId,
      paymentMethod: 'on_delivery',
      notes: 'Ring twice',
    }),
    'POST /v1/orders/{id}/cancel': () => ({ reason: 'Changed my mind' }),
    'POST /v1/admin/promo-codes': () => ({ code: `HOSTILE-${n}`, kind: 'percent', value: 1000 }),
    'PATCH /v1/admin/promo-codes/{id}': () => ({ active: true, maxRedemptions: 1000 }),
    'POST /v1/admin/users/{id}/credit': () => ({ amount: 100, reason: 'goodwill', note: 'Hostile' }),
    'POST /v1/me/recurring-pickups': () => ({
      cadence: 'weekly',
      anchorDate: '2030-01-07',
      pickupStart: '09:00',
      deliveryDaysAfter: 2,
      deliveryStart: '09:00',
      addressId: f.addressId,
      items: [{ serviceId: f.washFold.id, estimatedWeightGrams: 6000 }],
      paymentMethod: 'on_delivery',
    }),
    'PATCH /v1/me/recurring-pickups/{id}': () => ({ status: 'paused' }),
    'POST /v1/me/recurring-pickups/{id}/skip': () => ({ date: '2030-01-07' }),
    'POST /v1/staff/orders/{id}/transitions': () => ({ to: 'picked_up', bagCount: 2, note: 'Two bags' }),
    // The order's own slots: a valid no-op (200, changed: false) that passes authentication and validation.
    'POST /v1/orders/{id}/reschedule': () => ({ pickupSlotId: f.pickupSlotId, deliverySlotId: f.deliverySlotId }),
    'POST /v1/staff/orders/{id}/reschedule': () => ({ pickupSlotId: f.pickupSlotId, deliverySlotId: f.deliverySlotId }),
    'POST /v1/staff/orders/{id}/weigh-in': () => ({ weightGrams: 5000, note: 'Weighed' }),
    'POST /v1/staff/orders/{id}/refunds': () => ({ amount: 100, reason: 'Stain on a shirt' }),
    'POST /v1/staff/orders/{id}/payments': () => ({ method: 'cash', amount: 100 }),
    'POST /v1/orders/{id}/tip': () => ({ amount: 300 }),
    'POST /v1/staff/orders/{id}/tip': () => ({ amount: 300 }),
  };
  return bodies[key]?.();
}

const QUERY_FIXTURES: Record<string, () => Record<string, string>> = {
  'GET /v1/coverage': () => ({ postcode: f.zone.postcode }),
  'GET /v1/slots': () => ({ postcode: f.zone.postcode, kind: 'pickup' }),
};

/** Which fixture a path `{id}` names, by the collection it follows. */
function pathId(o: Operation, segment: string): string {
  const ids: Record<string, string> = {
    services: f.serviceId,
    'add-ons': f.addOnId,
    addresses: o.method === 'DELETE' ? f.spareAddressId : f.addressId,
    zones: f.zone.id,
    slots: f.slotId,
    orders: o.key.endsWith('/cancel') ? f.cancellableOrderId : f.orderId,
    notifications: f.notificationId,
    sessions: f.sessionId,
    'promo-codes': f.promoCodeId,
    // The credit grant needs a real customer; DELETE must name nobody's id (404 after validation),
    // so no fixture account is erased.
    users: o.key.startsWith('DELETE') ? '00000000-0000-4000-8000-000000000000' : f.customer.userId,
    // No schedule has this id: the walk proves validation and no 5xx (404 not_found); found ones are test/node/recurring.test.ts's.
    'recurring-pickups': '00000000-0000-4000-8000-000000000019',
  };
  const id = ids[segment];
  if (!id) throw new Error(`${o.key}: no fixture id for a {id} after /${segment}/ — add one to pathId()`);
  return id;
}

export function baseline(o: Operation): Baseline {
  const secured = (o.op.security ?? []).length > 0;
  const staffOrAdmin = o.path.startsWith('/v1/admin/') || o.path.startsWith('/v1/staff/');
  const pathParams: Record<string, string> = {};
  const query: Record<string, string> = { ...QUERY_FIXTURES[o.key]?.() };
  const headers: Record<string, string> = {};
  for (const p of o.parameters) {
    if (p.in === 'path') {
      const segments = o.path.split('/');
      const before = segments[segments.indexOf(`{${p.name}}`) - 1]!;
      pathParams[p.name] = p.name === 'id' ? pathId(o, before) : String(sample(doc, p.schema));
    } else if (p.in === 'header') {
      // Optional headers (payment-sheet's Stripe-Version) are left out: the baseline is the plain request.
      if (p.name === 'idempotency-key') headers[p.name] = `hostile-${crypto.randomUUID()}`;
      else if (p.required) headers[p.name] = String(sample(doc, p.schema));
    } else if (p.required && query[p.name] === undefined) {
      query[p.name] = String(sample(doc, p.schema));
    }
  }
  const body = o.body ? (bodyFixture(o.key) ?? sample(doc, o.body)) : undefined;
  // Ending every session or changing the password must not log the shared customer out.
  const own = o.key === 'DELETE /v1/me/sessions' ? f.everywhere.token : ['POST /v1/me/password', 'DELETE /v1/me'].includes(o.key) ? f.spare.token : f.customer.token;
  return { ...(secured ? { token: staffOrAdmin ? f.admin.token : own } : {}), pathParams, query, headers, body };
}

export interface Mutation {
  pathParams?: Record<string, string>;
  /** Raw (already encoded) query values, to send bytes encodeURIComponent refuses. */
  rawQuery?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes as its invalid UTF-8 bytes. */
function encodePathSegment(value: string): string {
  return value
    .split(/([\uD800-\uDFFF])/u)
    .map((part, i) => (i % 2 === 1 ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

export function send(o: Operation, b: Baseline, m: Mutation = {}): Promise<ApiResponse> {
  const params = { ...b.pathParams, ...m.pathParams };
  let url = o.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePathSegment(params[name] ?? ''));
  const query = Object.entries({ ...b.query, ...m.query }).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  query.push(...Object.entries(m.rawQuery ?? {}).map(([k, v]) => `${k}=${v}`));
  if (query.length) url += `?${query.join('&')}`;
  const body = 'body' in m ? m.body : b.body;
  return t.api.send(o.method, url, body, { ...(b.token ? { token: b.token } : {}), headers: { ...b.headers, ...m.headers } });
}

/** What every answer must be: no 5xx, and a 4xx is problem+json with a code. Returns the failure, if any. */
export function badAnswer(res: ApiResponse): string | undefined {
  if (res.status >= 500) return `${res.status} ${res.text.slice(0, 200)}`;
  if (res.status >= 400) {
    if (!res.headers.get('content-type')?.includes('application/problem+json')) return `${res.status} without problem+json`;
    if (typeof res.body?.code !== 'string') return `${res.status} without a code`;
  }
  return undefined;
}

/** The answer must be 422 validation_failed naming `field`. Returns the failure, if any. */
export function notRejected(res: ApiResponse, field: string): string | undefined {
  const bad = badAnswer(res);
  if (bad) return bad;
  const fields: string[] = (res.body?.errors ?? []).map((e: { field: string }) => e.field);
  if (res.status !== 422 || res.body.code !== 'validation_failed' || !fields.includes(field)) {
    return `${res.status} ${res.body?.code ?? ''} errors=${JSON.stringify(fields)} (wanted 422 validation_failed on ${field})`;
  }
  return undefined;
}

/** One case per field the document declares, sent on top of the operation's baseline. */
export interface FieldCase {
  o: Operation;
  b: Baseline;
  field: string;
  schema: Schema;
  with(value: unknown): Mutation;
  /** Header values cannot carry NUL or lone surrogates (the Fetch API refuses them). */
  header: boolean;
  location: 'path' | 'query' | 'header' | 'body';
}

export function fieldCases(): FieldCase[] {
  const out: FieldCase[] = [];
  for (const o of operations(doc)) {
    const b = baseline(o);
    for (const p of o.parameters) {
      const schema = resolve(doc, p.schema);
      const field = p.in === 'path' ? `param.${p.name}` : `${p.in}.${p.name}`;
      const withValue = (v: unknown): Mutation =>
        p.in === 'path' ? { pathParams: { [p.name]: String(v) } } : p.in === 'query' ? { query: { [p.name]: String(v) } } : { headers: { [p.name]: String(v) } };
      out.push({ o, b, field, schema, with: withValue, header: p.in === 'header', location: p.in });
    }
    if (o.body) {
      const bodySchema = o.body;
      for (const leaf of leaves(doc, bodySchema)) {
        out.push({
          o,
          b,
          field: bodyField(leaf.path),
          schema: leaf.schema,
          with: (v) => ({ body: setAt(doc, bodySchema, b.body, leaf.path, v) }),
          header: false,
          location: 'body',
        });
      }
    }
  }
  return out;
}

/** A plausible string for the field to carry the hostile character in. */
export function stringBase(c: FieldCase): string {
  const current = c.location === 'body' ? getAt(c.b.body, c.field.split('.').slice(1).map((k) => (/^\d+$/.test(k) ? Number(k) : k))) : undefined;
  if (typeof current === 'string') return current;
  const s = sample(doc, c.schema);
  return typeof s === 'string' ? s : 'x';
}

/** Builds the app's fixtures (users of each role, a zone with slots, addresses, services, two orders). */
export async function setupHostile(app: TestApp): Promise<{ doc: Schema; f: Fixtures }> {
  t = app;
  doc = (await t.api.get('/openapi.json')).body;

  const password = 'fixture password';
  const email = uniqueEmail('hostile');
  const reg = await t.api.post('/v1/auth/register', { email, password });
  expect(reg.status, reg.text).toBe(201);
  const customer = { email, userId: reg.body.user.id, token: reg.body.accessToken };
  const admin = await actor(t, 'admin');
  const z = await zone(t);
  const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
  const delivery = await slot(t, z.id, 'delivery', { startsInHours: 24 + 2 + 48 + 4 });
  const addressId = await address(t, customer.userId, z.postcode);
  const spareAddressId = await address(t, customer.userId, z.postcode);
  const services = (await t.api.get('/v1/services')).body.data;
  const washFold = services.find((s: { slug: string }) => s.slug === 'wash-and-fold');
  const svc = await t.api.post(
    '/v1/admin/services',
    { slug: `hostile-${crypto.randomUUID().slice(0, 8)}`, name: 'Hostile', pricingModel: 'per_item', unitPrice: 100, turnaroundHours: 48, addOns: [{ slug: 'extra', name: 'Extra', price: 50 }] },
    { token: admin.token },
  );
  expect(svc.status, svc.text).toBe(201);
  f = {
    customer,
    admin,
    password,
    refreshToken: reg.body.refreshToken,
    zone: z,
    slotId: pickup.id,
    addressId,
    spareAddressId,
    orderId: '',
    cancellableOrderId: '',
    notificationId: '',
    sessionId: '',
    spare: { email: '', token: '' },
    everywhere: { email: '', token: '' },
    serviceId: svc.body.id,
    addOnId: svc.body.addOns[0].id,
    washFold: { id: washFold.id, addOnId: washFold.addOns[0].id },
    pickupSlotId: pickup.id,
    deliverySlotId: delivery.id,
    promoCodeId: '',
  };
  const promo = await t.api.post('/v1/admin/promo-codes', { code: `HOSTILE-${crypto.randomUUID().slice(0, 8)}`, kind: 'amount', value: 100 }, { token: admin.token });
  expect(promo.status, promo.text).toBe(201);
  f.promoCodeId = promo.body.id as string;
  const place = async () => {
    const res = await t.api.post('/v1/orders', bodyFixture('POST /v1/orders'), {
      token: customer.token,
      headers: { 'idempotency-key': `hostile-${crypto.randomUUID()}` },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  f.orderId = await place();
  f.cancellableOrderId = await place();
  const [inbox] = await t.sql<{ id: string }>('SELECT id::text AS id FROM notification_outbox WHERE user_id = $1 ORDER BY id LIMIT 1', [customer.userId]);
  expect(inbox, 'a pay-on-delivery order writes an order_confirmed outbox row').toBeDefined();
  f.notificationId = inbox!.id;
  const second = await t.api.post('/v1/auth/login', { email, password });
  expect(second.status, second.text).toBe(200);
  const sessions = await t.api.get('/v1/me/sessions', { token: second.body.accessToken });
  f.sessionId = (sessions.body.data as Array<{ id: string; current: boolean }>).find((s) => s.current)!.id;
  const spareEmail = uniqueEmail('hostile-spare');
  const spare = await t.api.post('/v1/auth/register', { email: spareEmail, password });
  expect(spare.status, spare.text).toBe(201);
  f.spare = { email: spareEmail, token: spare.body.accessToken };
  const everywhereEmail = uniqueEmail('hostile-everywhere');
  const everywhere = await t.api.post('/v1/auth/register', { email: everywhereEmail, password });
  expect(everywhere.status, everywhere.text).toBe(201);
  f.everywhere = { email: everywhereEmail, token: everywhere.body.accessToken };
  return { doc, f };
}
