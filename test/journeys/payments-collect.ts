import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import type { Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { authorise, deliver, deliverEvent, HOLD, moveTo, orderRow, paymentRows, placeOrder, stripeIntent, stripeRequests, weigh } from './payments.js';

/*
 * Issue 13, findings 1, 6 and 8: collecting what is outstanding, and the PaymentSheet for the
 * pinned API version. Prices as in ./payments.ts: hold 2399; weighed 8 kg → 2499.
 *
 * These scenarios move the stand-in's clock 8 days on (Stripe cancels an uncaptured hold after
 * about 7 days, `cancellation_reason: automatic`): every uncaptured hold in that stand-in is
 * cancelled. On Node the runner gives this journey a stand-in of its own; workerd runs its
 * test files one at a time.
 */
const EIGHT_DAYS = 8 * 86_400;

async function balanceOf(h: Harness, orderId: string) {
  const [row] = await h.sql<{ due: number; paid: number; outstanding: number }>('SELECT due, paid, outstanding FROM order_balances WHERE order_id = $1', [orderId]);
  return row!;
}

/** Stripe cancels the uncaptured hold when its authorisation expires; its webhook reaches us. */
async function holdExpires(h: Harness, pi: string) {
  await h.stripe.advanceTime(EIGHT_DAYS);
  const atStripe = await stripeIntent(h, pi);
  expect(atStripe.intent).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic' });
  const { res } = await deliverEvent(h, atStripe.events.find((e) => e.type === 'payment_intent.canceled')!);
  expect(res.body, res.text).toEqual({ received: true, outcome: 'applied' });
}

async function sheetFor(h: Harness, who: Actor, orderId: string, headers: Record<string, string> = {}) {
  return h.api.post(`/v1/orders/${orderId}/payment-sheet`, undefined, { token: who.token, headers });
}

/**
 * The customer pays the outstanding balance through the PaymentSheet with another card;
 * Stripe's payment_intent.succeeded clears the flag.
 */
async function customerPaysBalance(h: Harness, who: Actor, orderId: string, amount: number, savedCard: string) {
  const sheet = await sheetFor(h, who, orderId);
  expect(sheet.status, sheet.text).toBe(200);
  expect(sheet.body).toMatchObject({ purpose: 'balance', amount, currency: 'USD', customerSessionClientSecret: expect.stringMatching(/^cuss_secret_/), ephemeralKey: null });
  const pi = sheet.body.paymentIntentId as string;
  const created = (await stripeIntent(h, pi)).intent;
  const row = (await paymentRows(h, orderId)).find((p) => p.pi === pi)!;
  expect(row).toMatchObject({ kind: 'balance', method: 'card', status: 'requires_payment_method', amount });
  // Automatic capture, no card pinned (any card, 3-D Secure capable), named by our metadata.
  expect(created).toMatchObject({
    amount,
    capture_method: 'automatic_async',
    payment_method: null,
    customer: sheet.body.customerId,
    automatic_payment_methods: { enabled: true },
    metadata: { order_id: orderId, kind: 'balance', payment_id: row.id },
  });
  const create = (await stripeRequests(h, 'POST', '/v1/payment_intents')).find((r) => r.form.metadata?.payment_id === row.id)!;
  expect(create.idempotencyKey).toBe(`balance-${row.id}`);
  // Asked again for the same amount: the same open PaymentIntent.
  const again = await sheetFor(h, who, orderId);
  expect(again.body.paymentIntentId).toBe(pi);

  await h.stripe.authorize(pi, { paymentMethod: 'pm_card_mastercard' });
  const paid = await stripeIntent(h, pi);
  expect(paid.intent).toMatchObject({ status: 'succeeded', amount_received: amount });
  expect(paid.intent.payment_method).not.toBe(savedCard);
  const { res } = await deliverEvent(h, paid.events.find((e) => e.type === 'payment_intent.succeeded')!);
  expect(res.body, res.text).toEqual({ received: true, outcome: 'applied' });
  expect((await paymentRows(h, orderId)).find((p) => p.pi === pi)).toMatchObject({ status: 'succeeded', captured: amount });
  expect((await orderRow(h, orderId)).flags).not.toContain('payment_outstanding');
  expect((await balanceOf(h, orderId)).outstanding).toBe(0);
  expectProblem(await sheetFor(h, who, orderId), 409, 'nothing_outstanding');
}

export function paymentsCollectJourney(harness: () => Harness) {
  describe('payments: collecting what is outstanding', () => {
    it('finding 1: Stripe cancels the hold automatically; the weigh-in charges the final total off-session on the saved card', async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      const { paymentIntentId: holdPi } = await authorise(h, who, order.id);
      await holdExpires(h, holdPi);
      const hold = (await stripeIntent(h, holdPi)).intent;

      const weighed = await weigh(h, staff, order.id, 8000);
      expect(weighed.final.total).toBe(2499);
      const rows = await paymentRows(h, order.id);
      expect(rows).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'canceled', captured: 0 }),
        expect.objectContaining({ kind: 'balance', method: 'card', status: 'succeeded', amount: 2499, captured: 2499 }),
      ]);
      const create = (await stripeRequests(h, 'POST', '/v1/payment_intents')).find((r) => r.form.metadata?.payment_id === rows[1]!.id)!;
      expect(create).toMatchObject({
        idempotencyKey: `balance-${rows[1]!.id}`,
        form: { amount: '2499', customer: hold.customer, payment_method: hold.payment_method, off_session: 'true', confirm: 'true', metadata: { order_id: order.id, kind: 'balance' } },
      });
      expect((await stripeIntent(h, rows[1]!.pi!)).intent).toMatchObject({ status: 'succeeded', amount_received: 2499 });
      expect(await balanceOf(h, order.id)).toEqual({ due: 2499, paid: 2499, outstanding: 0 });
      expect((await orderRow(h, order.id)).flags).toEqual([]);
      // Stripe's own event for the charge changes nothing more.
      expect((await deliver(h, 'payment_intent.succeeded', rows[1]!.pi!)).res.body.outcome).toBe('stale');
    });

    it('finding 1: a hold that expires between the weigh-in and the capture flags the order, and the capture retry collects it', async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      const { paymentIntentId: holdPi } = await authorise(h, who, order.id);
      await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${holdPi}/capture`, times: 3 });
      await weigh(h, staff, order.id, 5200); // 1999; the capture failed
      await holdExpires(h, holdPi);
      expect((await orderRow(h, order.id)).flags).toContain('payment_outstanding');
      expect((await balanceOf(h, order.id)).outstanding).toBe(1999);

      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.status, retry.text).toBe(200);
      expect(retry.body).toEqual({ kind: 'balance', captured: 0, balance: 'charged' });
      expect(await balanceOf(h, order.id)).toEqual({ due: 1999, paid: 1999, outstanding: 0 });
      expect((await orderRow(h, order.id)).flags).toEqual([]);
    });

    it("finding 1: the off-session charge's answer is lost: the row written before the call is matched by Stripe's webhook, and a retry charges nothing more", async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      const { paymentIntentId: holdPi } = await authorise(h, who, order.id);
      await holdExpires(h, holdPi);
      // Stripe charges the card, but every answer (the SDK's retries included) is a 500.
      await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', applyThenFail: true, times: 3 });
      await weigh(h, staff, order.id, 8000);
      const [, pending] = await paymentRows(h, order.id);
      expect(pending).toMatchObject({ kind: 'balance', status: 'requires_confirmation', amount: 2499, pi: null, captured: 0 });
      expect((await orderRow(h, order.id)).flags).toEqual(['payment_outstanding']);
      const charged = Object.values((await h.stripe.state()).payment_intents as Record<string, any>).find((pi) => pi.metadata.payment_id === pending!.id)!;
      expect(charged).toMatchObject({ status: 'succeeded', amount_received: 2499 });

      const { res } = await deliverEvent(h, (await stripeIntent(h, charged.id)).events.find((e) => e.type === 'payment_intent.succeeded')!);
      expect(res.body, res.text).toEqual({ received: true, outcome: 'applied' });
      expect((await paymentRows(h, order.id))[1]).toMatchObject({ id: pending!.id, status: 'succeeded', pi: charged.id, captured: 2499 });
      expect((await orderRow(h, order.id)).flags).toEqual([]);
      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.body).toEqual({ kind: 'balance', captured: 0, balance: 'charged' });
      const creates = (await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.payment_id === pending!.id);
      expect(creates.map((r) => r.idempotencyKey)).toEqual(Array(3).fill(`balance-${pending!.id}`));
    });

    it('finding 1: a lost hold whose balance exceeds it by more than the approval threshold is not charged without the customer: flagged, paid with the PaymentSheet', async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      const { paymentIntentId: holdPi } = await authorise(h, who, order.id);
      await holdExpires(h, holdPi);
      const weighed = await weigh(h, staff, order.id, 14_000); // 3999: 1600 above the 2399 hold, over the 1000 threshold
      expect(weighed.final.total).toBe(3999);
      expect((await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === order.id && r.form.metadata?.kind === 'balance')).toEqual([]);
      expect(await paymentRows(h, order.id)).toEqual([expect.objectContaining({ kind: 'hold', status: 'canceled' })]);
      expect((await orderRow(h, order.id)).flags).toEqual(['payment_outstanding']);
      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.body).toEqual({ kind: 'balance', captured: 0, balance: 'awaiting_customer' });

      await customerPaysBalance(h, who, order.id, 3999, (await stripeIntent(h, holdPi)).intent.payment_method as string);
      const after = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(after.body).toEqual({ kind: 'balance', captured: 0, balance: 'none' });
    });

    it('finding 6: the off-session charge needs authentication → flagged; the customer pays the balance with another card via the PaymentSheet', async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      const sheet = await sheetFor(h, who, order.id);
      expect(sheet.body.purpose).toBe('hold');
      const holdPi = sheet.body.paymentIntentId as string;
      // A card its bank authorised on-session, and which asks for authentication off-session.
      await h.stripe.authorize(holdPi, { paymentMethod: 'pm_card_authenticationRequired' });
      expect((await deliver(h, 'payment_intent.amount_capturable_updated', holdPi)).res.body.outcome).toBe('applied');
      await holdExpires(h, holdPi);
      const savedCard = (await stripeIntent(h, holdPi)).intent.payment_method as string;

      await weigh(h, staff, order.id, 8000);
      const [, failed] = await paymentRows(h, order.id);
      expect(failed).toMatchObject({ kind: 'balance', status: 'failed', amount: 2499, captured: 0, pi: expect.stringMatching(/^pi_/) });
      expect((await stripeIntent(h, failed!.pi!)).intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'authentication_required' } });
      expect(await orderRow(h, order.id)).toMatchObject({ flags: ['payment_outstanding'] });
      expect((await balanceOf(h, order.id)).outstanding).toBe(2499);
      const timeline = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body.timeline as Array<Record<string, any>>;
      expect(timeline.find((e) => /saved card failed/.test(e.note ?? ''))).toMatchObject({ evidence: { declineCode: 'authentication_required', amount: 2499 } });
      // A capture retry does not try the saved card again.
      const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
      expect(retry.body).toEqual({ kind: 'balance', captured: 0, balance: 'failed' });
      expect((await stripeRequests(h, 'POST', '/v1/payment_intents')).filter((r) => r.form.off_session === 'true' && r.form.metadata?.order_id === order.id)).toHaveLength(1);

      await customerPaysBalance(h, who, order.id, 2499, savedCard);
      await moveTo(h, staff, order.id, 'ready');
      await moveTo(h, staff, order.id, 'out_for_delivery');
    });

    it('finding 6: a declined overage → flagged; the customer pays it with another card via the PaymentSheet', async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      const { paymentIntentId: holdPi } = await authorise(h, who, order.id);
      await h.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents', declineCode: 'insufficient_funds' });
      await weigh(h, staff, order.id, 8000); // 2399 captured, 100 over the hold, declined
      expect(await paymentRows(h, order.id)).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'succeeded', captured: HOLD }),
        expect.objectContaining({ kind: 'overage', status: 'failed', amount: 100, captured: 0 }),
      ]);
      expect((await orderRow(h, order.id)).flags).toEqual(expect.arrayContaining(['overage_failed', 'payment_outstanding']));
      expect((await balanceOf(h, order.id)).outstanding).toBe(100);

      await customerPaysBalance(h, who, order.id, 100, (await stripeIntent(h, holdPi)).intent.payment_method as string);
      await moveTo(h, staff, order.id, 'ready');
      await moveTo(h, staff, order.id, 'out_for_delivery');
    });

    it('payment-sheet after the hold: nothing to pay before the weigh-in (the hold covers it), once captured in full, or around a pending approval', async () => {
      const { h, who, staff, order } = await placeOrder(harness());
      await authorise(h, who, order.id);
      expectProblem(await sheetFor(h, who, order.id), 409, 'payment_not_pending'); // confirmed: the hold covers it
      await weigh(h, staff, order.id, 5200); // captured in full
      expectProblem(await sheetFor(h, who, order.id), 409, 'nothing_outstanding');

      // An overage waiting for the customer's approval is approved, not paid around.
      const big = await placeOrder(h);
      await authorise(h, big.who, big.order.id);
      await weigh(h, big.staff, big.order.id, 14_000); // 1600 above the hold, over the threshold
      expectProblem(await sheetFor(h, big.who, big.order.id), 409, 'overage_approval_pending');
      const onDelivery = await placeOrder(h, { paymentMethod: 'on_delivery' });
      expectProblem(await sheetFor(h, onDelivery.who, onDelivery.order.id), 409, 'payment_not_applicable');
    });
  });

  describe('payments: PaymentSheet keys for the pinned API version (finding 8)', () => {
    it('always a CustomerSession; an ephemeral key only for a client naming its SDK API version, made with that version', async () => {
      const { h, who, order } = await placeOrder(harness());
      const plain = await sheetFor(h, who, order.id);
      expect(plain.status, plain.text).toBe(200);
      expect(plain.body).toMatchObject({ purpose: 'hold', customerSessionClientSecret: expect.stringMatching(/^cuss_secret_/), ephemeralKey: null });
      const sessions = (await stripeRequests(h, 'POST', '/v1/customer_sessions')).filter((r) => r.form.customer === plain.body.customerId);
      expect(sessions.at(-1)!.form).toMatchObject({
        components: { mobile_payment_element: { enabled: 'true', features: { payment_method_redisplay: 'enabled', payment_method_save: 'enabled', payment_method_remove: 'disabled' } } },
      });
      const keysFor = async () => (await stripeRequests(h, 'POST', '/v1/ephemeral_keys')).filter((r) => r.form.customer === plain.body.customerId);
      expect(await keysFor()).toEqual([]);

      const versioned = await sheetFor(h, who, order.id, { 'stripe-version': '2020-08-27' });
      expect(versioned.status, versioned.text).toBe(200);
      expect(versioned.body).toMatchObject({ paymentIntentId: plain.body.paymentIntentId, ephemeralKey: expect.stringMatching(/^ek_test_/) });
      expect((await keysFor()).map((r) => r.stripeVersion)).toEqual(['2020-08-27']);

      for (const bad of ['yesterday', '2020-8-27', '2026-02-30', '1999-12-31', '2020-08-27; drop table']) {
        const res = await sheetFor(h, who, order.id, { 'stripe-version': bad });
        expect(expectProblem(res, 422, 'validation_failed').errors).toEqual([expect.objectContaining({ field: expect.stringMatching(/stripe-version/) })]);
      }
      expect(await keysFor()).toHaveLength(1);
    });
  });
}
