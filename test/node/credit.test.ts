/**
 * Account credit (issue 19) on the PostgreSQL server: the admin grant (idempotent, admin-only),
 * GET /v1/me/credit, credit spent by 20 parallel orders (never negative, the ledger sums to the
 * balance), the card minimum kept on the card, and credit given back on cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { creditLedger, creditRaceJourney } from '../journeys/credit.js';
import { freshCode, promoWorld, redemptions } from '../journeys/promo.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

type World = Awaited<ReturnType<typeof promoWorld>>;

function grant(w: World, userId: string, body: unknown, key = `grant-${crypto.randomUUID()}`, token = w.admin.token) {
  return t.api.post(`/v1/admin/users/${userId}/credit`, body, { token, headers: { 'idempotency-key': key } });
}

/** The balance column and the ledger's sum, which must always agree. */
const ledger = (userId: string) => creditLedger(t, userId);

creditRaceJourney(() => t);

describe('granting credit', () => {
  it('admin-only, Idempotency-Key required; a retry adds nothing, another body with the key is 422; unknown user 404', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    const body = { amount: 700, reason: 'goodwill', note: 'Late delivery' };
    const key = `grant-${crypto.randomUUID()}`;
    const first = await grant(w, buyer.userId, body, key);
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({ amount: 700, currency: 'USD', reason: 'goodwill', note: 'Late delivery', orderId: null });
    const again = await grant(w, buyer.userId, body, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expectProblem(await grant(w, buyer.userId, { ...body, amount: 800 }, key), 422, 'idempotency_key_reused');
    expect(await ledger(buyer.userId)).toEqual({ balance: 700, sum: 700, entries: 1 });

    expectProblem(await t.api.post(`/v1/admin/users/${buyer.userId}/credit`, body, { token: w.admin.token }), 400, 'idempotency_key_missing');
    expectProblem(await grant(w, crypto.randomUUID(), body), 404, 'not_found');
    for (const bad of [{ ...body, amount: 0 }, { ...body, amount: -100 }, { ...body, reason: 'order_applied' }, { amount: 100, reason: 'goodwill' }]) {
      expectProblem(await grant(w, buyer.userId, bad), 422, 'validation_failed');
    }
    const staff = await actor(t, 'staff');
    expectProblem(await grant(w, buyer.userId, body, undefined, staff.token), 403, 'forbidden');
    expectProblem(await grant(w, buyer.userId, body, undefined, buyer.token), 403, 'forbidden');
    expect(await ledger(buyer.userId)).toEqual({ balance: 700, sum: 700, entries: 1 });

    const mine = await t.api.get('/v1/me/credit', { token: buyer.token });
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body).toMatchObject({ balance: 700, currency: 'USD', nextCursor: null, entries: [{ id: first.body.id, amount: 700, reason: 'goodwill' }] });
  });

  it('GET /v1/me/credit pages its entries newest first', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    for (const amount of [100, 200, 300]) expect((await grant(w, buyer.userId, { amount, reason: 'promo_reward', note: `r${amount}` })).status).toBe(201);
    const page1 = await t.api.get('/v1/me/credit?limit=2', { token: buyer.token });
    expect(page1.body.balance).toBe(600);
    expect(page1.body.entries.map((e: { amount: number }) => e.amount)).toEqual([300, 200]);
    const page2 = await t.api.get(`/v1/me/credit?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`, { token: buyer.token });
    expect(page2.body.entries.map((e: { amount: number }) => e.amount)).toEqual([100]);
    expect(page2.body.nextCursor).toBeNull();
  });
});

