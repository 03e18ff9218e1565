/**
 * Promo codes (issue 19) on the PostgreSQL server: admin CRUD and validation, every refused
 * code answering its code with nothing written, the total and per-customer limits under
 * parallel orders, the discount through the weigh-in, and the redemption given back on cancel.
 * Credit: test/node/credit.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { freshCode, promoRaceJourney, promoWorld, redemptions } from '../journeys/promo.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

promoRaceJourney(() => t);

/** Rows a refused order must not have written: its customer's orders and keys, the code's count, the slot. */
async function footprint(userId: string, promoId: string, slotId: string) {
  const [row] = await t.sql<Record<string, number>>(
    `SELECT (SELECT count(*) FROM orders WHERE user_id = $1)::int AS orders, (SELECT count(*) FROM idempotency_keys WHERE user_id = $1)::int AS keys,
            (SELECT redemption_count FROM promo_codes WHERE id = $2) AS redeemed, (SELECT reserved FROM slots WHERE id = $3) AS reserved,
            (SELECT coalesce(sum(uses), 0) FROM promo_customer_uses WHERE promo_code_id = $2)::int AS uses`,
    [userId, promoId, slotId],
  );
  return row;
}

describe('admin promo codes', () => {
  it('creates (normalised), lists, refuses bad input with 422 and a taken code with 409; customers get 403', async () => {
    const w = await promoWorld(t);
    const code = freshCode('ADM');
    const created = await t.api.post('/v1/admin/promo-codes', { code: `  ${code.toLowerCase()} `, kind: 'amount', value: 300, minimumSubtotal: 2000 }, { token: w.admin.token });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ code, kind: 'amount', value: 300, currency: 'USD', perCustomerLimit: 1, firstOrderOnly: false, active: true, redemptionCount: 0, maxRedemptions: null });
    expectProblem(await t.api.post('/v1/admin/promo-codes', { code: code.toLowerCase(), kind: 'percent', value: 10 }, { token: w.admin.token }), 409, 'promo_code_taken');
    for (const bad of [
      { code: 'AB', kind: 'percent', value: 10 },
      { code: 'HAS SPACE', kind: 'percent', value: 10 },
      { code: 'ÜBER-10', kind: 'percent', value: 10 },
      { code: freshCode(), kind: 'percent', value: 10_001 },
      { code: freshCode(), kind: 'percent', value: 0 },
      { code: freshCode(), kind: 'amount', value: -5 },
      { code: freshCode(), kind: 'percent', value: 10, validFrom: '2026-12-02T00:00:00Z', validUntil: '2026-12-01T00:00:00Z' },
      { code: freshCode(), kind: 'percent', value: 10, perCustomerLimit: 0 },
      { code: freshCode(), kind: 'percent', value: 10, currency: 'EUR' },
    ]) {
      expectProblem(await t.api.post('/v1/admin/promo-codes', bad, { token: w.admin.token }), 422, 'validation_failed');
    }
    const customer = await actor(t);
    expectProblem(await t.api.post('/v1/admin/promo-codes', { code: freshCode(), kind: 'percent', value: 10 }, { token: customer.token }), 403, 'forbidden');
    expectProblem(await t.api.get('/v1/admin/promo-codes', { token: customer.token }), 403, 'forbidden');
    const listed = await t.api.get('/v1/admin/promo-codes', { token: w.admin.token });
    expect(listed.body.data.find((p: { id: string }) => p.id === created.body.id)).toMatchObject({ code });
  });

  it('PATCH deactivates and changes limits; kind/value are fixed once redeemed (409); a limit below the redemptions held is 409', async () => {
    const w = await promoWorld(t);
    const code = await w.createCode({ code: freshCode('PAT'), maxRedemptions: 5 });
    const path = `/v1/admin/promo-codes/${code.id}`;
    expect((await t.api.patch(path, { value: 2000 }, { token: w.admin.token })).body.value).toBe(2000);
    const buyer = await w.one();
    expect((await w.order(buyer, { promoCode: code.code })).status).toBe(201);
    expectProblem(await t.api.patch(path, { value: 500 }, { token: w.admin.token }), 409, 'promo_code_redeemed');
    expectProblem(await t.api.patch(path, { kind: 'amount' }, { token: w.admin.token }), 409, 'promo_code_redeemed');
    await t.api.patch(path, { maxRedemptions: 1 }, { token: w.admin.token });
    const other = await w.one();
    expectProblem(await w.order(other, { promoCode: code.code }), 409, 'promo_code_exhausted');
    // A limit the held redemptions exceed is refused rather than stored.
    const second = await w.createCode({ code: freshCode('LIM'), maxRedemptions: 5 });
    for (const b of [await w.one(), await w.one()]) expect((await w.order(b, { promoCode: second.code })).status).toBe(201);
    expectProblem(await t.api.patch(`/v1/admin/promo-codes/${second.id}`, { maxRedemptions: 1 }, { token: w.admin.token }), 409, 'promo_limit_below_redemptions');
    const off = await t.api.patch(path, { active: false, validUntil: '2027-01-01T00:00:00+01:00' }, { token: w.admin.token });
    expect(off.body).toMatchObject({ active: false, validUntil: '2026-12-31T23:00:00.000Z', redemptionCount: 1 });
    expectProblem(await t.api.patch(`/v1/admin/promo-codes/${crypto.randomUUID()}`, { active: false }, { token: w.admin.token }), 404, 'not_found');
  });
});

