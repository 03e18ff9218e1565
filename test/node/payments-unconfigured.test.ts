import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveTo, paymentRows, placeOrder, weigh } from '../journeys/payments.js';
import { expectProblem } from '../support/client.js';
import { actor, address, slot, slotReserved, zone } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

/** Without STRIPE_SECRET_KEY (the embedded default): card payments are off, pay on delivery works. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ stripe: false });
});
afterAll(async () => {
  await t?.close();
});

describe('payments without Stripe configured', () => {
  it('card orders and every card endpoint answer 503 payments_not_configured, and write nothing', async () => {
    const z = await zone(t);
    const who = await actor(t);
    const [staff, admin] = [await actor(t, 'staff'), await actor(t, 'admin')];
    const addressId = await address(t, who.userId, z.postcode);
    const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(t, z.id, 'delivery', { startsInHours: 80 });
    const svc = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const body = { items: [{ serviceId: svc.id, estimatedWeightGrams: 6000 }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'card' };
    const card = await t.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': `k-${crypto.randomUUID()}` } });
    expectProblem(card, 503, 'payments_not_configured');
    expect(await t.sql('SELECT id FROM orders WHERE user_id = $1', [who.userId])).toEqual([]);
    expect([await slotReserved(t, pickup.id), await slotReserved(t, delivery.id)]).toEqual([0, 0]);

    const cash = await t.api.post('/v1/orders', { ...body, paymentMethod: 'on_delivery' }, { token: who.token, headers: { 'idempotency-key': `k-${crypto.randomUUID()}` } });
    expect(cash.status, cash.text).toBe(201);
    const id = cash.body.id as string;
    expectProblem(await t.api.post(`/v1/orders/${id}/payment-sheet`, undefined, { token: who.token }), 503, 'payments_not_configured');
    expectProblem(await t.api.post(`/v1/orders/${id}/approve-overage`, undefined, { token: who.token }), 503, 'payments_not_configured');
    expectProblem(await t.api.post(`/v1/staff/orders/${id}/capture`, undefined, { token: staff.token }), 503, 'payments_not_configured');
    expectProblem(await t.api.post(`/v1/staff/orders/${id}/refunds`, { amount: 100, reason: 'No Stripe' }, { token: admin.token }), 503, 'payments_not_configured');
    const hook = await t.api.post('/v1/webhooks/stripe', undefined, {
      rawBody: JSON.stringify({ id: 'evt_x', type: 'payment_intent.succeeded', data: { object: {} } }),
      headers: { 'stripe-signature': 't=1,v1=00', 'content-type': 'application/json' },
    });
    expectProblem(hook, 503, 'payments_not_configured');
    expect(await paymentRows(t, id)).toEqual([]);
  });

  it('pay on delivery still works from order to doorstep payment', async () => {
    const { who, staff, order } = await placeOrder(t, { paymentMethod: 'on_delivery' });
    expect(order.status).toBe('confirmed');
    const weighed = await weigh(t, staff, order.id, 5200);
    expect(weighed.final.total).toBe(1999);
    await moveTo(t, staff, order.id, 'ready');
    await moveTo(t, staff, order.id, 'out_for_delivery');
    const paid = await t.api.post(`/v1/staff/orders/${order.id}/payments`, { method: 'cash', amount: 1999 }, { token: staff.token });
    expect(paid.status, paid.text).toBe(204);
    await moveTo(t, staff, order.id, 'delivered');
    expect(await paymentRows(t, order.id)).toEqual([expect.objectContaining({ kind: 'in_person', method: 'cash', status: 'succeeded', captured: 1999 })]);
    const mine = await t.api.get(`/v1/orders/${order.id}`, { token: who.token });
    expect(mine.body.status).toBe('delivered');
    expect(mine.body.timeline.find((e: { type: string }) => e.type === 'payment')).toMatchObject({ note: 'Paid at the door (cash)' });

    // Cancelling an on_delivery order has nothing to settle with Stripe.
    const other = await placeOrder(t, { paymentMethod: 'on_delivery' });
    const cancelled = await t.api.post(`/v1/orders/${other.order.id}/cancel`, undefined, { token: other.who.token });
    expect(cancelled.status, cancelled.text).toBe(200);
  });
});
