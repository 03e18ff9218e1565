/**
 * Round trips per endpoint: every operation in GET /openapi.json, called once on the Node app
 * built on the real neon-http driver, counted by the local Neon endpoint (queries + batches,
 * each one HTTP POST to Neon at the edge), as test/node/round-trips.test.ts does.
 */
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createNeonDatabase } from '../../src/db/neon.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';
import { TEST_STRIPE_PUBLISHABLE_KEY, TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET, stripeControl } from '../../test/support/stripe.js';
import { BENCH_JWT_SECRET, expectStatus, httpClient, sqlRows, type Call, type Reply } from './db.js';
import { LOCAL_NEON_CONNECTION_STRING, pgBackend, startLocalNeon } from '../local-neon/index.js';
import { startStripeStandIn } from '../stripe-stand-in/index.js';
import { accountDataSteps, oauthSteps, recoverySteps, recurringSteps, startIdentityProviders, tipSteps, type StepContext, type TipOrders } from './roundtrips-accounts.js';

export interface RoundTripRow {
  endpoint: string;
  variant?: string;
  roundTrips: number;
  queries: number;
  batches: number;
  budget: number;
}

export interface RoundTrips {
  rows: RoundTripRow[];
  /** Operations in the OpenAPI document that no step called, with the reason. */
  missing: Array<{ endpoint: string; reason: string }>;
}

const PASSWORD = 'round trip password';
const HOUR = 3_600_000;
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 24 * HOUR).toISOString().slice(0, 10);