describe('spending credit on orders', () => {
  it('a card order keeps Stripe’s minimum charge on the card; a promo discount is taken before the credit', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    await grant(w, buyer.userId, { amount: 5000, reason: 'refund_to_credit', note: 'Refund' });
    const code = await w.createCode({ code: freshCode('CRD'), kind: 'amount', value: 99 });
    const card = await w.order(buyer, { paymentMethod: 'card', useCredit: true, promoCode: code.code });
    expect(card.status, card.text).toBe(201);
    // 1999 − 99 discount = 1900; USD minimum charge 50 stays on the card: 1850 of credit.
    expect(card.body.estimate).toMatchObject({ discount: { amount: 99 }, creditApplied: 1850, total: 50 });
    expect(await ledger(buyer.userId)).toMatchObject({ balance: 5000 - 1850, sum: 5000 - 1850 });
    // Without the flag, credit is left alone.
    const plain = await w.order(buyer);
    expect(plain.body.estimate.creditApplied).toBeUndefined();
  });

  it('a weigh-in that leaves less to pay than the credit spent gives the rest back (order_released)', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    await grant(w, buyer.userId, { amount: 5000, reason: 'goodwill', note: 'Big' });
    const placed = await w.order(buyer, { useCredit: true }, 10_000);
    // 10 kg = 2500 subtotal, free delivery from 5000 not reached: 2500 + 499 = 2999, all paid by credit.
    expect(placed.body.estimate).toMatchObject({ creditApplied: 2999, total: 0 });
    const staff = await actor(t, 'staff');
    const post = (p: string, body: unknown) => t.api.post(`/v1/staff/orders/${placed.body.id}/${p}`, body, { token: staff.token });
    await post('transitions', { to: 'picked_up', bagCount: 1 });
    await post('transitions', { to: 'processing' });
    const weighed = await post('weigh-in', { weightGrams: 4000 });
    expect(weighed.status, weighed.text).toBe(200);
    // 4 kg = 1000, at the zone's minimum order of 1000, + 499 delivery = 1499, all of it credit; 1500 comes back.
    expect(weighed.body.final).toMatchObject({ subtotal: 1000, creditApplied: 1499, total: 0 });
    expect(await ledger(buyer.userId)).toEqual({ balance: 5000 - 1499, sum: 5000 - 1499, entries: 3 });
    const [row] = await t.sql<{ credit_applied: number }>('SELECT credit_applied FROM orders WHERE id = $1', [placed.body.id]);
    expect(row!.credit_applied).toBe(1499);
  });

  it('a cancelled order gives its credit back with an order_released entry', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    await grant(w, buyer.userId, { amount: 800, reason: 'goodwill', note: 'Sorry' });
    const placed = await w.order(buyer, { useCredit: true });
    expect(placed.body.estimate).toMatchObject({ creditApplied: 800, total: 1199 });
    expect(await ledger(buyer.userId)).toEqual({ balance: 0, sum: 0, entries: 2 });
    expect((await t.api.post(`/v1/orders/${placed.body.id}/cancel`, {}, { token: buyer.token })).status).toBe(200);
    expect(await ledger(buyer.userId)).toEqual({ balance: 800, sum: 800, entries: 3 });
    const mine = await t.api.get('/v1/me/credit', { token: buyer.token });
    expect(mine.body.entries.map((e: { reason: string; amount: number; orderId: string | null }) => [e.reason, e.amount, e.orderId])).toEqual([
      ['order_released', 800, placed.body.id],
      ['order_applied', -800, placed.body.id],
      ['goodwill', 800, null],
    ]);
  });

  it('a missed pickup gives back its redemption and its credit; the fee is charged on its own', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    const code = await w.createCode({ code: freshCode(), kind: 'amount', value: 100 });
    expect((await grant(w, buyer.userId, { amount: 300, reason: 'goodwill', note: 'Late delivery' })).status).toBe(201);
    const placed = await w.order(buyer, { useCredit: true, promoCode: code.code });
    expect(placed.status).toBe(201);
    expect(placed.body.estimate).toMatchObject({ creditApplied: 300, discount: { amount: 100 } });
    expect(await redemptions(t, code.id)).toMatchObject({ count: 1 });
    const missed = await t.api.post(`/v1/staff/orders/${placed.body.id}/transitions`, { to: 'pickup_missed', reason: 'customer_absent' }, { token: w.admin.token });
    expect(missed.status).toBe(200);
    expect(await redemptions(t, code.id)).toMatchObject({ count: 0 });
    expect(await ledger(buyer.userId)).toEqual({ balance: 300, sum: 300, entries: 3 });
    // The code can be used again by the same customer (per-customer limit 1, given back).
    const again = await w.order(buyer, { promoCode: code.code });
    expect(again.status).toBe(201);
  });
});

