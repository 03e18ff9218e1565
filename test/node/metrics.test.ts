/**
 * The Node app with the Prometheus implementation, as Prometheus sees it: a customer
 * journey moves the counters by exactly what happened, and GET /metrics only answers the
 * bearer of METRICS_TOKEN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { actor, address, slot, zone } from '../support/fixtures.js';
import { delta, parseSamples, sampleOf, type Samples } from '../support/metrics.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET } from '../support/stripe.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

describe('GET /metrics (Prometheus on Node)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN, APP_VERSION: 'obs-test-1' }, metrics: createPrometheusMetrics({ version: 'obs-test-1' }) });
  });
  afterAll(() => t.close());

  const scrape = async (): Promise<Samples> => {
    const res = await t.api.get('/metrics', { token: METRICS_TOKEN });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseSamples(res.text);
  };

  it('a customer journey moves every counter by exactly what happened', async () => {
    const before = await scrape();

    // Auth: one registration, one login, one refresh.
    const email = uniqueEmail('metrics');
    const reg = await t.api.post('/v1/auth/register', { email, password: 'metrics journey password' });
    expect(reg.status, reg.text).toBe(201);
    const login = await t.api.post('/v1/auth/login', { email, password: 'metrics journey password' });
    expect(login.status).toBe(200);
    const refreshed = await t.api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status, refreshed.text).toBe(200);
    const who = { userId: reg.body.user.id as string, token: refreshed.body.accessToken as string };

    // Orders: one pay-on-delivery order (then a replay of it, which creates nothing), one card order.
    const z = await zone(t);
    const addressId = await address(t, who.userId, z.postcode);
    const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(t, z.id, 'delivery', { startsInHours: 80 });
    const services = (await t.api.get('/v1/services')).body.data;
    const washFold = services.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const body = (paymentMethod: string) => ({
      items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }],
      addressId,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod,
    });
    const key = `metrics-${crypto.randomUUID()}`;
    const cash = await t.api.post('/v1/orders', body('on_delivery'), { token: who.token, headers: { 'idempotency-key': key } });
    expect(cash.status, cash.text).toBe(201);
    const replay = await t.api.post('/v1/orders', body('on_delivery'), { token: who.token, headers: { 'idempotency-key': key } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const card = await t.api.post('/v1/orders', body('card'), { token: who.token, headers: { 'idempotency-key': `metrics-${crypto.randomUUID()}` } });
    expect(card.status, card.text).toBe(201);
    expect((await t.api.get(`/v1/orders/${card.body.id}`, { token: who.token })).status).toBe(200);

    // Payment: the sheet, the card authorises, Stripe's signed webhook (then its redelivery, and a forgery).
    const sheet = await t.api.post(`/v1/orders/${card.body.id}/payment-sheet`, undefined, { token: who.token });
    expect(sheet.status, sheet.text).toBe(200);
    await t.stripe.authorize(sheet.body.paymentIntentId);
    const signed = await t.stripe.signedEvent('payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
    const post = (header: string) =>
      t.api.post('/v1/webhooks/stripe', undefined, { rawBody: signed.payload, headers: { 'stripe-signature': header, 'content-type': 'application/json' } });
    expect((await post(signed.header)).body).toMatchObject({ outcome: 'applied' });
    expect((await post(signed.header)).body).toMatchObject({ outcome: 'duplicate' });
    expectProblem(await post('t=1,v1=forged'), 400, 'invalid_signature');

    // The shop weighs it; the weigh-in captures the hold.
    const staff = await actor(t, 'staff');
    for (const step of [{ to: 'picked_up', bagCount: 1 }, { to: 'processing' }]) {
      const moved = await t.api.post(`/v1/staff/orders/${card.body.id}/transitions`, step, { token: staff.token });
      expect(moved.status, moved.text).toBe(200);
    }
    const weighed = await t.api.post(`/v1/staff/orders/${card.body.id}/weigh-in`, { weightGrams: 6000 }, { token: staff.token });
    expect(weighed.status, weighed.text).toBe(200);

    // And one request no route matches.
    expect((await t.api.get('/v1/no-such-thing')).status).toBe(404);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => delta(before, after, name, labels);
    expect({
      ordersOnDelivery: moved('orders_created_total', { payment_method: 'on_delivery' }),
      ordersCard: moved('orders_created_total', { payment_method: 'card' }),
      ordersPosted: moved('http_requests_total', { method: 'POST', route: '/v1/orders', status: '201' }),
      orderRead: moved('http_requests_total', { method: 'GET', route: '/v1/orders/:id', status: '200' }),
      registrations: moved('http_requests_total', { method: 'POST', route: '/v1/auth/register', status: '201' }),
      logins: moved('http_requests_total', { method: 'POST', route: '/v1/auth/login', status: '200' }),
      refreshes: moved('http_requests_total', { method: 'POST', route: '/v1/auth/refresh', status: '200' }),
      webhooksOk: moved('http_requests_total', { method: 'POST', route: '/v1/webhooks/stripe', status: '200' }),
      webhooksRejected: moved('http_requests_total', { method: 'POST', route: '/v1/webhooks/stripe', status: '400' }),
      unmatched: moved('http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
      webhookApplied: moved('webhook_events_total', { type: 'payment_intent.amount_capturable_updated', outcome: 'applied' }),
      webhookDuplicate: moved('webhook_events_total', { type: 'payment_intent.amount_capturable_updated', outcome: 'duplicate' }),
      webhookForged: moved('webhook_events_total', { type: 'unknown', outcome: 'invalid_signature' }),
      authorised: moved('payments_total', { operation: 'authorise', outcome: 'succeeded' }),
      captured: moved('payments_total', { operation: 'capture', outcome: 'succeeded' }),
      captureFailures: moved('payments_total', { operation: 'capture', outcome: 'error' }) + moved('payments_total', { operation: 'capture', outcome: 'declined' }),
      orderLatencies: moved('http_request_duration_seconds_count', { method: 'POST', route: '/v1/orders' }),
    }).toEqual({
      ordersOnDelivery: 1,
      ordersCard: 1,
      ordersPosted: 3,
      orderRead: 1,
      registrations: 2, // the customer and the staff member
      logins: 2,
      refreshes: 1,
      webhooksOk: 2,
      webhooksRejected: 1,
      unmatched: 1,
      webhookApplied: 1,
      webhookDuplicate: 1,
      webhookForged: 1,
      authorised: 1,
      captured: 1,
      captureFailures: 0,
      orderLatencies: 3,
    });
    // Every request through Database.rows/batch is timed; an order alone takes two round trips.
    expect(moved('db_query_duration_seconds_count')).toBeGreaterThanOrEqual(2 * 3);
    expect(sampleOf(after, 'db_query_duration_seconds_sum')).toBeGreaterThan(0);
    // Routes are patterns, never raw paths with ids in them.
    const routes = [...after.keys()].filter((k) => k.startsWith('http_requests_total')).map((k) => /route="([^"]*)"/.exec(k)![1]!);
    expect(routes.filter((r) => /[0-9a-f]{8}-[0-9a-f]{4}/.test(r))).toEqual([]);
    // The version, and the process defaults.
    expect(sampleOf(after, 'app_info', { version: 'obs-test-1', runtime: 'node' })).toBe(1);
    expect(sampleOf(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('answers only the bearer of METRICS_TOKEN', async () => {
    expectProblem(await t.api.get('/metrics'), 401, 'auth_required');
    expectProblem(await t.api.get('/metrics', { token: 'not-the-metrics-token-0000' }), 401, 'invalid_token');
    expectProblem(await t.api.get('/metrics', { headers: { authorization: `Basic ${METRICS_TOKEN}` } }), 401, 'invalid_token');
    // An API access token is not the metrics token either.
    expectProblem(await t.api.get('/metrics', { token: (await actor(t, 'admin')).token }), 401, 'invalid_token');
    const ok = await t.api.get('/metrics', { token: METRICS_TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE http_requests_total counter');
    expect(ok.text).not.toContain(METRICS_TOKEN);
  });
});

describe('GET /metrics without a token, or without Prometheus', () => {
  const production = {
    APP_ENV: 'production',
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    STRIPE_SECRET_KEY: TEST_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
  };

  it('does not exist in production when METRICS_TOKEN is unset', async () => {
    const t = await createTestApp({ stripe: false, env: production, metrics: createPrometheusMetrics({ version: 'p', defaultMetrics: false }) });
    expectProblem(await t.api.get('/metrics'), 404, 'route_not_found');
    expectProblem(await t.api.get('/metrics', { token: 'anything-at-all-0123456789' }), 404, 'route_not_found');
    await t.close();
  });

  it('needs the token in production when it is set', async () => {
    const t = await createTestApp({ stripe: false, env: { ...production, METRICS_TOKEN }, metrics: createPrometheusMetrics({ version: 'p', defaultMetrics: false }) });
    expectProblem(await t.api.get('/metrics'), 401, 'auth_required');
    expect((await t.api.get('/metrics', { token: METRICS_TOKEN })).status).toBe(200);
    await t.close();
  });

  it('is open outside production when METRICS_TOKEN is unset (local development)', async () => {
    const t = await createTestApp({ metrics: createPrometheusMetrics({ version: 'dev', defaultMetrics: false }) });
    const res = await t.api.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('app_info{version="dev",runtime="node"} 1');
    await t.close();
  });

  it('counts webhook deliveries the app refused, without trusting their body for the type', async () => {
    const metrics = createMemoryMetrics();
    const t = await createTestApp({ metrics });
    const post = (rawBody: string, signature = 't=1,v1=00') =>
      t.api.post('/v1/webhooks/stripe', undefined, { rawBody, headers: { 'stripe-signature': signature, 'content-type': 'application/json' } });
    expectProblem(await post('{"type":"made.up.type"}'), 400, 'invalid_signature');
    expectProblem(await post(`{"pad":"${'x'.repeat(70 * 1024)}"}`), 413, 'payload_too_large');
    expect((await t.api.get('/v1/webhooks/stripe')).status).toBe(405); // a GET is not a delivery (405 method_not_allowed): not counted
    expect(metrics.events.filter((e) => e.name === 'webhook_event')).toEqual([
      { name: 'webhook_event', type: 'unknown', outcome: 'invalid_signature' },
      { name: 'webhook_event', type: 'unknown', outcome: 'error' },
    ]);
    await t.close();
  });

  it('is a 404 where metrics are pushed, not pulled (Workers, tests)', async () => {
    const t = await createTestApp({ env: { METRICS_TOKEN }, metrics: createMemoryMetrics() });
    expectProblem(await t.api.get('/metrics', { token: METRICS_TOKEN }), 404, 'route_not_found');
    await t.close();
  });

  it('refuses a short METRICS_TOKEN, or a placeholder in production, at start', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
    expect(() => loadConfig({ ...production, JWT_SECRET: 'a-real-jwt-secret-0123456789abcdef', METRICS_TOKEN: 'changeme-changeme-changeme' })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
  });
});
