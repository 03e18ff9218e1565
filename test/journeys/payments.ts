import { describe, expect, it } from 'vitest';
import { expectProblem, type ApiResponse } from '../support/client.js';
import { actor, address, slot, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { TEST_STRIPE_SECRET_KEY } from '../support/stripe.js';

/*
 * Shared by the journeys below and the Node-only payments job tests. Prices, with the zone
 * below (delivery 499, minimum 1500, free delivery from 5000) and wash & fold at 250/kg:
 *   estimate 6 kg → 1500 + 499 = 1999; hold = 1999 + 20% = 2399;
 *   weighed 5.2 kg → 1300, lifted to the 1500 minimum → 1999 (captured in full, rest released);
 *   weighed 8 kg → 2000 + 499 = 2499: 100 over the hold, under the 1000 threshold → charged at once;
 *   weighed 14 kg → 3500 + 499 = 3999: 1600 over the hold → waits for the customer's approval.
 */
export const HOLD = 2399;

export interface Placed {
  h: Harness;
  who: Actor;
  staff: Actor;
  admin: () => Promise<Actor>;
  order: { id: string } & Record<string, any>;
}

export async function placeOrder(h: Harness, opts: { grams?: number; paymentMethod?: 'card' | 'on_delivery'; serviceId?: string } = {}): Promise<Placed> {
  // An API call first: inside workerd the harness's direct SQL reuses the driver settings the
  // Worker makes on its first request, so a journey run alone (-t) must not start with h.sql.
  const svc = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
  const z = await zone(h, { deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 });
  const who = await actor(h);
  const staff = await actor(h, 'staff');
  const addressId = await address(h, who.userId, z.postcode);
  const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
  const delivery = await slot(h, z.id, 'delivery', { startsInHours: 80 });
  const body = {
    items: [{ serviceId: opts.serviceId ?? svc.id, estimatedWeightGrams: opts.grams ?? 6000 }],
    addressId,
    pickupSlotId: pickup.id,
    deliverySlotId: delivery.id,
    paymentMethod: opts.paymentMethod ?? 'card',
  };
  const created = await h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': `pay-${crypto.randomUUID()}` } });
  expect(created.status, created.text).toBe(201);
  let admin: Actor | undefined;
  return { h, who, staff, admin: async () => (admin ??= await actor(h, 'admin')), order: created.body };
}

/** Signs an event for the object's current state (or a snapshot) and POSTs it like Stripe. */
export async function deliver(h: Harness, type: string, objectOrId: string | Record<string, unknown>) {
  return post(h, await h.stripe.signedEvent(type, objectOrId));
}

/** Delivers an event that already exists (same id): one the stand-in emitted, or a replay. */
export async function deliverEvent(h: Harness, event: Record<string, unknown>) {
  return post(h, await h.stripe.sign(event));
}

async function post(h: Harness, signed: { event: any; payload: string; header: string }) {
  const res = await h.api.post('/v1/webhooks/stripe', undefined, {
    rawBody: signed.payload,
    headers: { 'stripe-signature': signed.header, 'content-type': 'application/json' },
  });
  return { res, event: signed.event, signed };
}

/** Payment sheet → the customer's card authorises → Stripe tells us. */
export async function authorise(h: Harness, who: Actor, orderId: string) {
  const sheet = await h.api.post(`/v1/orders/${orderId}/payment-sheet`, undefined, { token: who.token });
  expect(sheet.status, sheet.text).toBe(200);
  await h.stripe.authorize(sheet.body.paymentIntentId);
  const { res } = await deliver(h, 'payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
  expect(res.status, res.text).toBe(200);
  expect(res.body).toEqual({ received: true, outcome: 'applied' });
  return sheet.body as { paymentIntentId: string; amount: number } & Record<string, any>;
}

export async function moveTo(h: Harness, staff: Actor, orderId: string, to: string, extra: Record<string, unknown> = {}) {
  const res = await h.api.post(`/v1/staff/orders/${orderId}/transitions`, { to, ...extra }, { token: staff.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** picked_up → processing → weigh-in; the weigh-in must answer 200 whatever Stripe does. */
export async function weigh(h: Harness, staff: Actor, orderId: string, weightGrams: number) {
  await moveTo(h, staff, orderId, 'picked_up', { bagCount: 2 });
  await moveTo(h, staff, orderId, 'processing');
  const res = await h.api.post(`/v1/staff/orders/${orderId}/weigh-in`, { weightGrams }, { token: staff.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export interface PaymentRow {
  id: string;
  kind: string;
  method: string;
  status: string;
  pi: string | null;
  amount: number;
  capturable: number;
  captured: number;
  refunded: number;
}

export async function paymentRows(h: Harness, orderId: string): Promise<PaymentRow[]> {
  return h.sql<PaymentRow>(
    `SELECT id::text, kind::text, method::text, status::text, stripe_payment_intent_id AS pi, amount, amount_capturable AS capturable,
            amount_captured AS captured, amount_refunded AS refunded
     FROM payments WHERE order_id = $1 ORDER BY created_at, kind`,
    [orderId],
  );
}

export async function orderRow(h: Harness, orderId: string) {
  const [row] = await h.sql<{ status: string; flags: string[]; flagged_reason: string | null; final_total: number | null; approval_required: boolean; approved: boolean }>(
    `SELECT status::text, flags, flagged_reason, final_total, overage_approval_required AS approval_required, overage_approved_at IS NOT NULL AS approved
     FROM orders WHERE id = $1`,
    [orderId],
  );
  return row!;
}

/** What Stripe holds for one PaymentIntent, and the events it emitted for it. */
export async function stripeIntent(h: Harness, pi: string) {
  const state = await h.stripe.state();
  const events = (state.events as Array<{ id: string; type: string; data: { object: { id: string } } }>).filter((e) => e.data.object.id === pi);
  return {
    intent: state.payment_intents[pi] as Record<string, any>,
    events,
    /** A manual-capture intent emits payment_intent.succeeded once per capture Stripe executed. */
    captures: events.filter((e) => e.type === 'payment_intent.succeeded').length,
    refunds: Object.values(state.refunds as Record<string, { payment_intent: string; amount: number }>).filter((r) => r.payment_intent === pi),
  };
}

/**
 * Stripe lets an uncaptured hold lapse (about 7 days for online cards:
 * https://docs.stripe.com/payments/place-a-hold-on-a-payment-method). The stand-in's clock is
 * shared by every suite, so the hold is cancelled through Stripe's API instead, and the
 * `payment_intent.canceled` event is delivered with `cancellation_reason: automatic`, as the
 * expiry sends it. Returns the webhook's answer.
 */
export async function lapseHold(h: Harness, pi: string) {
  const res = await fetch(`${h.stripe.url}/v1/payment_intents/${pi}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });
  expect(res.status).toBe(200);
  return deliver(h, 'payment_intent.canceled', { ...(await stripeIntent(h, pi)).intent, cancellation_reason: 'automatic' });
}

export async function stripeRequests(h: Harness, method: string, path: string) {
  return (await h.stripe.requests()).filter((r) => r.method === method && r.path === path);
}

async function timeline(h: Harness, who: Actor, orderId: string): Promise<Array<Record<string, any>>> {
  const res = await h.api.get(`/v1/orders/${orderId}`, { token: who.token });
  expect(res.status, res.text).toBe(200);
  return res.body.timeline;
}

const notes = async (h: Harness, who: Actor, orderId: string) =>
  (await timeline(h, who, orderId)).filter((e) => e.type === 'payment').map((e) => e.note as string);

const sortedStatuses = (replies: ApiResponse[]) => replies.map((r) => r.status).sort();

/**
 * Hold-then-capture, end to end, with the real Stripe SDK against the stand-in and webhooks
 * signed with the real scheme. Runs on Node and inside workerd.
 */
export function paymentsJourney(harness: () => Harness) {
  const setup = (grams = 6000) => placeOrder(harness(), { grams });

  describe('payments', () => {
    it('sheet → authorised webhook → confirmed → weigh-in → captures exactly the final amount → succeeded', async () => {
      const { h, who, staff, order } = await setup(6000);
      const sheet = await authorise(h, who, order.id);
      // 6 kg × 250 = 1500 + delivery 499 = 1999; hold = +20% = 2399
      expect(sheet).toMatchObject({ amount: HOLD, currency: 'USD', publishableKey: expect.stringMatching(/^pk_test_/) });
      expect(sheet.paymentIntentClientSecret).toMatch(/_secret_/);
      expect(sheet.customerId).toMatch(/^cus_/);
      // A CustomerSession always; no ephemeral key unless the app names its SDK's API version (./payments-collect.ts).
      expect(sheet).toMatchObject({ purpose: 'hold', customerSessionClientSecret: expect.stringMatching(/^cuss_secret_/), ephemeralKey: null });
      const created = (await stripeIntent(h, sheet.paymentIntentId)).intent;
      expect(created).toMatchObject({ amount: HOLD, currency: 'usd', capture_method: 'manual', customer: sheet.customerId, metadata: { order_id: order.id, kind: 'hold' } });
      const again = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      expectProblem(again, 409, 'payment_not_pending'); // confirmed now: nothing left to authorise

      const confirmed = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body;
      expect(confirmed.status).toBe('confirmed');
      expect(confirmed.timeline.at(-1)).toMatchObject({ actor: { role: 'system' }, from: 'pending_payment', to: 'confirmed' });

      const weighed = await weigh(h, staff, order.id, 5200); // 5.2 kg × 250 = 1300 → minimum 1500 → fee 200; + 499 = 1999
      expect(weighed.final.total).toBe(1999);
      const captures = await stripeRequests(h, 'POST', `/v1/payment_intents/${sheet.paymentIntentId}/capture`);
      expect(captures).toHaveLength(1);
      expect(captures[0]!.form.amount_to_capture).toBe('1999');
      expect(captures[0]!.idempotencyKey).toMatch(/^capture-/);
      const atStripe = await stripeIntent(h, sheet.paymentIntentId);
      expect(atStripe.intent).toMatchObject({ status: 'succeeded', amount_received: 1999, amount_capturable: 0 });
      expect(atStripe.captures).toBe(1);
      expect(await paymentRows(h, order.id)).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'succeeded', amount: HOLD, captured: 1999, refunded: 0 }),
      ]);

      // Stripe's own succeeded event: we recorded the capture already, so it changes nothing.
      const succeeded = atStripe.events.find((e) => e.type === 'payment_intent.succeeded')!;
      const { res } = await deliverEvent(h, succeeded);
      expect(res.status, res.text).toBe(200);
      expect(res.body.outcome).toBe('stale');
      expect(await notes(h, who, order.id)).toEqual([expect.stringMatching(/^Captured 1999 of the 2399 hold/)]);
      expect((await orderRow(h, order.id)).flagged_reason).toBeNull();
    });

    it('the payment sheet is idempotent: repeated and racing calls share one PaymentIntent and one Customer', async () => {
      const { h, who, order } = await setup();
      const calls = await Promise.all([1, 2].map(() => h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token })));
      const third = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      for (const r of [...calls, third]) expect(r.status, r.text).toBe(200);
      const ids = new Set([...calls, third].map((r) => r.body.paymentIntentId));
      expect(ids.size).toBe(1);
      expect(new Set([...calls, third].map((r) => r.body.customerId)).size).toBe(1);
      const state = await h.stripe.state();
      const intents = Object.values(state.payment_intents as Record<string, any>).filter((pi) => pi.metadata.order_id === order.id);
      expect(intents).toHaveLength(1);
      expect(Object.values(state.customers as Record<string, any>).filter((c) => c.metadata.user_id === who.userId)).toHaveLength(1);
      const creates = (await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === order.id);
      expect(creates.length).toBeGreaterThan(0);
      expect(creates.every((r) => r.idempotencyKey === `hold-${order.id}`)).toBe(true);
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ kind: 'hold', pi: [...ids][0], amount: HOLD })]);
      const [user] = await h.sql<{ customer: string }>('SELECT stripe_customer_id AS customer FROM users WHERE id = $1', [who.userId]);
      expect(user!.customer).toBe(third.body.customerId);
      expect((await orderRow(h, order.id)).status).toBe('pending_payment');
    });

    it('a Stripe outage while opening the sheet is 502 payment_provider_error, and the retry reuses the one intent', async () => {
      const { h, who, order } = await setup();
      await h.stripe.failNext({ mode: 'server_error', path: '/v1/customer_sessions', times: 3 });
      expectProblem(await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token }), 502, 'payment_provider_error');
      const retry = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      expect(retry.status, retry.text).toBe(200);
      const intents = Object.values((await h.stripe.state()).payment_intents as Record<string, any>).filter((pi) => pi.metadata.order_id === order.id);
      expect(intents.map((pi) => pi.id)).toEqual([retry.body.paymentIntentId]);
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ pi: retry.body.paymentIntentId })]);
    });

    it("another customer's order is 404 on payment-sheet and approve-overage; bad ids are 422, not 500", async () => {
      const { h, order } = await setup();
      const stranger = await actor(h);
      expectProblem(await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: stranger.token }), 404, 'not_found');
      expectProblem(await h.api.post(`/v1/orders/${order.id}/approve-overage`, undefined, { token: stranger.token }), 404, 'not_found');
      expectProblem(await h.api.post(`/v1/orders/${crypto.randomUUID()}/payment-sheet`, undefined, { token: stranger.token }), 404, 'not_found');
      expectProblem(await h.api.post('/v1/orders/not-a-uuid/payment-sheet', undefined, { token: stranger.token }), 422, 'validation_failed');
      expect(await paymentRows(h, order.id)).toEqual([]);
      const onDelivery = await placeOrder(h, { paymentMethod: 'on_delivery' });
      expectProblem(await h.api.post(`/v1/orders/${onDelivery.order.id}/payment-sheet`, undefined, { token: onDelivery.who.token }), 409, 'payment_not_applicable');
    });

    it('an overage within the threshold is charged at once, off-session, on the card saved with the hold', async () => {
      const { h, who, staff, order } = await setup();
      const sheet = await authorise(h, who, order.id);
      const weighed = await weigh(h, staff, order.id, 8000);
      expect(weighed.final.total).toBe(2499);
      const hold = await stripeIntent(h, sheet.paymentIntentId);
      expect(hold.intent).toMatchObject({ status: 'succeeded', amount_received: HOLD }); // never more than the hold
      const rows = await paymentRows(h, order.id);
      expect(rows).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'succeeded', captured: HOLD }),
        expect.objectContaining({ kind: 'overage', method: 'card', status: 'succeeded', amount: 100, captured: 100 }),
      ]);
      const overage = await stripeIntent(h, rows[1]!.pi!);
      expect(overage.intent).toMatchObject({
        amount: 100,
        status: 'succeeded',
        customer: sheet.customerId,
        payment_method: hold.intent.payment_method,
        metadata: { order_id: order.id, kind: 'overage' },
      });
      const create = (await stripeRequests(h, 'POST', '/v1/payment_intents')).find((r) => r.form.metadata?.order_id === order.id && r.form.metadata?.kind === 'overage')!;
      expect(create).toMatchObject({ idempotencyKey: `overage-${order.id}`, form: { off_session: 'true', confirm: 'true', amount: '100' } });
      expect(await orderRow(h, order.id)).toMatchObject({ approval_required: false, flagged_reason: null });
      expect(await notes(h, who, order.id)).toEqual([expect.stringMatching(/^Captured 2399/), 'Charged the overage of 100']);
      // A retry has nothing left to do.
      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.status, retry.text).toBe(200);
      expect(retry.body).toMatchObject({ kind: 'already_captured', captured: HOLD, overage: 'charged' });
      expect((await paymentRows(h, order.id)).length).toBe(2);
    });

    it("an overage above the threshold waits for the customer's approval, then is charged once", async () => {
      const { h, who, staff, order } = await setup();
      const sheet = await authorise(h, who, order.id);
      expectProblem(await h.api.post(`/v1/orders/${order.id}/approve-overage`, undefined, { token: who.token }), 409, 'overage_not_pending');
      const weighed = await weigh(h, staff, order.id, 14_000);
      expect(weighed.final.total).toBe(3999);
      // The weigh-in answers with the order after its capture, exactly as a read just after shows it.
      expect(weighed.overageApprovalRequired).toBe(true);
      expect(weighed.timeline.at(-2)).toMatchObject({ type: 'payment', note: expect.stringMatching(/waiting for the customer's approval/) });
      // Until the customer approves, the 1600 is outstanding: flagged, no delivery (issue 13).
      expect(weighed.timeline.at(-1)).toMatchObject({ type: 'payment', note: 'Payment outstanding: 1600 USD to collect before delivery' });
      expect(weighed.balance).toMatchObject({ due: 3999, paid: HOLD, outstanding: 1600 });
      expect(weighed.flags).toEqual(['payment_outstanding']);
      expect(weighed).toEqual((await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body);
      expect((await stripeIntent(h, sheet.paymentIntentId)).intent).toMatchObject({ status: 'succeeded', amount_received: HOLD });
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ kind: 'hold', captured: HOLD })]);
      expect(await orderRow(h, order.id)).toMatchObject({ approval_required: true, approved: false });
      expect((await notes(h, who, order.id)).at(-2)).toMatch(/1600 above the hold; waiting for the customer's approval/);

      // Staff retrying, or the job, must not charge it before the customer agrees.
      const early = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(early.body).toMatchObject({ kind: 'already_captured', overage: 'awaiting_approval' });
      const overageCreates = async () =>
        (await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === order.id && r.form.metadata?.kind === 'overage');
      expect(await overageCreates()).toHaveLength(0);

      const approved = await h.api.post(`/v1/orders/${order.id}/approve-overage`, undefined, { token: who.token });
      expect(approved.status, approved.text).toBe(200);
      expect(approved.body).toMatchObject({ overage: 'charged' });
      const rows = await paymentRows(h, order.id);
      expect(rows[1]).toMatchObject({ kind: 'overage', status: 'succeeded', amount: 1600, captured: 1600 });
      expect((await stripeIntent(h, rows[1]!.pi!)).intent).toMatchObject({ amount: 1600, status: 'succeeded' });
      expect(await orderRow(h, order.id)).toMatchObject({ approval_required: true, approved: true, flags: [] });
      expect((await notes(h, who, order.id)).at(-1)).toBe('Nothing outstanding any more');
      const timelineNow = await timeline(h, who, order.id);
      expect(timelineNow.find((e) => e.note === 'Customer approved the extra charge')).toMatchObject({ actor: { role: 'customer', userId: who.userId } });

      expectProblem(await h.api.post(`/v1/orders/${order.id}/approve-overage`, undefined, { token: who.token }), 409, 'overage_not_pending');
      expect(await overageCreates()).toHaveLength(1);
      expect(await paymentRows(h, order.id)).toHaveLength(2);
    });

    it('an approved overage whose charge hit a Stripe failure is charged when approval is retried', async () => {
      const { h, who, staff, order } = await setup();
      await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 14_000);
      await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', times: 3 });
      const failed = await h.api.post(`/v1/orders/${order.id}/approve-overage`, undefined, { token: who.token });
      expectProblem(failed, 502, 'payment_provider_error');
      expect(await paymentRows(h, order.id)).toHaveLength(1);
      const retried = await h.api.post(`/v1/orders/${order.id}/approve-overage`, undefined, { token: who.token });
      expect(retried.status, retried.text).toBe(200);
      expect(retried.body).toMatchObject({ overage: 'charged' });
      expect((await paymentRows(h, order.id))[1]).toMatchObject({ kind: 'overage', status: 'succeeded', captured: 1600 });
    });

    it('a replayed webhook (same event id) changes nothing; unknown event types are accepted and ignored', async () => {
      const { h, who, order } = await setup();
      const sheet = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      await h.stripe.authorize(sheet.body.paymentIntentId);
      const first = await deliver(h, 'payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
      expect(first.res.body).toEqual({ received: true, outcome: 'applied' });
      const before = { order: await timeline(h, who, order.id), payments: await paymentRows(h, order.id) };
      expect(before.payments[0]).toMatchObject({ status: 'requires_capture', capturable: HOLD });

      for (let i = 0; i < 2; i++) {
        const replay = await h.api.post('/v1/webhooks/stripe', undefined, {
          rawBody: first.signed.payload,
          headers: { 'stripe-signature': first.signed.header, 'content-type': 'application/json' },
        });
        expect(replay.status, replay.text).toBe(200);
        expect(replay.body).toEqual({ received: true, outcome: 'duplicate' });
      }
      // Re-signed later (Stripe's retry carries a new timestamp): still the same event.
      expect((await deliverEvent(h, first.event)).res.body.outcome).toBe('duplicate');
      expect({ order: await timeline(h, who, order.id), payments: await paymentRows(h, order.id) }).toEqual(before);

      const unknown = await deliver(h, 'customer.updated', sheet.body.customerId);
      expect(unknown.res.status).toBe(200);
      expect(unknown.res.body).toEqual({ received: true, outcome: 'ignored' });
      expect((await deliverEvent(h, unknown.event)).res.body.outcome).toBe('duplicate');
    });

    it('events out of order: a late failure after the authorisation, a late authorisation after the capture', async () => {
      const { h, who, staff, order } = await setup();
      const sheet = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      const pi = sheet.body.paymentIntentId as string;
      await h.stripe.authorize(pi, { decline: true }); // first card declined…
      await h.stripe.authorize(pi); // …the second one works
      const emitted = (await stripeIntent(h, pi)).events;
      const failedEvent = emitted.find((e) => e.type === 'payment_intent.payment_failed')!;
      const authorisedEvent = emitted.find((e) => e.type === 'payment_intent.amount_capturable_updated')!;

      expect((await deliverEvent(h, authorisedEvent)).res.body.outcome).toBe('applied');
      expect((await deliverEvent(h, failedEvent)).res.body.outcome).toBe('stale');
      expect((await orderRow(h, order.id)).status).toBe('confirmed');
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'requires_capture', capturable: HOLD })]);

      // Stripe captures but its answer never reaches us (a 500 after the capture was applied).
      await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/capture`, applyThenFail: true, times: 3 });
      await weigh(h, staff, order.id, 5200);
      expect((await paymentRows(h, order.id))[0]).toMatchObject({ status: 'requires_capture', captured: 0 });
      const atStripe = await stripeIntent(h, pi);
      expect(atStripe.intent).toMatchObject({ status: 'succeeded', amount_received: 1999 });

      // succeeded arrives, then an older authorisation snapshot under a new event id.
      const succeeded = atStripe.events.find((e) => e.type === 'payment_intent.succeeded')!;
      expect((await deliverEvent(h, succeeded)).res.body.outcome).toBe('applied');
      const late = await deliver(h, 'payment_intent.amount_capturable_updated', authorisedEvent.data.object);
      expect(late.res.body.outcome).toBe('stale');
      expect((await deliverEvent(h, failedEvent)).res.body.outcome).toBe('duplicate');
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'succeeded', captured: 1999, capturable: 0 })]);
      expect(await orderRow(h, order.id)).toMatchObject({ status: 'processing', flagged_reason: null });

      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.body).toMatchObject({ kind: 'already_captured', captured: 1999, overage: 'none' });
      expect((await stripeIntent(h, pi)).captures).toBe(1);
    });

    it('a bad, missing or stale signature is 400 invalid_signature and changes nothing', async () => {
      const { h, who, order } = await setup();
      const sheet = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      await h.stripe.authorize(sheet.body.paymentIntentId);
      const signed = await h.stripe.signedEvent('payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
      const stale = await h.stripe.signedEvent('payment_intent.amount_capturable_updated', sheet.body.paymentIntentId, {
        timestamp: Math.floor(Date.now() / 1000) - 400,
      });
      const forged = signed.header.replace(/v1=([0-9a-f]+)/, (_m, hex: string) => `v1=${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`);
      const attempts: Array<{ payload: string; headers: Record<string, string> }> = [
        { payload: signed.payload, headers: { 'stripe-signature': forged } },
        { payload: signed.payload.replace(`"amount": ${HOLD}`, '"amount": 1'), headers: { 'stripe-signature': signed.header } },
        { payload: signed.payload, headers: {} },
        { payload: stale.payload, headers: { 'stripe-signature': stale.header } },
        { payload: signed.payload, headers: { 'stripe-signature': 'garbage' } },
        { payload: 'not json at all', headers: { 'stripe-signature': signed.header } },
      ];
      for (const a of attempts) {
        const res = await h.api.post('/v1/webhooks/stripe', undefined, { rawBody: a.payload, headers: { ...a.headers, 'content-type': 'application/json' } });
        expectProblem(res, 400, 'invalid_signature');
      }
      expect(await h.sql('SELECT 1 FROM webhook_events WHERE event_id IN ($1, $2)', [signed.event.id, stale.event.id])).toEqual([]);
      expect((await orderRow(h, order.id)).status).toBe('pending_payment');
      expect((await paymentRows(h, order.id))[0]!.status).toBe('requires_payment_method');
      // The genuine delivery still works: the rejected attempts did not mark the event as seen.
      const ok = await h.api.post('/v1/webhooks/stripe', undefined, { rawBody: signed.payload, headers: { 'stripe-signature': signed.header, 'content-type': 'application/json' } });
      expect(ok.body).toEqual({ received: true, outcome: 'applied' });
      expect((await orderRow(h, order.id)).status).toBe('confirmed');
    });

    it('an event with the wrong amount or currency flags the order and is not applied', async () => {
      const { h, who, order } = await setup();
      const sheet = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      const pi = sheet.body.paymentIntentId as string;
      await h.stripe.authorize(pi);
      const snapshot = (await stripeIntent(h, pi)).intent;
      const wrongAmount = await deliver(h, 'payment_intent.amount_capturable_updated', { ...snapshot, amount: 1 });
      expect(wrongAmount.res.status).toBe(200);
      expect(wrongAmount.res.body.outcome).toBe('flagged');
      expect(await orderRow(h, order.id)).toMatchObject({ status: 'pending_payment', flagged_reason: 'amount_mismatch' });
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'requires_payment_method', capturable: 0, amount: HOLD })]);
      const wrongCurrency = await deliver(h, 'payment_intent.amount_capturable_updated', { ...snapshot, currency: 'eur' });
      expect(wrongCurrency.res.body.outcome).toBe('flagged');
      expect((await orderRow(h, order.id)).status).toBe('pending_payment');
      const flags = (await timeline(h, who, order.id)).filter((e) => e.type === 'payment' && /^Flagged/.test(e.note));
      expect(flags).toHaveLength(2);
      expect(flags[0]).toMatchObject({ actor: { role: 'system' } });

      // The genuine event still confirms; the flag stays for a human to look at.
      expect((await deliver(h, 'payment_intent.amount_capturable_updated', pi)).res.body.outcome).toBe('applied');
      expect(await orderRow(h, order.id)).toMatchObject({ status: 'confirmed', flags: ['amount_mismatch'], flagged_reason: 'amount_mismatch' });
    });

    // Stripe stores the 500 as the key's answer and replays it (https://docs.stripe.com/api/idempotent_requests):
    // the retry looks the intent up, finds it still requires_capture, and captures with a new attempt key.
    it('a Stripe 500 during capture: the weigh-in answers 200, the hold is intact, and a retry captures once with a new attempt key', async () => {
      const { h, who, staff, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      const path = `/v1/payment_intents/${pi}/capture`;
      await h.stripe.failNext({ mode: 'server_error', path, times: 3 }); // the SDK's first try and both retries
      const weighed = await weigh(h, staff, order.id, 5200);
      expect(weighed.final.total).toBe(1999);
      expect(await orderRow(h, order.id)).toMatchObject({ status: 'processing', final_total: 1999 });
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'requires_capture', captured: 0 })]);
      expect((await stripeIntent(h, pi)).intent).toMatchObject({ status: 'requires_capture', amount_capturable: HOLD });
      const failed = await stripeRequests(h, 'POST', path);
      expect(failed.map((r) => r.status)).toEqual([500, 500, 500]);

      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.status, retry.text).toBe(200);
      expect(retry.body).toEqual({ kind: 'captured', captured: 1999, overage: 'none' });
      const again = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(again.body).toMatchObject({ kind: 'already_captured', captured: 1999 });

      const all = await stripeRequests(h, 'POST', path);
      expect(all.filter((r) => r.status === 200)).toHaveLength(1);
      const [first] = all.map((r) => r.idempotencyKey);
      expect(all.map((r) => r.idempotencyKey)).toEqual([first, first, first, `${first}-a2`]);
      expect(await h.sql("SELECT attempt, outcome FROM payment_attempts WHERE order_id = $1 AND operation = 'capture' ORDER BY attempt", [order.id])).toEqual([
        { attempt: 1, outcome: 'server_error' },
        { attempt: 2, outcome: null },
      ]);
      const atStripe = await stripeIntent(h, pi);
      expect(atStripe.captures).toBe(1);
      expect(atStripe.intent).toMatchObject({ status: 'succeeded', amount_received: 1999 });
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'succeeded', captured: 1999 })]);
      expect((await notes(h, who, order.id)).filter((n) => n.startsWith('Captured'))).toHaveLength(1);
    });

    it('a capture that times out after Stripe applied it: the weigh-in answers 200 and the retry finds the capture at Stripe', async () => {
      const { h, who, staff, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      const path = `/v1/payment_intents/${pi}/capture`;
      // Longer than STRIPE_TIMEOUT_MS (2 s in tests): every attempt times out; the first one applied.
      await h.stripe.failNext({ mode: 'timeout', ms: 4000, applyThenFail: true, path, times: 3 });
      await weigh(h, staff, order.id, 5200);
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'requires_capture', captured: 0 })]);
      expect((await stripeRequests(h, 'POST', path)).map((r) => r.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
      expect((await stripeIntent(h, pi)).intent).toMatchObject({ status: 'succeeded', amount_received: 1999 });

      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.status, retry.text).toBe(200);
      expect(retry.body).toEqual({ kind: 'captured', captured: 1999, overage: 'none' });
      // Looked up (the intent had succeeded), not sent again.
      const all = await stripeRequests(h, 'POST', path);
      expect(all.map((r) => r.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
      expect(await h.sql("SELECT attempt, outcome FROM payment_attempts WHERE order_id = $1 AND operation = 'capture'", [order.id])).toEqual([{ attempt: 1, outcome: 'adopted' }]);
      expect((await stripeIntent(h, pi)).captures).toBe(1);
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'succeeded', captured: 1999 })]);
    }, 40_000);

    it('a double weigh-in or a double capture request captures once', async () => {
      const a = await setup();
      const { paymentIntentId: piA } = await authorise(a.h, a.who, a.order.id);
      await moveTo(a.h, a.staff, a.order.id, 'picked_up', { bagCount: 1 });
      await moveTo(a.h, a.staff, a.order.id, 'processing');
      const weighIns = await Promise.all(
        [5200, 5200].map((g) => a.h.api.post(`/v1/staff/orders/${a.order.id}/weigh-in`, { weightGrams: g }, { token: a.staff.token })),
      );
      expect(sortedStatuses(weighIns)).toEqual([200, 409]);
      expectProblem(weighIns.find((r) => r.status === 409)!, 409, 'already_weighed');
      const captures = await Promise.all([1, 2].map(() => a.h.api.post(`/v1/staff/orders/${a.order.id}/capture`, undefined, { token: a.staff.token })));
      expect(captures.map((r) => r.body.kind)).toEqual(['already_captured', 'already_captured']);
      expect(await stripeRequests(a.h, 'POST', `/v1/payment_intents/${piA}/capture`)).toHaveLength(1);
      expect((await stripeIntent(a.h, piA)).captures).toBe(1);

      // Two retries racing after a failed capture: Stripe executes one, replays the other.
      const b = await setup();
      const { paymentIntentId: piB } = await authorise(b.h, b.who, b.order.id);
      await b.h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${piB}/capture`, times: 3 });
      await weigh(b.h, b.staff, b.order.id, 5200);
      const racing = await Promise.all([1, 2].map(() => b.h.api.post(`/v1/staff/orders/${b.order.id}/capture`, undefined, { token: b.staff.token })));
      for (const r of racing) expect(r.body, r.text).toMatchObject({ captured: 1999 });
      expect((await stripeIntent(b.h, piB)).captures).toBe(1);
      expect((await notes(b.h, b.who, b.order.id)).filter((n) => n.startsWith('Captured'))).toHaveLength(1);
      expect(await paymentRows(b.h, b.order.id)).toEqual([expect.objectContaining({ status: 'succeeded', captured: 1999 })]);
    });

    it('a hold Stripe released before the capture: the retry charges the outstanding balance off-session on the saved card, once', async () => {
      const { h, who, staff, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/capture`, times: 3 });
      await weigh(h, staff, order.id, 8000); // capture failed; the final price is 2499
      // The authorisation lapses at Stripe before anyone retries.
      const lapsed = await fetch(`${h.stripe.url}/v1/payment_intents/${pi}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'cancellation_reason=abandoned',
      });
      expect(lapsed.status).toBe(200);
      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.status, retry.text).toBe(200);
      expect(retry.body).toEqual({ kind: 'balance', captured: 0, balance: 'charged' });
      const rows = await paymentRows(h, order.id);
      expect(rows).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'canceled', captured: 0 }),
        expect.objectContaining({ kind: 'balance', method: 'card', status: 'succeeded', amount: 2499, captured: 2499 }),
      ]);
      const hold = (await stripeIntent(h, pi)).intent;
      expect((await stripeIntent(h, rows[1]!.pi!)).intent).toMatchObject({
        amount: 2499, status: 'succeeded', customer: hold.customer, payment_method: hold.payment_method,
        metadata: { order_id: order.id, kind: 'balance', payment_id: rows[1]!.id },
      });
      expect((await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === order.id && r.form.metadata?.kind === 'overage')).toEqual([]);
      expect(await notes(h, who, order.id)).toEqual(
        expect.arrayContaining(['Capture refused: the card hold is canceled', 'Charged the outstanding 2499 USD on the saved card (the hold was lost)']),
      );
      // Another retry reports the first answer and charges nothing more.
      const again = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(again.body).toEqual({ kind: 'balance', captured: 0, balance: 'charged' });
      const creates = (await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.kind === 'balance' && r.form.metadata?.order_id === order.id);
      expect(creates.map((r) => r.idempotencyKey)).toEqual([`balance-${rows[1]!.id}`]);
      expect(await orderRow(h, order.id)).toMatchObject({ flags: [] });
    });

    it('a succeeded event for an order still pending (its authorisation event lost) confirms it', async () => {
      const { h, who, order } = await setup();
      const sheet = await h.api.post(`/v1/orders/${order.id}/payment-sheet`, undefined, { token: who.token });
      const pi = sheet.body.paymentIntentId as string;
      await h.stripe.authorize(pi);
      const captured = await fetch(`${h.stripe.url}/v1/payment_intents/${pi}/capture`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `amount_to_capture=${HOLD}`,
      });
      expect(captured.status).toBe(200);
      expect((await deliver(h, 'payment_intent.succeeded', pi)).res.body.outcome).toBe('applied');
      expect((await orderRow(h, order.id)).status).toBe('confirmed');
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'succeeded', captured: HOLD })]);
      expect((await timeline(h, who, order.id)).at(-1)).toMatchObject({ actor: { role: 'system' }, from: 'pending_payment', to: 'confirmed' });
      const emitted = (await stripeIntent(h, pi)).events.find((e) => e.type === 'payment_intent.amount_capturable_updated')!;
      expect((await deliverEvent(h, emitted)).res.body.outcome).toBe('stale');
    });

    it('refunds: admins only, never above what was captured, partial refunds add up to the total across hold and overage', async () => {
      const { h, who, staff, order, admin } = await setup();
      const other = await setup();
      const boss = await admin();
      const refund = (amount: number, token = boss.token, id = order.id) =>
        h.api.post(`/v1/staff/orders/${id}/refunds`, { amount, reason: 'Shirt came back stained' }, { token });
      await authorise(other.h, other.who, other.order.id);
      expectProblem(await refund(100, boss.token, other.order.id), 422, 'refund_exceeds_captured'); // authorised, not captured
      expectProblem(await refund(100, boss.token, crypto.randomUUID()), 404, 'not_found');

      const sheet = await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 8000); // 2399 on the hold + 100 overage = 2499
      const overagePi = (await paymentRows(h, order.id))[1]!.pi!;
      expectProblem(await refund(100, who.token), 403, 'forbidden');
      expectProblem(await refund(100, staff.token), 403, 'forbidden');
      expectProblem(await refund(2500), 422, 'refund_exceeds_captured');
      expectProblem(await h.api.post(`/v1/staff/orders/${order.id}/refunds`, { amount: 0, reason: 'zero' }, { token: boss.token }), 422, 'validation_failed');
      expect(await stripeRequests(h, 'POST', '/v1/refunds').then((rs) => rs.filter((r) => r.form.metadata?.order_id === order.id))).toHaveLength(0);

      for (const amount of [1000, 1000, 499]) {
        const res = await refund(amount);
        expect(res.status, res.text).toBe(201);
        expect(res.body).toMatchObject({ amount, status: 'succeeded', refundId: expect.any(String) });
      }
      expectProblem(await refund(1), 422, 'refund_exceeds_captured');

      const refundedAt = async (pi: string) => (await stripeIntent(h, pi)).refunds.reduce((s, r) => s + r.amount, 0);
      expect(await refundedAt(sheet.paymentIntentId)).toBe(HOLD);
      expect(await refundedAt(overagePi)).toBe(100);
      expect(await paymentRows(h, order.id)).toEqual([
        expect.objectContaining({ kind: 'hold', captured: HOLD, refunded: HOLD }),
        expect.objectContaining({ kind: 'overage', captured: 100, refunded: 100 }),
      ]);
      const [sum] = await h.sql<{ total: number; n: number }>(
        `SELECT sum(amount)::int AS total, count(*) FILTER (WHERE actor_user_id = $2)::int AS n FROM refunds WHERE order_id = $1 AND status = 'succeeded'`,
        [order.id, boss.userId],
      );
      expect(sum!.total).toBe(2499);
      expect(sum!.n).toBeGreaterThanOrEqual(3);
      const refundNotes = (await timeline(h, who, order.id)).filter((e) => e.type === 'payment' && /^Refunded/.test(e.note));
      expect(refundNotes.reduce((s, e) => s + e.evidence.amount, 0)).toBe(2499);
      expect(refundNotes.every((e) => e.actor.role === 'admin' && e.actor.userId === boss.userId && e.note.endsWith('Shirt came back stained'))).toBe(true);
    });

    it('racing refunds cannot together exceed the captured total', async () => {
      const { h, who, staff, order, admin } = await setup();
      const sheet = await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 5200); // 1999 captured
      const boss = await admin();
      const replies = await Promise.all(
        [700, 700, 700, 700].map((amount) => h.api.post(`/v1/staff/orders/${order.id}/refunds`, { amount, reason: 'Racing refund' }, { token: boss.token })),
      );
      expect(sortedStatuses(replies)).toEqual([201, 201, 422, 422]);
      for (const r of replies.filter((r) => r.status === 422)) expectProblem(r, 422, 'refund_exceeds_captured');
      expect((await stripeIntent(h, sheet.paymentIntentId)).refunds.map((r) => r.amount)).toEqual([700, 700]);
      expect((await paymentRows(h, order.id))[0]).toMatchObject({ captured: 1999, refunded: 1400 });
      const [reserved] = await h.sql<{ total: number }>(`SELECT sum(amount)::int AS total FROM refunds WHERE order_id = $1 AND status <> 'failed'`, [order.id]);
      expect(reserved!.total).toBe(1400);
    });

    it("a refund made outside the API (Stripe's charge.refunded) counts against what is left to refund", async () => {
      const { h, who, staff, order, admin } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 5200); // 1999 captured
      const dashboard = await fetch(`${h.stripe.url}/v1/refunds`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `payment_intent=${pi}&amount=500`,
      });
      expect(dashboard.status).toBe(200);
      const { res } = await deliver(h, 'charge.refunded', pi);
      expect(res.body.outcome).toBe('applied');
      expect((await paymentRows(h, order.id))[0]).toMatchObject({ captured: 1999, refunded: 500 });
      expect(await notes(h, who, order.id)).toContain('Refund confirmed by Stripe');

      const boss = await admin();
      const refund = (amount: number) => h.api.post(`/v1/staff/orders/${order.id}/refunds`, { amount, reason: 'Rest of it' }, { token: boss.token });
      expectProblem(await refund(1500), 422, 'refund_exceeds_captured');
      expect((await refund(1499)).status).toBe(201);
      expect((await paymentRows(h, order.id))[0]).toMatchObject({ captured: 1999, refunded: 1999 });
      expect((await stripeIntent(h, pi)).refunds.map((r) => r.amount).sort()).toEqual([1499, 500]);
    });

    it('cancelling before pickup releases the hold, and a late authorisation does not revive the order', async () => {
      const { h, who, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      const cancelled = await h.api.post(`/v1/orders/${order.id}/cancel`, { reason: 'Changed my mind' }, { token: who.token });
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect((await stripeIntent(h, pi)).intent).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer', amount_received: 0 });
      const cancels = await stripeRequests(h, 'POST', `/v1/payment_intents/${pi}/cancel`);
      expect(cancels.map((r) => r.idempotencyKey)).toEqual([expect.stringMatching(/^cancel-/)]);
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ status: 'canceled', captured: 0, capturable: 0 })]);
      expect(await notes(h, who, order.id)).toContain('Card hold released');

      const late = await deliver(h, 'payment_intent.amount_capturable_updated', { ...(await stripeIntent(h, pi)).intent, status: 'requires_capture', amount_capturable: HOLD });
      expect(late.res.body.outcome).toBe('stale');
      expect((await deliver(h, 'payment_intent.canceled', pi)).res.body.outcome).toBe('stale');
      expect((await orderRow(h, order.id)).status).toBe('cancelled');

      // Cancelled while the sheet was open but before the card was authorised.
      const open = await setup();
      const sheet = await open.h.api.post(`/v1/orders/${open.order.id}/payment-sheet`, undefined, { token: open.who.token });
      expect((await open.h.api.post(`/v1/orders/${open.order.id}/cancel`, undefined, { token: open.who.token })).status).toBe(200);
      expect((await stripeIntent(open.h, sheet.body.paymentIntentId)).intent.status).toBe('canceled');
    });

    it('a staff cancellation after capture refunds everything captured, hold and overage', async () => {
      const { h, who, staff, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 8000);
      const overagePi = (await paymentRows(h, order.id))[1]!.pi!;
      await moveTo(h, staff, order.id, 'cancelled', { note: 'Machine ate the socks' });
      expect((await stripeIntent(h, pi)).refunds.map((r) => r.amount)).toEqual([HOLD]);
      expect((await stripeIntent(h, overagePi)).refunds.map((r) => r.amount)).toEqual([100]);
      expect(await paymentRows(h, order.id)).toEqual([
        expect.objectContaining({ kind: 'hold', captured: HOLD, refunded: HOLD }),
        expect.objectContaining({ kind: 'overage', captured: 100, refunded: 100 }),
      ]);
      expect((await orderRow(h, order.id)).status).toBe('cancelled');
      const refunds = (await timeline(h, who, order.id)).filter((e) => e.type === 'payment' && /^Refunded/.test(e.note));
      expect(refunds.map((e) => e.evidence.amount).sort()).toEqual([100, HOLD]);
      expect(refunds.every((e) => e.actor.role === 'system' && e.note === `Refunded ${e.evidence.amount}: Order cancelled`)).toBe(true);
    });

    it('charge.dispute.created flags the order', async () => {
      const { h, who, staff, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 5200);
      const charge = (await stripeIntent(h, pi)).intent.latest_charge as string;
      await h.stripe.dispute(charge);
      const { res } = await deliver(h, 'charge.dispute.created', charge);
      expect(res.status).toBe(200);
      expect(res.body.outcome).toBe('flagged');
      expect((await orderRow(h, order.id)).flagged_reason).toBe('disputed');
      expect((await timeline(h, who, order.id)).at(-1)).toMatchObject({ type: 'payment', note: 'The customer disputed the charge', actor: { role: 'system' } });
    });

    it('flags add up: a dispute on an order already flagged keeps both, each once', async () => {
      const { h, who, staff, order } = await setup();
      const { paymentIntentId: pi } = await authorise(h, who, order.id);
      await weigh(h, staff, order.id, 5200);
      const snapshot = (await stripeIntent(h, pi)).intent;
      for (let i = 0; i < 2; i++) {
        expect((await deliver(h, 'payment_intent.succeeded', { ...snapshot, amount: 1 })).res.body.outcome).toBe('flagged');
      }
      const charge = snapshot.latest_charge as string;
      await h.stripe.dispute(charge);
      expect((await deliver(h, 'charge.dispute.created', charge)).res.body.outcome).toBe('flagged');
      expect(await orderRow(h, order.id)).toMatchObject({ flags: ['amount_mismatch', 'disputed'], flagged_reason: 'disputed' });
      const mine = await h.api.get(`/v1/orders/${order.id}`, { token: who.token });
      expect(mine.body).toMatchObject({ flags: ['amount_mismatch', 'disputed'], flaggedReason: 'disputed' });
      expect((await h.api.get(`/v1/staff/orders/${order.id}`, { token: staff.token })).body.flags).toEqual(['amount_mismatch', 'disputed']);
      // The staff queue finds them by flag (in this order's own zone, so other tests' orders stay out).
      const queue = async (flag: string) =>
        (await h.api.get(`/v1/staff/orders?zone=${order.zoneId}&flag=${flag}`, { token: staff.token })).body.data as Array<{ id: string; flags: string[] }>;
      for (const flag of ['disputed', 'amount_mismatch', 'any']) {
        expect(await queue(flag)).toEqual([expect.objectContaining({ id: order.id, flags: ['amount_mismatch', 'disputed'] })]);
      }
      expect(await queue('hold_expiring')).toEqual([]);
      const bad = await h.api.get(`/v1/staff/orders?flag=lost`, { token: staff.token });
      expect(expectProblem(bad, 422, 'validation_failed').errors).toEqual([expect.objectContaining({ field: 'query.flag' })]);
    });

    it('pay on delivery: staff record the payment once, only when out for delivery or delivered', async () => {
      const { h, who, staff, order } = await placeOrder(harness(), { paymentMethod: 'on_delivery' });
      const pay = (body: unknown, token = staff.token, id = order.id) => h.api.post(`/v1/staff/orders/${id}/payments`, body, { token });
      const cash = { method: 'cash', amount: 1999 };
      expect(order.status).toBe('confirmed');
      expectProblem(await pay(cash), 409, 'payment_not_applicable');
      expectProblem(await pay(cash, who.token), 403, 'forbidden');
      expectProblem(await pay(cash, staff.token, crypto.randomUUID()), 404, 'not_found');
      expectProblem(await pay({ method: 'bitcoin', amount: 1999 }), 422, 'validation_failed');
      expectProblem(await pay({ method: 'cash', amount: -1 }), 422, 'validation_failed');

      await weigh(h, staff, order.id, 5200);
      expect(await stripeRequests(h, 'POST', '/v1/payment_intents').then((rs) => rs.filter((r) => r.form.metadata?.order_id === order.id))).toEqual([]);
      await moveTo(h, staff, order.id, 'ready');
      expectProblem(await pay(cash), 409, 'payment_not_applicable');
      await moveTo(h, staff, order.id, 'out_for_delivery');
      // Only the amount due is accepted: short or over, nothing is written.
      const due = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body.final.total as number;
      expect(due).toBeGreaterThan(0);
      for (const amount of [due - 1, due + 1, 0]) {
        const wrong = expectProblem(await pay({ method: 'cash', amount }), 422, 'payment_amount_mismatch');
        expect(wrong.details).toEqual({ due, amount, currency: 'USD' });
      }
      expect(await paymentRows(h, order.id)).toEqual([]);
      cash.amount = due;
      const racing = await Promise.all([pay(cash), pay(cash)]);
      expect(sortedStatuses(racing)).toEqual([204, 409]);
      expectProblem(racing.find((r) => r.status === 409)!, 409, 'payment_not_applicable');
      await moveTo(h, staff, order.id, 'delivered');
      expectProblem(await pay({ method: 'card_present', amount: due }), 409, 'payment_not_applicable');
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ kind: 'in_person', method: 'cash', status: 'succeeded', captured: due })]);
      expect((await timeline(h, who, order.id)).find((e) => e.type === 'payment')).toMatchObject({ note: 'Paid at the door (cash)', actor: { role: 'staff', userId: staff.userId } });

      // A card order cannot be paid at the door.
      const card = await setup();
      await authorise(card.h, card.who, card.order.id);
      expectProblem(await pay(cash, staff.token, card.order.id), 409, 'payment_not_applicable');
    });
  });
}
