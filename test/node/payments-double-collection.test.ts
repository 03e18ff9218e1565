import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorise, deliver, orderRow, paymentRows, placeOrder, stripeIntent, weigh } from '../journeys/payments.js';
import { captured, refundRows } from '../journeys/refund-steps.js';
import { actor } from '../support/fixtures.js';
import { expectProblem } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { stripeControl, TEST_STRIPE_SECRET_KEY } from '../support/stripe.js';

/*
 * Money collected twice, or collected after the shop waived it, or stuck where it can never be
 * collected: races between the customer's PaymentSheet, staff retries, admins' waivers and
 * Stripe's webhooks. Each case was found by a review of issue 13 and failed before its fix. The
 * suite has its own Stripe stand-in (it moves no clock, but fails requests on purpose).
 */
let t: TestApp;
let ownStripe: StripeStandIn;
beforeAll(async () => {
  ownStripe = await startStripeStandIn();
  const app = await createTestApp({ env: { STRIPE_API_URL: ownStripe.url } });
  t = { ...app, stripe: stripeControl(ownStripe.url) };
});
afterAll(async () => {
  await t?.close();
  await ownStripe?.close();
});

const sheetFor = (orderId: string, token: string, h: { api: TestApp['api'] } = t) => h.api.post(`/v1/orders/${orderId}/payment-sheet`, undefined, { token });

/** A card order 100 over its hold whose overage the card declined, and the balance PaymentSheet the customer opened for it. */
async function balanceSheetOpen() {
  const p = await placeOrder(t);
  await authorise(t, p.who, p.order.id);
  await t.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents', declineCode: 'insufficient_funds' });
  await weigh(t, p.staff, p.order.id, 8000); // 100 over the hold, declined
  const sheet = await sheetFor(p.order.id, p.who.token);
  expect(sheet.status, sheet.text).toBe(200);
  return { p, sheet };
}

