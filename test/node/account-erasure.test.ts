/**
 * Account deletion (DELETE /v1/me, DELETE /v1/admin/users/{id}) through the app over the test
 * database, with Stripe's stand-in (DELETE /v1/customers/:id) and Apple's (JWKS for ID tokens,
 * /auth/token and /auth/revoke): the erasure itself, what blocks it, re-authentication, tokens
 * refused at once, the email registering again, the external steps and their retries, races and
 * the admin's path. Every table is checked for traces by test/node/account-personal-data.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runErasureTasks } from '../../src/account/erasure-tasks.js';
import { runScheduledJobs } from '../../src/modules/payments/exclusive.js';
import { expectProblem } from '../support/client.js';
import { actor, payOnDeliveryOrder, type Actor } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { APPLE_AUD, startAppleWorld, type AppleWorld } from '../support/apple-world.js';
import type { AppleAuthStandIn } from '../support/stand-ins/apple-auth.js';
import type { JwksStandIn } from '../support/stand-ins/jwks.js';

let world: AppleWorld;
let jwks: JwksStandIn;
let apple: AppleAuthStandIn;
let t: TestApp;

beforeAll(async () => {
  world = await startAppleWorld();
  ({ jwks, apple } = world);
  t = await createTestApp({ env: world.env });
});
afterAll(async () => {
  await t?.close();
  await world?.close();
});

const PASSWORD = 'fixture password';
const del = (who: { token: string }, body: Record<string, unknown>) => t.api.send('DELETE', '/v1/me', body, { token: who.token });

/** Polls `probe` until it returns a value (the request's background attempt runs on after the answer). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

interface Task {
  kind: string;
  reference: string | null;
  attempts: number;
  done_at: string | null;
  outcome: string | null;
  last_error: string | null;
}
/** On `app`'s database: without TEST_DATABASE_URL every test app has a PGlite of its own. */
const tasksOf = (userId: string, app: TestApp = t) =>
  app.sql<Task>('SELECT kind, reference, attempts, done_at, outcome, last_error FROM account_erasure_tasks WHERE user_id = $1 ORDER BY kind', [userId]);
/** The user's tasks once the first has `field` set (the request's background attempt finished). */
const tasksOnce = (userId: string, field: 'done_at' | 'last_error') =>
  eventually(async () => {
    const rows = await tasksOf(userId);
    return rows[0]?.[field] ? rows : undefined;
  }, `task ${field} set`);

/** A customer with a Stripe Customer (made at the stand-in through the SDK, as the first card payment does). */
async function customerWithStripe(): Promise<Actor & { refreshToken: string; stripeId: string }> {
  const who = await actor(t);
  const login = await t.api.post('/v1/auth/login', { email: who.email, password: PASSWORD });
  const customer = await (await t.deps.payments!.client()).customers.create({ email: who.email });
  await t.sql('UPDATE users SET stripe_customer_id = $1 WHERE id = $2::uuid', [customer.id, who.userId]);
  return { ...who, refreshToken: login.body.refreshToken, stripeId: customer.id };
}

/** Cancels the customer's order (before pickup), so it no longer blocks the deletion. */
async function cancel(who: Actor, orderId: string, reason = 'Changed my mind') {
  const res = await t.api.post(`/v1/orders/${orderId}/cancel`, { reason }, { token: who.token });
  expect(res.status, res.text).toBe(200);
}

