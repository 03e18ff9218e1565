/**
 * What the logs say, and what they must never say. Every line the app writes during a
 * journey (passwords, tokens, a signed Stripe webhook, a card payment, an order, a crash) is
 * captured by the in-memory logger and searched for every secret the journey handled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { expectProblem, uniqueEmail, type ApiResponse } from '../support/client.js';
import { address, slot, zone } from '../support/fixtures.js';
import { TEST_JWT_SECRET } from '../support/harness.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET } from '../support/stripe.js';

let t: TestApp;
const metrics = createMemoryMetrics();
beforeAll(async () => {
  t = await createTestApp({ env: { APP_VERSION: 'log-test-7' }, metrics });
});
afterAll(() => t.close());

describe('logs', () => {
  it('a journey with passwords, tokens, a card payment and a signed webhook leaves none of them in any log line', async () => {
    const secrets: string[] = [TEST_JWT_SECRET, TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET];
    const responses: ApiResponse[] = [];
    const keep = <T extends ApiResponse>(res: T) => (responses.push(res), res);

    const email = uniqueEmail('logs');
    const password = 'Correct-Horse-Battery-Staple-91';
    const wrongPassword = 'Wrong-Horse-Battery-Staple-19';
    secrets.push(password, wrongPassword);
    const reg = keep(await t.api.post('/v1/auth/register', { email, password }));
    expect(reg.status, reg.text).toBe(201);
    expectProblem(keep(await t.api.post('/v1/auth/login', { email, password: wrongPassword })), 401, 'invalid_credentials');
    const login = keep(await t.api.post('/v1/auth/login', { email, password }));
    expect(login.status).toBe(200);
    const refreshed = keep(await t.api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken }));
    expect(refreshed.status).toBe(200);
    // The spent refresh token again within the grace window: the same successor, re-derived.
    expect(keep(await t.api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken })).body.refreshToken).toBe(refreshed.body.refreshToken);
    // And after it (the rotation aged 31 s): the reuse-detection path.
    await t.sql(`UPDATE refresh_tokens SET revoked_at = revoked_at - interval '31 seconds' WHERE token_hash = $1`, [await t.deps.sha256Hex(login.body.refreshToken)]);
    expectProblem(keep(await t.api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken })), 401, 'refresh_token_reused');
    for (const r of [reg, login, refreshed]) secrets.push(r.body.accessToken, r.body.refreshToken);
    const token = refreshed.body.accessToken as string;
    const userId = reg.body.user.id as string;
    // An expired session is logged in again; keep a valid token for the rest.
    const again = keep(await t.api.post('/v1/auth/login', { email, password }));
    secrets.push(again.body.accessToken, again.body.refreshToken);
    const session = again.body.accessToken as string;
    expect(keep(await t.api.get('/v1/me', { token: session })).status).toBe(200);
    expectProblem(keep(await t.api.get('/v1/me', { token: `${token}tampered` })), 401, 'invalid_token');

    // An order paid by card: the PaymentSheet secrets, then Stripe's signed webhook.
    const z = await zone(t);
    const addressId = await address(t, userId, z.postcode);
    const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(t, z.id, 'delivery', { startsInHours: 80 });
    const washFold = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const order = keep(
      await t.api.post(
        '/v1/orders',
        { items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'card', notes: 'Gate code 4711' },
        { token: session, headers: { 'idempotency-key': `logs-${crypto.randomUUID()}` } },
      ),
    );
    expect(order.status, order.text).toBe(201);
    // With the SDK's API version, so the answer carries an ephemeral key as well as the CustomerSession secret.
    const sheet = keep(await t.api.post(`/v1/orders/${order.body.id}/payment-sheet`, undefined, { token: session, headers: { 'stripe-version': '2020-08-27' } }));
    expect(sheet.status, sheet.text).toBe(200);
    expect(sheet.body.ephemeralKey).toMatch(/^ek_test_/);
    secrets.push(sheet.body.paymentIntentClientSecret, sheet.body.ephemeralKey, sheet.body.customerSessionClientSecret);
    await t.stripe.authorize(sheet.body.paymentIntentId);
    const signed = await t.stripe.signedEvent('payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
    secrets.push(signed.header, signed.payload, /v1=([0-9a-f]+)/.exec(signed.header)![1]!);
    if (signed.event.data.object.client_secret) secrets.push(signed.event.data.object.client_secret);
    const webhook = keep(
      await t.api.post('/v1/webhooks/stripe', undefined, { rawBody: signed.payload, headers: { 'stripe-signature': signed.header, 'content-type': 'application/json' } }),
    );
    expect(webhook.body).toMatchObject({ outcome: 'applied' });
    const forged = keep(
      await t.api.post('/v1/webhooks/stripe', undefined, { rawBody: `${signed.payload} `, headers: { 'stripe-signature': signed.header, 'content-type': 'application/json' } }),
    );
    expectProblem(forged, 400, 'invalid_signature');

    // A crash: its own error line with the stack, and the usual request line.
    const rows = t.deps.database.rows;
    t.deps.database.rows = () => Promise.reject(new Error('simulated driver failure'));
    try {
      expectProblem(keep(await t.api.get(`/v1/coverage?postcode=${z.postcode}`)), 500, 'internal_error');
    } finally {
      t.deps.database.rows = rows;
    }

    const lines = t.logger.entries.map((e) => JSON.stringify(e));
    expect(lines.length).toBeGreaterThan(responses.length);
    for (const secret of secrets) {
      expect(secret, 'a secret to look for').toBeTruthy();
      const leaked = lines.filter((l) => l.includes(secret) || l.includes(JSON.stringify(secret).slice(1, -1)));
      expect(leaked, `leaked: ${secret.slice(0, 12)}…`).toEqual([]);
    }
    // No webhook payload, whole or in part; no card-number-like digit runs.
    expect(lines.filter((l) => /"object":\s*"payment_intent"|"livemode"|"data":\s*\{"object"/.test(l))).toEqual([]);
    expect(lines.filter((l) => /\b\d{13,19}\b/.test(l))).toEqual([]);

    // One request line per request, with everything ops need to find it again.
    const requestLines = t.logger.entries.filter((e) => e.msg === 'request');
    for (const res of responses) {
      const id = res.headers.get('x-request-id');
      const mine = requestLines.filter((e) => e.requestId === id);
      expect(mine, `request line for ${id}`).toHaveLength(1);
      expect(mine[0]).toEqual({
        time: expect.any(String),
        level: 'info',
        msg: 'request',
        requestId: id,
        method: expect.stringMatching(/^(GET|POST)$/),
        route: expect.stringMatching(/^\/v1\//),
        status: res.status,
        durationMs: expect.any(Number),
        version: 'log-test-7',
        runtime: 'node',
        ...(mine[0]!.userId === undefined ? {} : { userId }),
      });
      expect(mine[0]!.route, 'a pattern, not a path').not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
    }
    const authenticated = requestLines.filter((e) => e.route === '/v1/me' && e.status === 200);
    expect(authenticated.map((e) => e.userId)).toEqual([userId]);
    expect(requestLines.find((e) => e.route === '/v1/orders/:id/payment-sheet')).toMatchObject({ userId, status: 200 });

    // The crash: a separate error line with the stack, sharing the request id.
    const crash = responses.at(-1)!;
    const errorLine = t.logger.entries.find((e) => e.msg === 'unhandled error' && e.requestId === crash.headers.get('x-request-id'));
    expect(errorLine).toMatchObject({ level: 'error', error: { message: 'simulated driver failure', stack: expect.stringContaining('simulated driver failure') } });
    expect(crash.text).not.toContain('simulated driver failure');
    expect(requestLines.find((e) => e.requestId === crash.headers.get('x-request-id'))).toMatchObject({ status: 500, route: '/v1/coverage' });
    // And the in-memory metrics saw the same requests.
    expect(metrics.count('http_request', { route: '/v1/coverage', status: 500 })).toBe(1);
  });

  it('a registration that hits a dead database is a 503 logged as a warning with its cause, never the password hash or the email bound to it', async () => {
    const dead = await createTestApp({ database: createPostgresDatabase('postgres://nobody@127.0.0.1:1/none') });
    const email = uniqueEmail('dead-db');
    const password = 'Dead-Database-Password-42';
    expectProblem(await dead.api.post('/v1/auth/register', { email, password }), 503, 'database_unavailable');
    expect(dead.logger.entries.find((e) => e.msg === 'unhandled error')).toBeUndefined();
    const warned = dead.logger.entries.find((e) => e.msg === 'database unavailable');
    expect(warned).toMatchObject({ level: 'warn', reason: 'ECONNREFUSED', cause: expect.stringContaining('ECONNREFUSED') });
    const lines = dead.logger.entries.map((e) => JSON.stringify(e)).join('\n');
    for (const secret of [password, '$argon2id$', email]) expect(lines).not.toContain(secret);
    await dead.close();
  });
});
