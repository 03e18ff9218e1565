/**
 * Round trips of every payment endpoint and path, counted by the local Neon endpoint while the
 * app runs on the real neon-http driver (each is one HTTP POST to Neon at the edge, 5–50 ms).
 * Stripe calls go to the stand-in and are not counted. The numbers are docs/runbook.md's
 * "Round trips per request" table; prices as in test/journeys/payments.ts (hold 2399).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import type { LocalNeonServer } from '../../tools/local-neon/index.js';
import { authorise, deliver, moveTo, placeOrder, stripeIntent, deliverEvent } from '../journeys/payments.js';
import { emitted } from '../journeys/refund-steps.js';
import { createNeonTestApp, roundTripsOf, type NeonTestApp } from '../support/neon-app.js';
import { stripeControl, stripeEnv } from '../support/stripe.js';
import type { TestApp } from '../support/node-app.js';

let app: NeonTestApp;
let t: TestApp;
let endpoint: LocalNeonServer;
// The lost-hold path moves the stand-in's clock: its own stand-in, as in test/node/journeys.test.ts.
let ownStripe: StripeStandIn;

beforeAll(async () => {
  ownStripe = await startStripeStandIn();
  app = await createNeonTestApp({ env: stripeEnv(ownStripe.url) });
  t = { ...app.t, stripe: stripeControl(ownStripe.url) };
  endpoint = app.endpoint;
});
afterAll(async () => {
  await app.close();
  await ownStripe.close();
});

const trips = async (call: () => Promise<any>, status: number) => (await roundTripsOf(endpoint, call, status)).trips;

/** Weighs a placed card order: picked_up → processing, then the counted weigh-in. */
async function weighCounted(p: Awaited<ReturnType<typeof placeOrder>>, weightGrams: number): Promise<number> {
  await moveTo(t, p.staff, p.order.id, 'picked_up', { bagCount: 2 });
  await moveTo(t, p.staff, p.order.id, 'processing');
  return trips(() => t.api.post(`/v1/staff/orders/${p.order.id}/weigh-in`, { weightGrams }, { token: p.staff.token }), 200);
}

describe('round trips of the payment endpoints (neon-http driver)', () => {
  it('payment sheet (new hold, existing hold), the authorised webhook, a weigh-in that captures only', async () => {
    const p = await placeOrder(t);
    const sheet = () => t.api.post(`/v1/orders/${p.order.id}/payment-sheet`, undefined, { token: p.who.token });
    const counts: Record<string, number> = {};
    counts.sheetNew = await trips(sheet, 200);
    counts.sheetExisting = await trips(sheet, 200);
    const pi = (await sheet()).body.paymentIntentId as string;
    await t.stripe.authorize(pi);
    counts.webhookIntent = await trips(() => deliver(t, 'payment_intent.amount_capturable_updated', pi).then((r) => r.res), 200);
    counts.weighCaptureOnly = await weighCounted(p, 5200);
    const admin = await p.admin();
    counts.refund = await trips(() => t.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount: 100, reason: 'Round trip' }, { token: admin.token }), 201);
    const refundEvent = (await emitted(t, pi)).find((e) => e.type === 'refund.created')!;
    counts.webhookRefund = await trips(() => deliverEvent(t, refundEvent).then((r) => r.res), 200);
    // Before: sheet 3, weigh-in 6, refund 3. The weigh-in's floor is 3: its read (pricing is in
    // code), its write (+ payment state + capture attempt), then Stripe's answer + flag + read-back.
    expect(counts).toEqual({ sheetNew: 2, sheetExisting: 1, webhookIntent: 1, weighCaptureOnly: 3, refund: 2, webhookRefund: 1 });
  });

  it('weigh-in with an overage charged at once; with an overage awaiting approval, then approval, capture and cancel', async () => {
    const charged = await placeOrder(t);
    await authorise(t, charged.who, charged.order.id);
    const counts: Record<string, number> = {};
    counts.weighOverageCharged = await weighCounted(charged, 8000);

    const waiting = await placeOrder(t);
    await authorise(t, waiting.who, waiting.order.id);
    counts.weighOverageAwaiting = await weighCounted(waiting, 14000);
    counts.approve = await trips(() => t.api.post(`/v1/orders/${waiting.order.id}/approve-overage`, undefined, { token: waiting.who.token }), 200);
    counts.captureAgain = await trips(() => t.api.post(`/v1/staff/orders/${waiting.order.id}/capture`, undefined, { token: waiting.staff.token }), 200);

    // Stripe answers the weigh-in's capture with a stored 500; the staff retry captures.
    const retried = await placeOrder(t);
    const { paymentIntentId: retriedPi } = await authorise(t, retried.who, retried.order.id);
    await t.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${retriedPi}/capture` });
    counts.weighCaptureFails = await weighCounted(retried, 5200);
    counts.captureRetry = await trips(() => t.api.post(`/v1/staff/orders/${retried.order.id}/capture`, undefined, { token: retried.staff.token }), 200);

    const cancelled = await placeOrder(t);
    await authorise(t, cancelled.who, cancelled.order.id);
    counts.cancelCard = await trips(() => t.api.post(`/v1/orders/${cancelled.order.id}/cancel`, {}, { token: cancelled.who.token }), 200);
    // Before: 8, 7, 5, 1, 5. The overage charge still records its attempt in a round trip of its own (+1).
    // A capture Stripe answered with a stored 500: the weigh-in records the failure on its attempt
    // (+1). The retry reads state + attempts (1), looks the capture up at Stripe, records a new
    // attempt key (1: it must follow that look-up and precede the send), then Stripe's answer (1).
    expect(counts).toEqual({ weighOverageCharged: 4, weighOverageAwaiting: 3, approve: 2, captureAgain: 1, weighCaptureFails: 4, captureRetry: 3, cancelCard: 3 });
  });

  it('a lost hold at the weigh-in: the balance charged off-session; in-person payment', async () => {
    const p = await placeOrder(t);
    const { paymentIntentId: pi } = await authorise(t, p.who, p.order.id);
    await t.stripe.advanceTime(8 * 24 * 3600);
    const canceled = (await stripeIntent(t, pi)).events.find((e) => e.type === 'payment_intent.canceled')!;
    const counts: Record<string, number> = {};
    counts.webhookCanceled = await trips(() => deliverEvent(t, canceled).then((r) => r.res), 200);
    counts.weighLostHold = await weighCounted(p, 5200);

    const cash = await placeOrder(t, { paymentMethod: 'on_delivery' });
    await moveTo(t, cash.staff, cash.order.id, 'picked_up', { bagCount: 1 });
    await moveTo(t, cash.staff, cash.order.id, 'processing');
    await t.api.post(`/v1/staff/orders/${cash.order.id}/weigh-in`, { weightGrams: 6000 }, { token: cash.staff.token });
    await moveTo(t, cash.staff, cash.order.id, 'ready');
    await moveTo(t, cash.staff, cash.order.id, 'out_for_delivery');
    counts.inPerson = await trips(() => t.api.post(`/v1/staff/orders/${cash.order.id}/payments`, { method: 'cash', amount: 1999 }, { token: cash.staff.token }), 204);
    // Before: 1, 7, 1. The lost hold: read, write (+ state), the balance row + its charge attempt,
    // then Stripe's answer + flag + read-back.
    expect(counts).toEqual({ webhookCanceled: 1, weighLostHold: 4, inPerson: 1 });
  });
});