describe('DELETE /v1/me with the password', () => {
  it('erases the account, keeps the order anonymised, refuses the tokens at once, deletes the Stripe Customer, frees the email', async () => {
    const who = await customerWithStripe();
    const orderId = await payOnDeliveryOrder(t, who);
    await cancel(who, orderId);
    const res = await del(who, { password: PASSWORD });
    expect(res.status, res.text).toBe(204);

    // Access token (any route, not only staff ones) and refresh token: refused from now on.
    expectProblem(await t.api.get('/v1/me', { token: who.token }), 401, 'invalid_token');
    expectProblem(await t.api.get('/v1/orders', { token: who.token }), 401, 'invalid_token');
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: who.refreshToken })).status).toBe(401);
    expectProblem(await t.api.post('/v1/auth/login', { email: who.email, password: PASSWORD }), 401, 'invalid_credentials');

    const [user] = await t.sql<{ email: string; name: string | null; erased_at: string | null; stripe_customer_id: string | null }>(
      'SELECT email, name, erased_at, stripe_customer_id FROM users WHERE id = $1::uuid',
      [who.userId],
    );
    expect(user!.email).toMatch(/^deleted\+[0-9a-f-]{36}@invalid$/);
    expect(user!.erased_at).not.toBeNull();
    expect(user!.stripe_customer_id).toBeNull();
    const [order] = await t.sql<{ status: string; address: Record<string, unknown>; lines: number }>(
      `SELECT status, address, (SELECT count(*)::int FROM order_lines l WHERE l.order_id = o.id) AS lines FROM orders o WHERE id = $1::uuid`,
      [orderId],
    );
    expect(order).toMatchObject({ status: 'cancelled', lines: 1, address: { line1: '', city: '', postcode: '', label: null, instructions: null } });
    const notes = await t.sql<{ note: string | null; actor_role: string }>('SELECT note, actor_role FROM order_events WHERE order_id = $1::uuid', [orderId]);
    expect(notes.filter((n) => n.actor_role === 'customer').every((n) => n.note === null)).toBe(true);

    // The Stripe Customer, deleted by the request's background attempt.
    const [task] = await tasksOnce(who.userId, 'done_at');
    expect(task).toMatchObject({ kind: 'stripe_customer_delete', outcome: 'done', reference: null, attempts: 1 });
    const calls = (await t.stripe.requests()).filter((r) => r.method === 'DELETE' && r.path === `/v1/customers/${who.stripeId}`);
    expect(calls.map((c) => c.status)).toEqual([200]);
    expect((await t.stripe.state()).deleted_customers).toContain(who.stripeId);

    // A later event on a kept order (a refund, say) notifies nobody: the outbox trigger skips erased accounts.
    await t.sql(`INSERT INTO order_events (order_id, at, actor_role, type, notify, evidence) VALUES ($1::uuid, now(), 'admin', 'refunded', 'refund_issued', '{"amount": 100}')`, [orderId]);
    expect((await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM notification_outbox WHERE user_id = $1::uuid', [who.userId]))[0]!.n).toBe(0);

    const again = await t.api.post('/v1/auth/register', { email: who.email, password: PASSWORD });
    expect(again.status, again.text).toBe(201);
    expect(again.body.user.id).not.toBe(who.userId);
  });

  it('names the missing or conflicting field (422) before any check', async () => {
    const who = await actor(t);
    const none = expectProblem(await del(who, {}), 422, 'validation_failed');
    expect(none.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.idToken', 'body.nonce', 'body.provider']);
    const both = expectProblem(await del(who, { password: PASSWORD, provider: 'apple' }), 422, 'validation_failed');
    expect(both.errors.map((e: { field: string }) => e.field)).toEqual(['body.provider']);
    expect((await t.api.get('/v1/me', { token: who.token })).status).toBe(200);
  });

  it('refuses a wrong password with 403 and changes nothing', async () => {
    const who = await actor(t);
    expectProblem(await del(who, { password: 'not the password' }), 403, 'current_password_incorrect');
    expect((await t.api.get('/v1/me', { token: who.token })).body.email).toBe(who.email);
    expect(await tasksOf(who.userId)).toEqual([]);
  });

  it('answers 409 with the blocking orders while one is in progress or money is outstanding', async () => {
    const who = await actor(t);
    const open = await payOnDeliveryOrder(t, who);
    const res = expectProblem(await del(who, { password: PASSWORD }), 409, 'account_has_open_orders');
    expect(res.details.blockers).toEqual([{ orderId: open, status: 'confirmed', outstanding: expect.any(Number), currency: expect.any(String), refundPending: false, tipPending: false }]);
    expect((await t.api.get('/v1/me', { token: who.token })).status).toBe(200);

    // Delivered but never paid at the door: the balance is outstanding.
    await t.sql("UPDATE orders SET status = 'delivered' WHERE id = $1::uuid", [open]);
    const owed = expectProblem(await del(who, { password: PASSWORD }), 409, 'account_has_open_orders');
    expect(owed.details.blockers).toHaveLength(1);
    expect(owed.details.blockers[0]).toMatchObject({ orderId: open, status: 'delivered' });
    expect(owed.details.blockers[0].outstanding).toBeGreaterThan(0);
    const [user] = await t.sql<{ erased_at: string | null }>('SELECT erased_at FROM users WHERE id = $1::uuid', [who.userId]);
    expect(user!.erased_at).toBeNull();
  });

  it('erases once when two deletions race; both answer sensibly', async () => {
    const who = await customerWithStripe();
    const [a, b] = await Promise.all([del(who, { password: PASSWORD }), del(who, { password: PASSWORD })]);
    expect([a.status, b.status].sort()).toEqual(expect.arrayContaining([204]));
    for (const r of [a, b]) expect([204, 401]).toContain(r.status);
    const tasks = await tasksOf(who.userId);
    expect(tasks).toHaveLength(1);
    const ended = await t.sql<{ n: number }>("SELECT count(*)::int AS n FROM ended_sessions WHERE user_id = $1::uuid AND reason = 'account_deleted'", [who.userId]);
    expect(ended[0]!.n).toBe(2); // the registration's session and the login's, each recorded once
  });
});