describe('applying a code', () => {
  it('the discount is in the breakdown and the total; the weigh-in re-applies it to the final price', async () => {
    const w = await promoWorld(t, { minimumOrder: 0 });
    const pct = await w.createCode({ code: freshCode('PCT'), value: 1250 });
    const buyer = await w.one();
    // 6 kg wash and fold = 1500 subtotal + 499 delivery; 12.5% of 1500 = 187.5 → 188 (half up).
    const res = await w.order(buyer, { promoCode: pct.code.toLowerCase() });
    expect(res.status, res.text).toBe(201);
    expect(res.body.estimate).toMatchObject({ subtotal: 1500, deliveryFee: 499, discount: { code: pct.code, amount: 188 }, total: 1999 - 188 });
    expect(res.body.balance.outstanding).toBe(1811);
    const staff = await actor(t, 'staff');
    const post = (p: string, body: unknown) => t.api.post(`/v1/staff/orders/${res.body.id}/${p}`, body, { token: staff.token });
    await post('transitions', { to: 'picked_up', bagCount: 1 });
    await post('transitions', { to: 'processing' });
    const weighed = await post('weigh-in', { weightGrams: 7000 });
    expect(weighed.status, weighed.text).toBe(200);
    // 7 kg = 1750; 12.5% = 218.75 → 219.
    expect(weighed.body.final).toMatchObject({ subtotal: 1750, discount: { code: pct.code, amount: 219 }, total: 1750 + 499 - 219 });
  });

  it('a discount never takes the order below the zone minimum order; a code that would take nothing off is refused', async () => {
    const w = await promoWorld(t, { minimumOrder: 1400 });
    const big = await w.createCode({ code: freshCode('BIG'), kind: 'amount', value: 1000 });
    const res = await w.order(await w.one(), { promoCode: big.code });
    expect(res.body.estimate).toMatchObject({ subtotal: 1500, minimumOrderFee: 0, discount: { amount: 100 }, total: 1999 - 100 });
    // At the minimum already: the code would take nothing off, so it is refused rather than spent.
    const atMinimum = await promoWorld(t, { minimumOrder: 1500 });
    const code = await atMinimum.createCode({ code: freshCode('ZERO'), maxRedemptions: 5 });
    expectProblem(await atMinimum.order(await atMinimum.one(), { promoCode: code.code }), 422, 'promo_code_minimum_not_met');
    expect(await redemptions(t, code.id)).toEqual({ count: 0, orders: 0 });
  });

  it('every refused code answers its own code and writes nothing', async () => {
    const w = await promoWorld(t);
    const hour = 3_600_000;
    const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
    const expired = await w.createCode({ code: freshCode('EXP'), validFrom: iso(-48 * hour), validUntil: iso(-hour) });
    const early = await w.createCode({ code: freshCode('EARLY'), validFrom: iso(48 * hour) });
    const inactive = await w.createCode({ code: freshCode('OFF'), active: false });
    const minimum = await w.createCode({ code: freshCode('MIN'), minimumSubtotal: 5000 });
    const exhausted = await w.createCode({ code: freshCode('ONE'), maxRedemptions: 1 });
    const once = await w.createCode({ code: freshCode('ONCE'), perCustomerLimit: 1 });
    const first = await w.createCode({ code: freshCode('FIRST'), firstOrderOnly: true, perCustomerLimit: 5 });
    expect((await w.order(await w.one(), { promoCode: exhausted.code })).status).toBe(201);
    const regular = await w.one();
    expect((await w.order(regular, { promoCode: once.code })).status).toBe(201);

    const cases: Array<[string, string, number, string, typeof regular?]> = [
      ['NO-SUCH-CODE', expired.id, 422, 'promo_code_unknown'],
      ['!!', expired.id, 422, 'promo_code_unknown'],
      [expired.code, expired.id, 422, 'promo_code_expired'],
      [early.code, early.id, 422, 'promo_code_not_yet_valid'],
      [inactive.code, inactive.id, 422, 'promo_code_inactive'],
      [minimum.code, minimum.id, 422, 'promo_code_minimum_not_met'],
      [exhausted.code, exhausted.id, 409, 'promo_code_exhausted'],
      [once.code, once.id, 409, 'promo_code_already_used', regular],
      [first.code, first.id, 409, 'promo_code_first_order_only', regular],
    ];
    for (const [promoCode, promoId, status, code, who] of cases) {
      const buyer = who ?? (await w.one());
      const before = await footprint(buyer.userId, promoId, w.pickup.id);
      expectProblem(await w.order(buyer, { promoCode }), status, code);
      expect(await footprint(buyer.userId, promoId, w.pickup.id), code).toEqual(before);
    }
  });

  it('one customer, 10 parallel orders with a once-per-customer code: exactly one gets it, nine get 409 promo_code_already_used', async () => {
    const w = await promoWorld(t);
    const code = await w.createCode({ code: freshCode('SOLO'), perCustomerLimit: 1 });
    const buyer = await w.one();
    const results = await Promise.all(Array.from({ length: 10 }, () => w.order(buyer, { promoCode: code.code })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) expect(r.body.code).toBe('promo_code_already_used');
    expect(await redemptions(t, code.id)).toEqual({ count: 1, orders: 1 });
    const [uses] = await t.sql<{ uses: number }>('SELECT uses FROM promo_customer_uses WHERE promo_code_id = $1 AND user_id = $2', [code.id, buyer.userId]);
    expect(uses!.uses).toBe(1);
  });

  it('a cancelled order gives its redemption back (customer and staff cancel): the code can be used again', async () => {
    const w = await promoWorld(t);
    const code = await w.createCode({ code: freshCode('BACK'), maxRedemptions: 1 });
    const buyer = await w.one();
    const placed = await w.order(buyer, { promoCode: code.code });
    expect(await redemptions(t, code.id)).toEqual({ count: 1, orders: 1 });
    expect((await t.api.post(`/v1/orders/${placed.body.id}/cancel`, {}, { token: buyer.token })).status).toBe(200);
    expect(await redemptions(t, code.id)).toEqual({ count: 0, orders: 0 });
    // The same customer may use it again (their per-customer use was given back too), and a staff cancel gives it back as well.
    const again = await w.order(buyer, { promoCode: code.code });
    expect(again.status, again.text).toBe(201);
    const staff = await actor(t, 'staff');
    const cancelled = await t.api.post(`/v1/staff/orders/${again.body.id}/transitions`, { to: 'cancelled', note: 'Customer called' }, { token: staff.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(await redemptions(t, code.id)).toEqual({ count: 0, orders: 0 });
  });
});
