import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import type { Database } from '../../src/db/client.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { authorise, deliver, deliverEvent, paymentRows, placeOrder, stripeIntent, stripeRequests, type Placed } from '../journeys/payments.js';
import { cashTipOn, deliveredOrder, tipOn } from '../journeys/tips.js';
import { prepare, recreateServerDatabase } from '../setup/databases.js';
import { expectProblem } from '../support/client.js';
import { actor, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { stripeControl } from '../support/stripe.js';

/*
 * Issue 19, tips: on PostgreSQL (a database of its own, like the other payment files) with the
 * strict Stripe stand-in. Amounts: test/journeys/tips.ts (final total 2499; tips 100 to 1249).
 */
async function ownDatabase(): Promise<Database> {
  const server = process.env.TEST_DATABASE_URL;
  if (inject('nodeDatabaseUrl') && server) return createPostgresDatabase(await recreateServerDatabase(server, 'laundry_test_tips'), { max: 20 });
  const database = await createPgliteDatabase('memory://');
  await prepare(database);
  return database;
}

let t: TestApp;
let h: Harness;
let standIn: StripeStandIn;
beforeAll(async () => {
  standIn = await startStripeStandIn();
  t = await createTestApp({ database: await ownDatabase(), env: { STRIPE_API_URL: standIn.url } });
  h = { ...t, stripe: stripeControl(standIn.url) };
});
afterAll(async () => {
  await t?.close();
  await standIn?.close();
});

const delivered = (method: 'card' | 'on_delivery' = 'card') => deliveredOrder(h, method);
const tip = (p: Placed, body: unknown, key?: string, who?: Actor) => tipOn(h, p, body, key, who);
const cashTip = (p: Placed, body: unknown, staff: Actor, key?: string) => cashTipOn(h, p, body, staff, key);
const tipRows = (orderId: string) =>
  h.sql<{ id: string; status: string; amount: number; method: string; driver_user_id: string | null; stripe_payment_intent_id: string | null; failure_code: string | null }>(
    `SELECT id, status, amount, method, driver_user_id, stripe_payment_intent_id, failure_code FROM tips WHERE order_id = $1 ORDER BY created_at`,
    [orderId],
  );
const tipIntents = async (orderId: string) =>
  (await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === orderId && r.form.metadata?.kind === 'tip');

describe('a customer tips on the saved card', () => {
  it('charges the preset off-session with the right amount, customer and metadata, and records it with the driver', async () => {
    const p = await delivered();
    const before = await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token });
    const res = await tip(p, { percent: 15 }, 'tip-happy-path-1');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ orderId: p.order.id, amount: 375, currency: 'USD', percent: 15, method: 'card', status: 'succeeded' });

    const [sent, ...more] = await tipIntents(p.order.id);
    expect(more).toEqual([]);
    expect(sent!.form).toMatchObject({ amount: '375', currency: 'usd', off_session: 'true', confirm: 'true', metadata: { kind: 'tip', tip_id: res.body.id } });
    expect(sent!.idempotencyKey).toBe(`tip-${res.body.id}`);
    // The customer and card saved with the hold.
    const hold = (await paymentRows(h, p.order.id)).find((r) => r.kind === 'hold')!;
    const { intent: holdIntent } = await stripeIntent(h, hold.pi!);
    expect(sent!.form.customer).toBe(holdIntent.customer);
    expect(sent!.form.payment_method).toBe(holdIntent.payment_method);

    const [row] = await tipRows(p.order.id);
    expect(row).toMatchObject({ status: 'succeeded', amount: 375, driver_user_id: p.staff.userId, method: 'card' });
    // Not part of the order's money: its balance and payments are as they were.
    const after = await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token });
    expect(after.body.balance).toEqual(before.body.balance);

    // The same key and body again: the same answer, no second charge.
    const again = await tip(p, { percent: 15 }, 'tip-happy-path-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(res.body);
    expect(await tipIntents(p.order.id)).toHaveLength(1);
    // The same key, another body: refused.
    expectProblem(await tip(p, { percent: 20 }, 'tip-happy-path-1'), 422, 'idempotency_key_reused');
    // Another key: one tip per order.
    expectProblem(await tip(p, { amount: 200 }), 409, 'tip_exists');
    expect(await tipRows(p.order.id)).toHaveLength(1);
  });

  it('its webhook events mark the tip, never the order paid', async () => {
    const p = await delivered();
    const res = await tip(p, { amount: 300 });
    expect(res.status, res.text).toBe(201);
    const [row] = await tipRows(p.order.id);
    const payments = await paymentRows(h, p.order.id);
    const { res: hook } = await deliver(h, 'payment_intent.succeeded', row!.stripe_payment_intent_id!);
    expect(hook.status).toBe(200);
    expect(hook.body.outcome).toBe('stale'); // already succeeded: nothing moves
    expect(await paymentRows(h, p.order.id)).toEqual(payments);

    // A tip Stripe answered `processing`: its success event moves the tip, and only the tip.
    await h.sql(`UPDATE tips SET status = 'processing' WHERE id = $1`, [row!.id]);
    const order = (await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token })).body;
    const { res: later, event } = await deliver(h, 'payment_intent.succeeded', row!.stripe_payment_intent_id!);
    expect(later.body.outcome).toBe('applied');
    expect((await tipRows(p.order.id))[0]!.status).toBe('succeeded');
    expect(await paymentRows(h, p.order.id)).toEqual(payments);
    const after = (await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token })).body;
    expect({ status: after.status, balance: after.balance, flags: after.flags }).toEqual({ status: order.status, balance: order.balance, flags: order.flags });
    // Delivered again (Stripe retries): a duplicate.
    expect((await deliverEvent(h, event)).res.body.outcome).toBe('duplicate');
  });

  it('presets compute from the final total; amounts outside the bounds are 422 and write nothing', async () => {
    const p = await delivered();
    for (const [body, field] of [
      [{ amount: -100 }, 'body.amount'],
      [{ amount: 2.5 }, 'body.amount'],
      [{ amount: 10_000_000_000 }, 'body.amount'],
      [{ percent: 12 }, 'body.percent'],
      [{ percent: 10, amount: 300 }, 'body'],
      [{}, 'body'],
    ] as const) {
      const r = await tip(p, body);
      expect(expectProblem(r, 422, 'validation_failed').errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    const high = expectProblem(await tip(p, { amount: 1250 }), 422, 'invalid_tip_amount');
    expect(high.details).toMatchObject({ min: 100, max: 1249, amount: 1250 });
    expectProblem(await tip(p, { amount: 99 }), 422, 'invalid_tip_amount');
    expect(await tipRows(p.order.id)).toEqual([]);
    expect(await tipIntents(p.order.id)).toEqual([]);
    const ok = await tip(p, { percent: 20 });
    expect(ok.body).toMatchObject({ amount: 500, percent: 20 });
  });

  it('refuses an undelivered order (409), another customer’s (404) and a door-paid one (409), writing nothing', async () => {
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    expect(expectProblem(await tip(p, { amount: 200 }), 409, 'order_not_delivered').details).toEqual({ status: 'confirmed' });
    const other = await delivered();
    expectProblem(await tip(other, { amount: 200 }, undefined, p.who), 404, 'not_found');
    const door = await delivered('on_delivery');
    expectProblem(await tip(door, { amount: 200 }), 409, 'payment_not_applicable');
    expect(await h.sql(`SELECT 1 FROM tips WHERE order_id IN ($1, $2, $3)`, [p.order.id, other.order.id, door.order.id])).toEqual([]);
  });

  it('ten concurrent tips with different keys: exactly one is charged', async () => {
    const p = await delivered();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => tip(p, { amount: 100 + i * 10 })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    for (const r of answers.filter((a) => a.status === 409)) expectProblem(r, 409, 'tip_exists');
    const rows = await tipRows(p.order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'succeeded', amount: answers.find((a) => a.status === 201)!.body.amount });
    expect(await tipIntents(p.order.id)).toHaveLength(1);
  });

  it('five concurrent requests with the same key: one charge, the others answer it or say it is in progress', async () => {
    const p = await delivered();
    const answers = await Promise.all(Array.from({ length: 5 }, () => tip(p, { amount: 300 }, 'tip-same-key-race')));
    const ok = answers.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) expect(r.body).toEqual(ok[0]!.body);
    for (const r of answers.filter((a) => a.status !== 201)) expect(expectProblem(r, 409, 'payment_in_progress').details).toEqual({ tipId: ok[0]!.body.id });
    expect(await tipRows(p.order.id)).toHaveLength(1);
    expect(await tipIntents(p.order.id)).toHaveLength(1);
  });

  it('a declined card: the tip is failed with the reason, 402 (the same on replay), no balance; a new key may try again', async () => {
    const p = await delivered();
    const before = (await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token })).body;
    await h.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents', declineCode: 'insufficient_funds' });
    const res = await tip(p, { amount: 400 }, 'tip-declined-once');
    const problem = expectProblem(res, 402, 'card_declined');
    expect(problem.details).toMatchObject({ amount: 400, currency: 'USD', reason: 'insufficient_funds' });
    const [row] = await tipRows(p.order.id);
    expect(row).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds' });
    const replay = await tip(p, { amount: 400 }, 'tip-declined-once');
    expect(expectProblem(replay, 402, 'card_declined').details).toEqual(problem.details);
    // Nothing owed, nothing flagged, no balance payment.
    const after = (await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token })).body;
    expect(after.balance).toEqual(before.balance);
    expect(after.flags).toEqual(before.flags);
    expect((await paymentRows(h, p.order.id)).filter((r) => r.kind === 'balance')).toEqual([]);
    // The card works again: a new key tips.
    const retry = await tip(p, { amount: 400 });
    expect(retry.status, retry.text).toBe(201);
    expect((await tipRows(p.order.id)).map((r) => r.status)).toEqual(['failed', 'succeeded']);
  });
});