describe('external steps', () => {
  it('a Stripe failure does not block the deletion: the job retries the task later', async () => {
    const who = await customerWithStripe();
    await t.stripe.failNext({ mode: 'server_error', method: 'DELETE', path: `/v1/customers/${who.stripeId}`, times: 3 });
    expect((await del(who, { password: PASSWORD })).status).toBe(204);
    const [failed] = await tasksOnce(who.userId, 'last_error');
    expect(failed).toMatchObject({ done_at: null, attempts: 1, reference: who.stripeId });
    // Not due yet: a run now leaves it alone.
    expect((await runErasureTasks(t.deps)).attempted).toBe(0);
    // Later (the backoff has passed): the scheduled job deletes it.
    await t.sql("UPDATE account_erasure_tasks SET next_attempt_at = now() - interval '1 second' WHERE user_id = $1::uuid", [who.userId]);
    const report = await runScheduledJobs(t.deps);
    expect(report.erasureTasks!.done).toBeGreaterThanOrEqual(1);
    expect((await tasksOf(who.userId))[0]).toMatchObject({ outcome: 'done', attempts: 2, reference: null });
    expect((await t.stripe.state()).deleted_customers).toContain(who.stripeId);
  });

  it('a Customer already deleted at Stripe (404 on retry) counts as done', async () => {
    const who = await customerWithStripe();
    await (await t.deps.payments!.client()).customers.del(who.stripeId);
    expect((await del(who, { password: PASSWORD })).status).toBe(204);
    const [task] = await tasksOnce(who.userId, 'done_at');
    expect(task).toMatchObject({ outcome: 'gone' });
  });
});

