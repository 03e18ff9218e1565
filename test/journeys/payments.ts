import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor, address, slot, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

/**
 * Hold-then-capture, end to end, with the real Stripe SDK against the stand-in and webhooks
 * signed with the real scheme. Runs on Node and inside workerd.
 */
export function paymentsJourney(harness: () => Harness) {
  const setup = async (grams = 6000) => {
    const h = harness();
    const z = await zone(h, { deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 });
    const who = await actor(h);
    const staff = await actor(h, 'staff');
    const addressId = await address(h, who.userId, z.postcode);
    const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(h, z.id, 'delivery', { startsInHours: 80 });
    const svc = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const body = {
      items: [{ serviceId: svc.id, estimatedWeightGrams: grams }],
      addressId,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: 'card',
    };
    const created = await h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': `pay-${crypto.randomUUID()}` } });
    expect(created.status, created.text).toBe(201);
    return { h, who, staff, order: created.body };
  };

  const deliver = async (h: Harness, type: string, objectOrId: string | Record<string, unknown>) => {
    const signed = await h.stripe.signedEvent(type, objectOrId);
    const res = await h.api.post('/v1/webhooks/stripe', undefined, {
      rawBody: signed.payload,
      headers: { 'stripe-signature': signed.header, 'content-type': 'application/json' },
    });
    return { res, event: signed.event, signed };
  };

  /** Payment sheet → the customer's card authorises → Stripe tells us. */
  const authorise = async (h: Harness, who: Actor, orderId: string) => {
    const sheet = await h.api.post(`/v1/orders/${orderId}/payment-sheet`, undefined, { token: who.token });
    expect(sheet.status, sheet.text).toBe(200);
    await h.stripe.authorize(sheet.body.paymentIntentId);
    const { res } = await deliver(h, 'payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
    expect(res.status, res.text).toBe(200);
    return sheet.body;
  };

  const moveTo = async (h: Harness, staff: Actor, orderId: string, to: string, extra: Record<string, unknown> = {}) => {
    const res = await h.api.post(`/v1/staff/orders/${orderId}/transitions`, { to, ...extra }, { token: staff.token });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  const weigh = async (h: Harness, staff: Actor, orderId: string, weightGrams: number) => {
    await moveTo(h, staff, orderId, 'picked_up', { bagCount: 2 });
    await moveTo(h, staff, orderId, 'processing');
    const res = await h.api.post(`/v1/staff/orders/${orderId}/weigh-in`, { weightGrams }, { token: staff.token });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  const stripeCalls = async (h: Harness, pathPart: string) =>
    (await h.stripe.requests()).filter((r) => r.method === 'POST' && r.path.includes(pathPart) && r.status < 300);

  describe('payments', () => {
    it('sheet → authorised webhook → confirmed → weigh-in → captures exactly the final amount → succeeded', async () => {
      const { h, who, staff, order } = await setup(6000);
      const sheet = await authorise(h, who, order.id);
      // 6 kg × 250 = 1500 + delivery 499 = 1999; hold = +20% = 2399
      expect(sheet).toMatchObject({ amount: 2399, currency: 'USD', publishableKey: expect.stringMatching(/^pk_test_/) });
      expect(sheet.paymentIntentClientSecret).toMatch(/_secret_/);
      expect(sheet.customerId).toMatch(/^cus_/);
      expect(sheet.ephemeralKey).toBeTruthy();
      const again = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      expect(again.status).toBe(409); // confirmed now: nothing left to authorise

      const confirmed = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body;
      expect(confirmed.status).toBe('confirmed');
      expect(confirmed.timeline.at(-1)).toMatchObject({ actor: { role: 'system' }, from: 'pending_payment', to: 'confirmed' });

      const weighed = await weigh(h, staff, order.id, 5200); // 5.2 kg × 250 = 1300 → minimum 1500 → fee 200; + 499 = 1999
      expect(weighed.final.total).toBe(1999);
      const captures = await stripeCalls(h, '/capture');
      expect(captures.filter((c) => c.path.includes(sheet.paymentIntentId))).toHaveLength(1);
      expect(captures.find((c) => c.path.includes(sheet.paymentIntentId))!.form.amount_to_capture).toBe('1999');

      const { res } = await deliver(h, 'payment_intent.succeeded', sheet.paymentIntentId);
      expect(res.status).toBe(200);
      const after = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body;
      expect(after.timeline.filter((e: { type: string }) => e.type === 'payment').map((e: { note: string }) => e.note)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^Captured 1999/)]),
      );
    });
  });
}