export async function roundTripSection(databaseUrl: string): Promise<RoundTrips> {
  const backend = pgBackend(databaseUrl, { max: 4 });
  const neon = await startLocalNeon({ backend, connectionString: LOCAL_NEON_CONNECTION_STRING });
  const stripe = await startStripeStandIn({});
  const idps = await startIdentityProviders();
  const config = loadConfig({
    APP_ENV: 'test',
    JWT_SECRET: BENCH_JWT_SECRET,
    STRIPE_SECRET_KEY: TEST_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
    STRIPE_PUBLISHABLE_KEY: TEST_STRIPE_PUBLISHABLE_KEY,
    STRIPE_API_URL: stripe.url,
    TRUSTED_PROXY_HOPS: '1',
    ...idps.env,
  });
  const database = createNeonDatabase(LOCAL_NEON_CONNECTION_STRING, { localEndpoint: neon.url });
  // Cheap hashing: the count of round trips does not depend on the cost parameters.
  const deps = createNodeDeps(config, { database, logger: createMemoryLogger(), argon2Params: { memoryKiB: 64, passes: 1, parallelism: 1 } });
  const app = createApp(deps);
  const call: Call = httpClient((req) => Promise.resolve(app.fetch(req)));
  const control = stripeControl(stripe.url);
  const rows: RoundTripRow[] = [];
  const failed = new Map<string, string>();

  /** Operations this Node run cannot call on their success path, and where their count is proved instead. */
  const NOT_HERE: Record<string, string> = {};
  /** Counts what one call costs, including background work it starts (given 30 ms to land). */
  const measure = async (endpoint: string, status: number, send: () => Promise<Reply>, variant?: string, budget = 1): Promise<any> => {
    await new Promise((r) => setTimeout(r, 30));
    neon.resetStats();
    const reply = await send();
    await new Promise((r) => setTimeout(r, 30));
    const s = neon.stats();
    const body = expectStatus(reply, status, `${endpoint}${variant ? ` (${variant})` : ''}`);
    rows.push({ endpoint, ...(variant ? { variant } : {}), roundTrips: s.queries + s.batches, queries: s.queries, batches: s.batches, budget });
    return body;
  };
  /** A group of dependent steps: a failure is recorded against the endpoints it left uncalled. */
  const group = async (name: string, steps: () => Promise<void>) => {
    try {
      await steps();
    } catch (e) {
      failed.set(name, (e as Error).message.slice(0, 300));
    }
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const steps: StepContext = { call, measure, databaseUrl, jwtSecret: BENCH_JWT_SECRET, password: PASSWORD };
  const user = async (role: 'customer' | 'staff' | 'admin') => {
    const email = `rt-${role}-${crypto.randomUUID().slice(0, 8)}@bench.test`;
    const reg = expectStatus(await call('POST', '/v1/auth/register', { email, password: PASSWORD }), 201, 'register');
    if (role === 'customer') return { userId: reg.user.id as string, token: reg.accessToken as string };
    await sqlRows(databaseUrl, 'UPDATE users SET role = $1 WHERE email = $2', [role, email]);
    const login = expectStatus(await call('POST', '/v1/auth/login', { email, password: PASSWORD }), 200, 'login');
    return { userId: login.user.id as string, token: login.accessToken as string };
  };

  try {
    await group('auth', async () => {
      await measure('GET /healthz', 200, () => call('GET', '/healthz'), undefined, 0);
      await measure('GET /readyz', 200, () => call('GET', '/readyz'));
      const email = `rt-${crypto.randomUUID().slice(0, 8)}@bench.test`;
      // From a client address, as in production: the per-address count precedes the hash (2).
      await measure('POST /v1/auth/register', 201, () => call('POST', '/v1/auth/register', { email, password: PASSWORD }, { 'x-forwarded-for': '203.0.113.50' }), undefined, 2);
      // One statement on the response path, one in the background giving the throttle place back (2).
      const session = await measure('POST /v1/auth/login', 200, () => call('POST', '/v1/auth/login', { email, password: PASSWORD }), undefined, 2);
      const rotated = await measure('POST /v1/auth/refresh', 200, () => call('POST', '/v1/auth/refresh', { refreshToken: session.refreshToken }));
      // The same token again within REFRESH_REUSE_GRACE_SECONDS (a concurrent refresh that saw the rotation): the same successor, one statement.
      await measure('POST /v1/auth/refresh', 200, () => call('POST', '/v1/auth/refresh', { refreshToken: session.refreshToken }), 'repeat within the grace window');
      await measure('GET /v1/me', 200, () => call('GET', '/v1/me', undefined, bearer(session.accessToken)));
      await measure('POST /v1/auth/logout', 204, () => call('POST', '/v1/auth/logout', { refreshToken: rotated.refreshToken }));
      // The ended session's access token is refused by the check in the first batch: still one round trip.
      await measure('GET /v1/me', 401, () => call('GET', '/v1/me', undefined, bearer(session.accessToken)), 'session ended');
    });

    const admin = await user('admin');
    const staff = await user('staff');
    const customer = await user('customer');

    await group('catalog', async () => {
      await measure('GET /v1/services', 200, () => call('GET', '/v1/services'), 'cold cache');
      await measure('GET /v1/services', 200, () => call('GET', '/v1/services'), 'cached', 0);
      const a = bearer(admin.token);
      await measure('GET /v1/admin/services', 200, () => call('GET', '/v1/admin/services', undefined, a));
      const svc = { slug: `rt-${crypto.randomUUID().slice(0, 6)}`, name: 'RT', pricingModel: 'per_item', unitPrice: 100, turnaroundHours: 24, addOns: [{ slug: 'a', name: 'A', price: 1 }] };
      const created = await measure('POST /v1/admin/services', 201, () => call('POST', '/v1/admin/services', svc, a));
      await measure('PATCH /v1/admin/services/{id}', 200, () => call('PATCH', `/v1/admin/services/${created.id}`, { unitPrice: 120 }, a));
      const addOn = await measure('POST /v1/admin/services/{id}/add-ons', 201, () => call('POST', `/v1/admin/services/${created.id}/add-ons`, { slug: 'b', name: 'B', price: 2 }, a));
      await measure('PATCH /v1/admin/add-ons/{id}', 200, () => call('PATCH', `/v1/admin/add-ons/${addOn.id}`, { price: 3 }, a));
      await measure('GET /v1/services', 200, () => call('GET', '/v1/services'), 'right after an admin edit');
    });

    // A unique numeric prefix (zone prefixes are UK areas/districts or digits), and a postcode in it.
    const prefix = `0${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const postcode = `${prefix}1`;
    await group('zones', async () => {
      const a = bearer(admin.token);
      const zoneBody = { name: 'RT zone', postcodePrefixes: [prefix], timeZone: 'UTC', deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 };
      const z = await measure('POST /v1/admin/zones', 201, () => call('POST', '/v1/admin/zones', zoneBody, a));
      await measure('GET /v1/admin/zones', 200, () => call('GET', '/v1/admin/zones', undefined, a));
      await measure('PATCH /v1/admin/zones/{id}', 200, () => call('PATCH', `/v1/admin/zones/${z.id}`, { deliveryFee: 499 }, a));
      const startsAt = `${day(10)}T09:00:00Z`;
      const s = await measure('POST /v1/admin/zones/{id}/slots', 201, () =>
        call('POST', `/v1/admin/zones/${z.id}/slots`, { kind: 'pickup', startsAt, endsAt: `${day(10)}T11:00:00Z`, capacity: 10 }, a),
      );
      await measure('GET /v1/admin/zones/{id}/slots', 200, () => call('GET', `/v1/admin/zones/${z.id}/slots`, undefined, a));
      const windows = [{ weekday: 1, start: '09:00', end: '11:00', kind: 'pickup', capacity: 5 }];
      await measure('POST /v1/admin/zones/{id}/slots/generate', 201, () =>
        call('POST', `/v1/admin/zones/${z.id}/slots/generate`, { cutoffMinutes: 120, windows, from: day(14), to: day(20) }, a),
      );
      await measure('PATCH /v1/admin/slots/{id}', 200, () => call('PATCH', `/v1/admin/slots/${s.id}`, { capacity: 12 }, a));
      await measure('POST /v1/admin/zones/{id}/closures', 201, () => call('POST', `/v1/admin/zones/${z.id}/closures`, { date: day(30) }, a));
      await measure('DELETE /v1/admin/zones/{id}/closures/{date}', 204, () => call('DELETE', `/v1/admin/zones/${z.id}/closures/${day(30)}`, undefined, a));
      await measure('GET /v1/coverage', 200, () => call('GET', `/v1/coverage?postcode=${postcode}`));
      await measure('GET /v1/slots', 200, () => call('GET', `/v1/slots?postcode=${postcode}&kind=pickup`));
    });

    await group('recovery', () => recoverySteps(steps));
    await group('oauth', () => oauthSteps(steps, idps));

    let addressId = '';
    await group('addresses', async () => {
      const c = bearer(customer.token);
      const body = { label: 'Home', line1: '1 Round Trip Street', city: 'Testville', postcode };
      addressId = (await measure('POST /v1/addresses', 201, () => call('POST', '/v1/addresses', body, c))).id;
      await measure('GET /v1/addresses', 200, () => call('GET', '/v1/addresses', undefined, c));
      await measure('GET /v1/addresses/{id}', 200, () => call('GET', `/v1/addresses/${addressId}`, undefined, c));
      await measure('PATCH /v1/addresses/{id}', 200, () => call('PATCH', `/v1/addresses/${addressId}`, { line2: 'Flat 1' }, c));
      const spare = expectStatus(await call('POST', '/v1/addresses', { ...body, label: 'Spare' }, c), 201, 'spare address');
      await measure('DELETE /v1/addresses/{id}', 204, () => call('DELETE', `/v1/addresses/${spare.id}`, undefined, c));
    });

    let zoneId = '';
    let washFoldId = '';
    const tipOrders: Partial<TipOrders> = {};
    await group('orders', async () => {
      const [zone] = await sqlRows<{ id: string }>(databaseUrl, 'SELECT id FROM zones WHERE $1 = ANY(postcode_prefixes)', [prefix]);
      const slotAt = async (kind: string, hours: number) => {
        const startsAt = new Date(Math.floor((Date.now() + hours * HOUR) / 60_000) * 60_000);
        const [row] = await sqlRows<{ id: string }>(
          databaseUrl,
          `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity) VALUES ($1, $2, $3, $4, 100) RETURNING id`,
          [zone!.id, kind, startsAt.toISOString(), new Date(startsAt.getTime() + 2 * HOUR).toISOString()],
        );
        return row!.id;
      };
      const [pickupSlotId, deliverySlotId] = [await slotAt('pickup', 24), await slotAt('delivery', 80)];
      const services = expectStatus(await call('GET', '/v1/services'), 200, 'services').data as Array<{ id: string; slug: string }>;
      const washFold = services.find((s) => s.slug === 'wash-and-fold')!.id;
      [zoneId, washFoldId] = [zone!.id, washFold];
      const order = (paymentMethod: string, grams = 6000) => ({ items: [{ serviceId: washFold, estimatedWeightGrams: grams }], addressId, pickupSlotId, deliverySlotId, paymentMethod });
      const c = bearer(customer.token);
      const key = { ...c, 'idempotency-key': `rt-${crypto.randomUUID()}` };
      // The first order in a process reads every row it is priced on (read + write), and remembers them.
      await measure('POST /v1/orders', 201, () => call('POST', '/v1/orders', order('on_delivery'), { ...c, 'idempotency-key': crypto.randomUUID() }), 'first in this process: read + write', 2);
      // What the app shows before an order: the customer's addresses and the slots for the postcode.
      expectStatus(await call('GET', '/v1/addresses', undefined, c), 200, 'addresses');
      for (const kind of ['pickup', 'delivery']) {
        expectStatus(await call('GET', `/v1/slots?postcode=${postcode}&kind=${kind}&to=${new Date(Date.now() + 96 * HOUR).toISOString()}`, undefined, c), 200, `${kind} slots`);
      }
      const o1 = await measure('POST /v1/orders', 201, () => call('POST', '/v1/orders', order('on_delivery'), key), 'pay on delivery');
      await measure('POST /v1/orders', 201, () => call('POST', '/v1/orders', order('on_delivery'), key), 'replay of the same key');
      // A remembered row changed by someone else (another replica's admin edit): the write finds it and writes nothing; read + write.
      await sqlRows(databaseUrl, 'UPDATE zones SET delivery_fee = delivery_fee + 1 WHERE id = $1', [zone!.id]);
      await measure('POST /v1/orders', 201, () => call('POST', '/v1/orders', order('on_delivery'), { ...c, 'idempotency-key': crypto.randomUUID() }), 'a remembered row changed since', 3);
      await measure('GET /v1/orders', 200, () => call('GET', '/v1/orders', undefined, c));
      await measure('GET /v1/orders/{id}', 200, () => call('GET', `/v1/orders/${o1.id}`, undefined, c));
      const o2 = expectStatus(await call('POST', '/v1/orders', order('on_delivery'), { ...c, 'idempotency-key': crypto.randomUUID() }), 201, 'order 2');
      await measure('POST /v1/orders/{id}/cancel', 200, () => call('POST', `/v1/orders/${o2.id}/cancel`, {}, c));

      const st = bearer(staff.token);
      const move = (id: string, body: unknown) => call('POST', `/v1/staff/orders/${id}/transitions`, body, st);
      await measure('GET /v1/staff/orders', 200, () => call('GET', '/v1/staff/orders', undefined, st));
      await measure('GET /v1/staff/orders/{id}', 200, () => call('GET', `/v1/staff/orders/${o1.id}`, undefined, st));
      await measure('POST /v1/staff/orders/{id}/transitions', 200, () => move(o1.id, { to: 'picked_up', bagCount: 2 }));
      expectStatus(await move(o1.id, { to: 'processing' }), 200, 'processing');
      await measure('POST /v1/staff/orders/{id}/weigh-in', 200, () => call('POST', `/v1/staff/orders/${o1.id}/weigh-in`, { weightGrams: 6000 }, st), 'pay on delivery', 2);
      expectStatus(await move(o1.id, { to: 'ready' }), 200, 'ready');
      expectStatus(await move(o1.id, { to: 'out_for_delivery' }), 200, 'out_for_delivery');
      await measure('POST /v1/staff/orders/{id}/payments', 204, () => call('POST', `/v1/staff/orders/${o1.id}/payments`, { method: 'cash', amount: 1999 }, st));
      tipOrders.cash = o1.id;

      // Card: hold → authorised webhook → weigh-in over the hold → approval → capture → refund.
      const o3 = expectStatus(await call('POST', '/v1/orders', order('card'), { ...c, 'idempotency-key': crypto.randomUUID() }), 201, 'card order');
      const sheet = await measure('POST /v1/orders/{id}/payment-sheet', 200, () => call('POST', `/v1/orders/${o3.id}/payment-sheet`, undefined, c), 'new hold', 2);
      await measure('POST /v1/orders/{id}/payment-sheet', 200, () => call('POST', `/v1/orders/${o3.id}/payment-sheet`, undefined, c), 'existing hold');
      await control.authorize(sheet.paymentIntentId);
      const signed = await control.signedEvent('payment_intent.amount_capturable_updated', sheet.paymentIntentId);
      await measure('POST /v1/webhooks/stripe', 200, () =>
        call('POST', '/v1/webhooks/stripe', signed.payload, { 'stripe-signature': signed.header, 'content-type': 'application/json' }),
      );
      expectStatus(await move(o3.id, { to: 'picked_up', bagCount: 2 }), 200, 'card picked_up');
      expectStatus(await move(o3.id, { to: 'processing' }), 200, 'card processing');
      await measure('POST /v1/staff/orders/{id}/weigh-in', 200, () => call('POST', `/v1/staff/orders/${o3.id}/weigh-in`, { weightGrams: 14000 }, st), 'card: capture, overage awaits approval', 3);
      await measure('POST /v1/orders/{id}/approve-overage', 200, () => call('POST', `/v1/orders/${o3.id}/approve-overage`, undefined, c), undefined, 2);
      await measure('POST /v1/staff/orders/{id}/capture', 200, () => call('POST', `/v1/staff/orders/${o3.id}/capture`, undefined, st), 'already captured');
      await measure('POST /v1/staff/orders/{id}/refunds', 201, () => call('POST', `/v1/staff/orders/${o3.id}/refunds`, { amount: 100, reason: 'bench refund' }, bearer(admin.token)), undefined, 2);
      await measure('POST /v1/staff/orders/{id}/refunds', 201, () =>
        call('POST', `/v1/staff/orders/${o3.id}/refunds`, { amount: 100, reason: 'bench refund', destination: 'credit' }, { ...bearer(admin.token), 'idempotency-key': crypto.randomUUID() }),
      'to account credit');

      // Card: a weigh-in within the hold (capture only), and a cancel that releases a hold.
      const held = async () => {
        const o = expectStatus(await call('POST', '/v1/orders', order('card'), { ...c, 'idempotency-key': crypto.randomUUID() }), 201, 'card order');
        const pi = expectStatus(await call('POST', `/v1/orders/${o.id}/payment-sheet`, undefined, c), 200, 'sheet').paymentIntentId as string;
        await control.authorize(pi);
        const ev = await control.signedEvent('payment_intent.amount_capturable_updated', pi);
        expectStatus(await call('POST', '/v1/webhooks/stripe', ev.payload, { 'stripe-signature': ev.header, 'content-type': 'application/json' }), 200, 'webhook');
        return o.id as string;
      };
      const o4 = await held();
      expectStatus(await move(o4, { to: 'picked_up', bagCount: 2 }), 200, 'o4 picked_up');
      expectStatus(await move(o4, { to: 'processing' }), 200, 'o4 processing');
      await measure('POST /v1/staff/orders/{id}/weigh-in', 200, () => call('POST', `/v1/staff/orders/${o4}/weigh-in`, { weightGrams: 5200 }, st), 'card: capture only', 3);
      tipOrders.card = o4;
      const o5 = await held();
      await measure('POST /v1/orders/{id}/cancel', 200, () => call('POST', `/v1/orders/${o5}/cancel`, {}, c), 'card: hold released', 3);
      // An admin waives part of a weighed pay-on-delivery order's balance.
      const o6 = expectStatus(await call('POST', '/v1/orders', order('on_delivery'), { ...c, 'idempotency-key': crypto.randomUUID() }), 201, 'order 6');
      expectStatus(await move(o6.id, { to: 'picked_up', bagCount: 1 }), 200, 'o6 picked_up');
      expectStatus(await move(o6.id, { to: 'processing' }), 200, 'o6 processing');
      expectStatus(await call('POST', `/v1/staff/orders/${o6.id}/weigh-in`, { weightGrams: 6000 }, st), 200, 'o6 weigh-in');
      await measure('POST /v1/staff/orders/{id}/waive-balance', 200, () => call('POST', `/v1/staff/orders/${o6.id}/waive-balance`, { reason: 'Loyalty', amount: 500 }, bearer(admin.token)), undefined, 2);

      // A customer, then staff, move a pickup (one batch each), then staff mark it missed (the transitions batch).
      const o7 = expectStatus(await call('POST', '/v1/orders', order('on_delivery'), { ...c, 'idempotency-key': crypto.randomUUID() }), 201, 'order 7');
      const laterPickup = await slotAt('pickup', 26);
      await measure('POST /v1/orders/{id}/reschedule', 200, () =>
        call('POST', `/v1/orders/${o7.id}/reschedule`, { pickupSlotId: laterPickup }, { ...c, 'idempotency-key': crypto.randomUUID() }),
      );
      const staffPickup = await slotAt('pickup', 27);
      await measure('POST /v1/staff/orders/{id}/reschedule', 200, () =>
        call('POST', `/v1/staff/orders/${o7.id}/reschedule`, { pickupSlotId: staffPickup }, { ...st, 'idempotency-key': crypto.randomUUID() }),
      );
      await measure('POST /v1/staff/orders/{id}/transitions', 200, () => move(o7.id, { to: 'pickup_missed', reason: 'customer_absent' }), 'pickup_missed (pay on delivery)');

      // A promo code and credit add no round trip to an order: learnt by the read the first time
      // (read + write, as any row not remembered yet), then one statement like an order without them.
      const a = bearer(admin.token);
      const code = await measure('POST /v1/admin/promo-codes', 201, () =>
        call('POST', '/v1/admin/promo-codes', { code: `RT-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, kind: 'percent', value: 1000, perCustomerLimit: 100 }, a),
      );
      // 8 kg: above the zone's minimum order, so the code takes something off.
      const withCode = (extra: Record<string, unknown>) => call('POST', '/v1/orders', { ...order('on_delivery', 8000), ...extra }, { ...c, 'idempotency-key': crypto.randomUUID() });
      await measure('POST /v1/orders', 201, () => withCode({ promoCode: code.code }), 'promoCode, first use in this process: read + write', 2);
      await measure('POST /v1/orders', 201, () => withCode({ promoCode: code.code }), 'promoCode');
      await measure('POST /v1/admin/users/{id}/credit', 201, () =>
        call('POST', `/v1/admin/users/${customer.userId}/credit`, { amount: 5000, reason: 'goodwill', note: 'Bench' }, { ...a, 'idempotency-key': crypto.randomUUID() }),
      );
      await measure('GET /v1/me/credit', 200, () => call('GET', '/v1/me/credit', undefined, c));
      await measure('POST /v1/orders', 201, () => withCode({ useCredit: true }), 'useCredit, balance not yet read: read + write', 2);
      const spent = await measure('POST /v1/orders', 201, () => withCode({ useCredit: true, promoCode: code.code }), 'useCredit and promoCode');
      if (!(spent.estimate.creditApplied > 0) || !spent.estimate.discount) throw new Error('the promo + credit order applied neither');
      await measure('GET /v1/admin/promo-codes', 200, () => call('GET', '/v1/admin/promo-codes', undefined, a));
      await measure('PATCH /v1/admin/promo-codes/{id}', 200, () => call('PATCH', `/v1/admin/promo-codes/${code.id}`, { active: false }, a));
    });

    await group('tips', async () => {
      if (!tipOrders.cash || !tipOrders.card) throw new Error('the orders steps stopped before the orders to tip on were made');
      await tipSteps(steps, { customer, staff }, { cash: tipOrders.cash, card: tipOrders.card });
    });
    await group('recurring', async () => {
      if (!zoneId || !addressId) throw new Error('the zone or address steps failed');
      await recurringSteps(steps, customer, { zoneId, addressId, serviceId: washFoldId, anchor: day(12) });
    });
    await group('account data', () => accountDataSteps(steps, { admin, staff }));

    await group('accounts', async () => {
      const email = `rt-acct-${crypto.randomUUID().slice(0, 8)}@bench.test`;
      const reg = expectStatus(await call('POST', '/v1/auth/register', { email, password: PASSWORD }), 201, 'register (accounts)');
      // A second session, for DELETE /v1/me/sessions/{id} to end.
      expectStatus(await call('POST', '/v1/auth/login', { email, password: PASSWORD }), 200, 'second login');
      const me = bearer(reg.accessToken as string);
      await measure('PATCH /v1/me', 200, () => call('PATCH', '/v1/me', { phone: '+447700900123', locale: 'en-GB' }, me));
      const device = `rt${crypto.randomUUID().replaceAll('-', '')}:APA91b${'x'.repeat(100)}`;
      await measure('PUT /v1/me/devices/{device}', 201, () => call('PUT', `/v1/me/devices/${device}`, { platform: 'ios', appVersion: '1.0.0' }, me));
      await measure('GET /v1/me/devices', 200, () => call('GET', '/v1/me/devices', undefined, me));
      await measure('DELETE /v1/me/devices/{device}', 204, () => call('DELETE', `/v1/me/devices/${device}`, undefined, me));
      await measure('GET /v1/me/notification-preferences', 200, () => call('GET', '/v1/me/notification-preferences', undefined, me));
      await measure('PATCH /v1/me/notification-preferences', 200, () => call('PATCH', '/v1/me/notification-preferences', { ready: { push: false } }, me));
      const sessions = await measure('GET /v1/me/sessions', 200, () => call('GET', '/v1/me/sessions', undefined, me));
      const second = (sessions.data as Array<{ id: string; current: boolean }>).find((x) => !x.current)!;
      await measure('DELETE /v1/me/sessions/{id}', 204, () => call('DELETE', `/v1/me/sessions/${second.id}`, undefined, me));
      // Count the attempt and read the hash; then the new hash and the other sessions ended (2).
      await measure('POST /v1/me/password', 200, () => call('POST', '/v1/me/password', { currentPassword: PASSWORD, newPassword: `${PASSWORD} again` }, me), undefined, 2);
      // Last: it ends this session too, and its access token is refused from then on.
      await measure('DELETE /v1/me/sessions', 200, () => call('DELETE', '/v1/me/sessions', undefined, me));
    });

    await group('inbox', async () => {
      // The customer's orders above wrote outbox rows (order confirmations): the inbox has entries.
      const c = bearer(customer.token);
      const inbox = await measure('GET /v1/me/notifications', 200, () => call('GET', '/v1/me/notifications', undefined, c));
      const first = (inbox.data as Array<{ id: string }>)[0]!;
      await measure('POST /v1/me/notifications/{id}/read', 204, () => call('POST', `/v1/me/notifications/${first.id}/read`, undefined, c));
      await measure('POST /v1/me/notifications/read-all', 204, () => call('POST', '/v1/me/notifications/read-all', undefined, c));
    });

    const doc = expectStatus(await call('GET', '/openapi.json'), 200, 'openapi.json') as { paths: Record<string, Record<string, unknown>> };
    const seen = new Set(rows.map((r) => r.endpoint));
    const failures = [...failed].map(([g, why]) => `${g} steps stopped: ${why}`).join('; ');
    const missing = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((e) => !seen.has(e))
      .map((endpoint) => ({ endpoint, reason: NOT_HERE[endpoint] ?? (failures || 'no step in tools/bench/roundtrips.ts calls it yet') }));
    return { rows, missing };
  } finally {
    await neon.close();
    await stripe.close();
    await idps.close();
    await backend.close();
  }
}