describe('Sign in with Apple accounts', () => {
  let n = 0;
  const sub = () => `001.${process.pid}.${Date.now()}.${++n}`;
  const nonce = () => `nonce-${crypto.randomUUID()}`;
  const idToken = (s: string, raw: string, opts = {}) => world.idToken(s, raw, opts);

  async function appleUser() {
    const s = sub();
    const raw = nonce();
    const code = apple.issueCode(APPLE_AUD);
    const res = await t.api.post('/v1/auth/oauth/apple', { idToken: await idToken(s, raw), nonce: raw, authorizationCode: code });
    expect(res.status, res.text).toBe(201);
    return { sub: s, token: res.body.accessToken as string, userId: res.body.user.id as string };
  }

  it('keeps the exchanged refresh token sealed and revokes it at Apple on deletion, with a valid client secret', async () => {
    const who = await appleUser();
    const [identity] = await t.sql<{ sealed: string | null }>("SELECT apple_refresh_token_sealed AS sealed FROM user_identities WHERE provider = 'apple' AND subject = $1", [who.sub]);
    const refreshToken = apple.refreshTokens().at(-1)!;
    expect(identity!.sealed).toMatch(/^v1\./);
    expect(identity!.sealed).not.toContain(refreshToken);

    const raw = nonce();
    const res = await del(who, { provider: 'apple', idToken: await idToken(who.sub, raw), nonce: raw });
    expect(res.status, res.text).toBe(204);
    await eventually(async () => (apple.revocations().some((r) => r.token === refreshToken) ? true : undefined), 'apple revoke');
    expect(apple.revocations().find((r) => r.token === refreshToken)).toEqual({ clientId: APPLE_AUD, token: refreshToken, tokenTypeHint: 'refresh_token', known: true });
    expect((await t.sql<{ n: number }>("SELECT count(*)::int AS n FROM user_identities WHERE subject = $1", [who.sub]))[0]!.n).toBe(0);
    expectProblem(await t.api.get('/v1/me', { token: who.token }), 401, 'invalid_token');
  });

  it('a code sent with the deletion is exchanged and revoked too (an identity that kept no token)', async () => {
    const s = sub();
    const first = nonce();
    const signIn = await t.api.post('/v1/auth/oauth/apple', { idToken: await idToken(s, first), nonce: first });
    expect(signIn.status, signIn.text).toBe(201);
    const raw = nonce();
    const res = await del({ token: signIn.body.accessToken }, { provider: 'apple', idToken: await idToken(s, raw), nonce: raw, authorizationCode: apple.issueCode(APPLE_AUD) });
    expect(res.status, res.text).toBe(204);
    const refreshToken = apple.refreshTokens().at(-1)!;
    await eventually(async () => (apple.revocations().some((r) => r.token === refreshToken) ? true : undefined), 'apple revoke');
    expect(apple.revocations().find((r) => r.token === refreshToken)).toMatchObject({ clientId: APPLE_AUD, known: true });
  });

  it('an Apple failure (500) does not block the deletion: the job revokes later', async () => {
    const who = await appleUser();
    const refreshToken = apple.refreshTokens().at(-1)!;
    apple.failNext(500); // the request's own attempt meets it
    const raw = nonce();
    expect((await del(who, { provider: 'apple', idToken: await idToken(who.sub, raw), nonce: raw })).status).toBe(204);
    const [failed] = await tasksOnce(who.userId, 'last_error');
    expect(failed).toMatchObject({ kind: 'apple_token_revoke', done_at: null, attempts: 1 });
    expect(failed!.last_error).toContain('500');
    await t.sql("UPDATE account_erasure_tasks SET next_attempt_at = now() - interval '1 second' WHERE user_id = $1::uuid", [who.userId]);
    expect((await runErasureTasks(t.deps)).done).toBeGreaterThanOrEqual(1);
    expect((await tasksOf(who.userId))[0]).toMatchObject({ outcome: 'done', attempts: 2, reference: null });
    expect(apple.revocations().find((r) => r.token === refreshToken)).toMatchObject({ known: true });
  });

  it('without the Apple settings a revoke task closes as skipped, with a warning', async () => {
    const bare = await createTestApp({ env: { APPLE_CLIENT_IDS: APPLE_AUD, APPLE_JWKS_URL: jwks.url } });
    try {
      const who = await actor(bare);
      await bare.sql(
        `INSERT INTO account_erasure_tasks (user_id, kind, reference, next_attempt_at, created_at) VALUES ($1::uuid, 'apple_token_revoke', 'v1.x.y', now(), now())`,
        [who.userId],
      );
      const report = await runErasureTasks(bare.deps);
      expect(report.skipped).toBeGreaterThanOrEqual(1);
      expect((await tasksOf(who.userId, bare))[0]).toMatchObject({ outcome: 'skipped', reference: null });
      expect(bare.logger.entries.some((e) => JSON.stringify(e).includes('apple token not revoked'))).toBe(true);
    } finally {
      await bare.close();
    }
  });

  it('refuses a stale ID token or one for another identity, and changes nothing', async () => {
    const who = await appleUser();
    const raw = nonce();
    const stale = await idToken(who.sub, raw, { issuedAt: Math.floor(Date.now() / 1000) - 20 * 60, expiresIn: 3600 });
    expect(expectProblem(await del(who, { provider: 'apple', idToken: stale, nonce: raw }), 403, 'reauthentication_failed').details).toEqual({ reason: 'stale' });
    const other = nonce();
    expect(expectProblem(await del(who, { provider: 'apple', idToken: await idToken(sub(), other), nonce: other }), 403, 'reauthentication_failed').details).toEqual({ reason: 'not_linked' });
    expect((await t.api.get('/v1/me', { token: who.token })).status).toBe(200);
  });
});

describe('DELETE /v1/admin/users/{id}', () => {
  it('an admin erases a customer, logged with the admin id; customers cannot', async () => {
    const admin = await actor(t, 'admin');
    const who = await customerWithStripe();
    expectProblem(await t.api.send('DELETE', `/v1/admin/users/${admin.userId}`, undefined, { token: who.token }), 403, 'forbidden');
    const res = await t.api.send('DELETE', `/v1/admin/users/${who.userId}`, undefined, { token: admin.token });
    expect(res.status, res.text).toBe(204);
    expectProblem(await t.api.get('/v1/me', { token: who.token }), 401, 'invalid_token');
    const line = t.logger.entries.find((e) => JSON.stringify(e).includes('account erased') && JSON.stringify(e).includes(who.userId));
    expect(JSON.stringify(line)).toContain(admin.userId);
    expect((await t.api.send('DELETE', `/v1/admin/users/${who.userId}`, undefined, { token: admin.token })).status).toBe(204);
    expectProblem(await t.api.send('DELETE', `/v1/admin/users/${crypto.randomUUID()}`, undefined, { token: admin.token }), 404, 'not_found');
  });
});