describe('payments: never collected twice, never after a waiver, never stuck', () => {
  it('a balance payment that was processing and then fails is recorded failed (not stuck processing), and the customer can pay again', async () => {
    const h = t;
    const { who, staff, order } = await placeOrder(h);
    await authorise(h, who, order.id);
    await h.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents', declineCode: 'insufficient_funds' });
    await weigh(h, staff, order.id, 8000); // 100 over the hold, declined
    const sheet = await sheetFor(order.id, who.token);
    expect(sheet.status, sheet.text).toBe(200);
    const pi = sheet.body.paymentIntentId as string;
    // The customer pays with a method that settles later (a bank debit): Stripe says processing,
    // and the app records it so (recordIntent, the reconciliation, or the off-session answer).
    await h.sql(`UPDATE payments SET status = 'processing' WHERE stripe_payment_intent_id = $1`, [pi]);
    expectProblem(await sheetFor(order.id, who.token), 409, 'nothing_outstanding');
    // The debit fails: Stripe moves the intent back to requires_payment_method and sends payment_failed.
    const intent = (await stripeIntent(h, pi)).intent;
    const failedSnapshot = { ...intent, status: 'requires_payment_method', last_payment_error: { type: 'card_error', code: 'card_declined' } };
    const { res } = await deliver(h, 'payment_intent.payment_failed', failedSnapshot);
    expect(res.status, res.text).toBe(200);
    expect(res.body.outcome).toBe('applied');
    expect((await paymentRows(h, order.id)).find((p) => p.pi === pi)).toMatchObject({ status: 'failed' });
    // And the customer can try again.
    const again = await sheetFor(order.id, who.token);
    expect(again.status, again.text).toBe(200);
  });

  it('cancelling an order refunds everything still captured, even after an earlier refund was canceled at Stripe', async () => {
    const h = t;
    const p = await captured(h, 'pm_card_visa', 6000, 5200); // 1999 captured
    expect((await p.refund(400)).status).toBe(201);
    const [row] = await refundRows(h, p.order.id);
    const canceled = await h.stripe.settleRefund(row!.stripe_refund_id!, 'canceled');
    expect((await deliver(h, 'refund.updated', canceled)).res.body.outcome).toBe('flagged');
    expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 0 });
    const res = await h.api.post(`/v1/staff/orders/${p.order.id}/transitions`, { to: 'cancelled', note: 'customer asked' }, { token: p.staff.token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe('cancelled');
    // All 1999 goes back to the customer.
    const refunds = await refundRows(h, p.order.id);
    expect(refunds.filter((r) => r.status !== 'canceled' && r.status !== 'failed').reduce((a, r) => a + r.amount, 0)).toBe(1999);
  });

  // The waiver cancels the balance PaymentIntent the customer's app already holds, before it waives.
  it('a waived balance cannot still be paid on the PaymentSheet the customer already opened for it', async () => {
    const h = t;
    const { p, sheet } = await balanceSheetOpen();
    const pi = sheet.body.paymentIntentId as string;
    const boss = await p.admin();
    const waived = await h.api.post(`/v1/staff/orders/${p.order.id}/waive-balance`, { reason: 'goodwill' }, { token: boss.token });
    expect(waived.status, waived.text).toBe(200);
    expect(waived.body.balance).toMatchObject({ outstanding: 0, waived: 100 });
    // The app still holds the sheet's client secret; the customer taps Pay.
    await h.stripe.authorize(pi, { paymentMethod: 'pm_card_mastercard' }).catch(() => undefined);
    const atStripe = (await stripeIntent(h, pi)).intent;
    // The shop decided not to collect the 100: the customer must not be charged it anyway.
    expect(atStripe).toMatchObject({ status: 'canceled', amount_received: 0 });
  });

  it('a waiver while a payment towards the balance is processing is refused with 409 payment_in_progress and writes nothing', async () => {
    const h = t;
    const { p, sheet } = await balanceSheetOpen();
    // A bank debit, say: Stripe has it processing and it cannot be cancelled any more.
    await h.sql(`UPDATE payments SET status = 'processing' WHERE stripe_payment_intent_id = $1`, [sheet.body.paymentIntentId]);
    const boss = await p.admin();
    const res = await h.api.post(`/v1/staff/orders/${p.order.id}/waive-balance`, { reason: 'goodwill' }, { token: boss.token });
    const problem = expectProblem(res, 409, 'payment_in_progress');
    expect(problem.details).toMatchObject({ status: 'processing', amount: 100 });
    expect(res.headers.get('retry-after')).toBe('60');
    expect(await h.sql('SELECT 1 FROM balance_waivers WHERE order_id = $1', [p.order.id])).toEqual([]);
  });

  it('a capture retry that collects the balance clears payment_outstanding (the weigh-in had raised it)', async () => {
    const h = t;
    const { who, staff, order } = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, who, order.id);
    await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/capture`, times: 3 });
    await weigh(h, staff, order.id, 5200); // 1999, capture answered 500
    expect((await orderRow(h, order.id)).flags).toContain('payment_outstanding');
    const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body).toMatchObject({ kind: 'captured', captured: 1999 });
    const [bal] = await h.sql<{ outstanding: number }>('SELECT outstanding FROM order_balances WHERE order_id = $1', [order.id]);
    expect(bal!.outstanding).toBe(0);
    expect((await orderRow(h, order.id)).flags).not.toContain('payment_outstanding');
  });

  it('KWD: a partial waiver that leaves a balance Stripe cannot charge (not a multiple of 10 fils) is refused, never a PaymentSheet answering 502 forever', async () => {
    const kwd = await createTestApp({ database: t.deps.database, env: { CURRENCY: 'KWD', STRIPE_API_URL: ownStripe.url } });
    const h = { ...kwd, stripe: stripeControl(ownStripe.url) };
    try {
      const boss = await actor(h, 'admin');
      const service = await h.api.post(
        '/v1/admin/services',
        { slug: `wash-kwd-${crypto.randomUUID().slice(0, 8)}`, name: 'Wash & Fold (KWD)', pricingModel: 'per_kg', unitPrice: 250, turnaroundHours: 48 },
        { token: boss.token },
      );
      expect(service.status, service.text).toBe(201);
      const p = await placeOrder(h, { serviceId: service.body.id });
      await h.api.patch(`/v1/admin/services/${service.body.id}`, { active: false }, { token: boss.token });
      await authorise(h, p.who, p.order.id);
      await h.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents', declineCode: 'insufficient_funds' });
      const weighed = await weigh(h, p.staff, p.order.id, 8000); // 2490: 2380 captured, 110 overage declined
      expect(weighed.balance.outstanding).toBe(110);
      const waived = await h.api.post(`/v1/staff/orders/${p.order.id}/waive-balance`, { reason: 'goodwill', amount: 5 }, { token: boss.token });
      expect(expectProblem(waived, 422, 'validation_failed').details).toMatchObject({ outstanding: 110, step: 10 });
      // Waiving 10 leaves 100, which the customer can pay.
      const ten = await h.api.post(`/v1/staff/orders/${p.order.id}/waive-balance`, { reason: 'goodwill', amount: 10 }, { token: boss.token });
      expect(ten.status, ten.text).toBe(200);
      const sheet = await sheetFor(p.order.id, p.who.token, h);
      expect(sheet.status, sheet.text).toBe(200);
      expect(sheet.body).toMatchObject({ purpose: 'balance', amount: 100 });
    } finally {
      await kwd.deps.passwords.close?.();
    }
  });

  it('a lost hold is not charged off-session while the customer is paying the same balance on the PaymentSheet', async () => {
    const h = t;
    const { who, staff, order } = await placeOrder(h);
    const { paymentIntentId: holdPi } = await authorise(h, who, order.id);
    await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${holdPi}/capture`, times: 3 });
    await weigh(h, staff, order.id, 5200); // 1999; the capture answered 500
    // Stripe releases the hold (as its expiry does) and says so.
    const cancelled = await fetch(`${h.stripe.url}/v1/payment_intents/${holdPi}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(cancelled.status).toBe(200);
    const snapshot = { ...(await stripeIntent(h, holdPi)).intent, cancellation_reason: 'automatic' };
    expect((await deliver(h, 'payment_intent.canceled', snapshot)).res.body.outcome).toBe('applied');
    // The customer opens the PaymentSheet for the balance and pays (its webhook is on its way).
    const sheet = await sheetFor(order.id, who.token);
    expect(sheet.status, sheet.text).toBe(200);
    expect(sheet.body).toMatchObject({ purpose: 'balance', amount: 1999 });
    await h.stripe.authorize(sheet.body.paymentIntentId, { paymentMethod: 'pm_card_mastercard' });
    // Meanwhile staff press capture.
    const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
    expect(retry.status, retry.text).toBeLessThan(500);
    const intents = Object.values((await h.stripe.state()).payment_intents as Record<string, any>).filter((pi) => pi.metadata?.order_id === order.id);
    expect(intents.reduce((sum, pi) => sum + (pi.amount_received as number), 0)).toBe(1999);
  });

  it('an overage answered 500 is charged once: not offered on the PaymentSheet while its outcome is unknown, then charged by the capture retry', async () => {
    const h = t;
    const { who, staff, order } = await placeOrder(h);
    await authorise(h, who, order.id);
    // The overage charge is answered 500 (stored for the key; Stripe made nothing).
    await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', times: 3 });
    await weigh(h, staff, order.id, 8000); // 2399 captured, 100 overage: 502
    expect((await orderRow(h, order.id)).flags).toContain('payment_outstanding');
    // On main the sheet offered the 100 here; paid, a capture retry then charged the overage too (2599 in all).
    const sheet = await sheetFor(order.id, who.token);
    if (sheet.status === 200) {
      await h.stripe.authorize(sheet.body.paymentIntentId, { paymentMethod: 'pm_card_mastercard' });
      expect((await deliver(h, 'payment_intent.succeeded', sheet.body.paymentIntentId)).res.body.outcome).toBe('applied');
    } else {
      expect(expectProblem(sheet, 409, 'nothing_outstanding').details).toMatchObject({ outstanding: 100, inFlight: 100 });
    }
    const retry = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
    expect(retry.status, retry.text).toBe(200);
    const intents = Object.values((await h.stripe.state()).payment_intents as Record<string, any>).filter((pi) => pi.metadata?.order_id === order.id);
    expect(intents.reduce((sum, pi) => sum + (pi.amount_received as number), 0)).toBe(2499);
    expect((await orderRow(h, order.id)).flags).not.toContain('payment_outstanding');
  });

  it('an overage an admin waived (its charge answered 500) is not charged by a capture retry', async () => {
    const h = t;
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', times: 3 });
    await weigh(h, p.staff, p.order.id, 8000);
    const boss = await p.admin();
    const waived = await h.api.post(`/v1/staff/orders/${p.order.id}/waive-balance`, { reason: 'goodwill' }, { token: boss.token });
    expect(waived.status, waived.text).toBe(200);
    const retry = await h.api.post(`/v1/staff/orders/${p.order.id}/capture`, undefined, { token: p.staff.token });
    expect(retry.status, retry.text).toBe(200);
    const intents = Object.values((await h.stripe.state()).payment_intents as Record<string, any>).filter((pi) => pi.metadata?.order_id === p.order.id);
    expect(intents.reduce((sum, pi) => sum + (pi.amount_received as number), 0)).toBe(2399);
  });

  it('an overage whose answer was lost (Stripe charged it) is not offered to the customer on the PaymentSheet as well', async () => {
    const h = t;
    const { who, staff, order } = await placeOrder(h);
    await authorise(h, who, order.id);
    // Stripe charges the overage, but every answer is a 500: we have no row for it yet.
    await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', applyThenFail: true, times: 3 });
    await weigh(h, staff, order.id, 8000);
    const sheet = await sheetFor(order.id, who.token);
    if (sheet.status === 200) {
      await h.stripe.authorize(sheet.body.paymentIntentId, { paymentMethod: 'pm_card_mastercard' });
      await deliver(h, 'payment_intent.succeeded', sheet.body.paymentIntentId);
    }
    const intents = Object.values((await h.stripe.state()).payment_intents as Record<string, any>).filter((pi) => pi.metadata?.order_id === order.id);
    expect(intents.reduce((sum, pi) => sum + (pi.amount_received as number), 0)).toBe(2499);
  });

  it('a capture retry does not take from the hold what an admin waived while the capture was failing', async () => {
    const h = t;
    const p = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, p.who, p.order.id);
    await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/capture`, times: 3 });
    await weigh(h, p.staff, p.order.id, 5200); // 1999; the capture answered 500
    const boss = await p.admin();
    const waived = await h.api.post(`/v1/staff/orders/${p.order.id}/waive-balance`, { reason: 'goodwill', amount: 500 }, { token: boss.token });
    expect(waived.status, waived.text).toBe(200);
    const retry = await h.api.post(`/v1/staff/orders/${p.order.id}/capture`, undefined, { token: p.staff.token });
    expect(retry.status, retry.text).toBe(200);
    expect((await stripeIntent(h, pi)).intent.amount_received).toBe(1499);
    const [bal] = await h.sql<{ paid: number; waived: number; outstanding: number }>('SELECT paid, waived, outstanding FROM order_balances WHERE order_id = $1', [p.order.id]);
    expect(bal).toEqual({ paid: 1499, waived: 500, outstanding: 0 });
  });
});