describe('cash tips and the staff list', () => {
  it('staff record a cash tip on a door-paid order, for the driver who delivered it; each staff member sees only their own', async () => {
    const door = await delivered('on_delivery');
    const boss = await door.admin();
    const res = await cashTip(door, { amount: 500 }, boss, 'cash-tip-door-1');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amount: 500, method: 'cash', status: 'succeeded', percent: null });
    expect((await tipRows(door.order.id))[0]).toMatchObject({ driver_user_id: door.staff.userId, method: 'cash' });
    expect((await cashTip(door, { amount: 500 }, boss, 'cash-tip-door-1')).body).toEqual(res.body);
    expectProblem(await cashTip(door, { amount: 300 }, door.staff), 409, 'tip_exists');
    // A card order is tipped in the app, not in cash.
    const card = await delivered();
    expectProblem(await cashTip(card, { amount: 300 }, card.staff), 409, 'payment_not_applicable');
    const cardTip = await tip(card, { percent: 10 });
    expect(cardTip.status, cardTip.text).toBe(201);

    const mine = await h.api.get('/v1/staff/tips', { token: door.staff.token });
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body).toMatchObject({ count: 1, totals: [{ currency: 'USD', amount: 500 }], truncated: false });
    expect(mine.body.data).toEqual([expect.objectContaining({ orderId: door.order.id, amount: 500, method: 'cash' })]);
    const theirs = await h.api.get('/v1/staff/tips', { token: card.staff.token });
    expect(theirs.body.data.map((d: { orderId: string }) => d.orderId)).toEqual([card.order.id]);
    expect(theirs.body.totals).toEqual([{ currency: 'USD', amount: 250 }]);
    const nobody = await actor(h, 'staff');
    expect((await h.api.get('/v1/staff/tips', { token: nobody.token })).body).toMatchObject({ count: 0, totals: [], data: [] });
    // A past range holds none; a reversed or too long one is 422.
    const past = await h.api.get('/v1/staff/tips?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z', { token: door.staff.token });
    expect(past.body.count).toBe(0);
    expectProblem(await h.api.get('/v1/staff/tips?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', { token: door.staff.token }), 422, 'invalid_range');
    expectProblem(await h.api.get('/v1/staff/tips?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z', { token: door.staff.token }), 422, 'invalid_range');
    // Customers cannot list or record.
    expectProblem(await h.api.get('/v1/staff/tips', { token: door.who.token }), 403, 'forbidden');
  });
});

