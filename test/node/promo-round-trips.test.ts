/**
 * Issue 19: a promo code and credit add no round trip to order creation, counted by the local
 * Neon endpoint on the real neon-http driver (the numbers a Worker pays; see round-trips.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rememberedOrderFlow } from '../support/fixtures.js';
import { createNeonTestApp, roundTripsOf, type NeonTestApp } from '../support/neon-app.js';
import { freshCode } from '../journeys/promo.js';
import { actor } from '../support/fixtures.js';

let app: NeonTestApp;
beforeAll(async () => {
  app = await createNeonTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('round trips of an order with a promo code and credit (neon-http driver)', () => {
  it('the same as without: one statement once its rows are remembered, read + write the first time; a refused code writes nothing in that one statement', async () => {
    const { t, endpoint } = app;
    const trips = async (call: () => Promise<{ status: number }>, status: number) => (await roundTripsOf(endpoint, call, status)).trips;
    const { who, pickup, delivery } = await rememberedOrderFlow(t);
    const admin = await actor(t, 'admin');
    const code = (await t.api.post('/v1/admin/promo-codes', { code: freshCode('RT'), kind: 'percent', value: 1000, perCustomerLimit: 100 }, { token: admin.token })).body;
    const once = (await t.api.post('/v1/admin/promo-codes', { code: freshCode('RT1'), kind: 'percent', value: 1000, perCustomerLimit: 1 }, { token: admin.token })).body;
    await t.api.post(`/v1/admin/users/${who.userId}/credit`, { amount: 300, reason: 'goodwill', note: 'RT' }, { token: admin.token, headers: { 'idempotency-key': `rt-${crypto.randomUUID()}` } });
    const addressId = (await t.api.get('/v1/addresses', { token: who.token })).body.data[0].id as string;
    const washFold = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const place = (extra: Record<string, unknown>) =>
      t.api.post(
        '/v1/orders',
        { items: [{ serviceId: washFold.id, estimatedWeightGrams: 8000 }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery', ...extra },
        { token: who.token, headers: { 'idempotency-key': `rt-${crypto.randomUUID()}` } },
      );
    // Without a code: one statement (everything remembered by the flow).
    expect(await trips(() => place({}), 201)).toBe(1);
    // A code this process has not read yet: the read that learns it, then the write (as any unremembered row).
    expect(await trips(() => place({ promoCode: code.code }), 201)).toBe(2);
    // Remembered now: one statement, like an order without a code.
    expect(await trips(() => place({ promoCode: code.code.toLowerCase() }), 201)).toBe(1);
    // Credit: learnt by the read, then remembered (and updated by this process's own spending).
    expect(await trips(() => place({ useCredit: true, promoCode: code.code }), 201)).toBe(2);
    expect(await trips(() => place({ useCredit: true, promoCode: code.code }), 201)).toBe(1);
    // A counted limit refused by the one statement itself: nothing written, no further trip.
    expect(await trips(() => place({ promoCode: once.code }), 201)).toBe(2);
    expect(await trips(() => place({ promoCode: once.code }), 409)).toBe(1);
  });
});