describe('a tip in flight and account deletion', () => {
  it('blocks DELETE /v1/me while the tip is pending or processing at Stripe, and lets it through once settled', async () => {
    const p = await delivered();
    const res = await tip(p, { percent: 10 }, 'tip-erasure-1');
    expect(res.status, res.text).toBe(201);
    const del = () => h.api.send('DELETE', '/v1/me', { password: 'fixture password' }, { token: p.who.token });

    for (const status of ['pending', 'processing']) {
      await h.sql('UPDATE tips SET status = $2 WHERE order_id = $1::uuid', [p.order.id, status]);
      const refused = expectProblem(await del(), 409, 'account_has_open_orders');
      expect(refused.details.blockers).toEqual([expect.objectContaining({ orderId: p.order.id, status: 'delivered', outstanding: 0, refundPending: false, tipPending: true })]);
      const [user] = await h.sql<{ erased: boolean }>('SELECT erased_at IS NOT NULL AS erased FROM users WHERE id = $1::uuid', [p.who.userId]);
      expect(user!.erased).toBe(false);
    }

    await h.sql("UPDATE tips SET status = 'succeeded' WHERE order_id = $1::uuid", [p.order.id]);
    const done = await del();
    expect(done.status, done.text).toBeLessThan(300);
    const [user] = await h.sql<{ erased: boolean }>('SELECT erased_at IS NOT NULL AS erased FROM users WHERE id = $1::uuid', [p.who.userId]);
    expect(user!.erased).toBe(true);
  });

  it('a tip left pending for over an hour (Stripe never answered, the app never retried) no longer blocks DELETE /v1/me: nothing settles it, and the customer could not tip again to clear it', async () => {
    const p = await delivered();
    const res = await tip(p, { percent: 10 }, 'tip-erasure-stuck');
    expect(res.status, res.text).toBe(201);
    await h.sql("UPDATE tips SET status = 'pending', created_at = now() - interval '61 minutes' WHERE order_id = $1::uuid", [p.order.id]);
    expectProblem(await tip(p, { percent: 10 }, 'tip-erasure-other'), 409, 'tip_exists');
    const done = await h.api.send('DELETE', '/v1/me', { password: 'fixture password' }, { token: p.who.token });
    expect(done.status, done.text).toBeLessThan(300);
    const [user] = await h.sql<{ erased: boolean }>('SELECT erased_at IS NOT NULL AS erased FROM users WHERE id = $1::uuid', [p.who.userId]);
    expect(user!.erased).toBe(true);
  });
});
