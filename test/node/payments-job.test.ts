import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPaymentJobs } from '../../src/modules/payments/jobs.js';
import { authorise, deliver, lapseHold, moveTo, orderRow, paymentRows, placeOrder, stripeIntent, weigh } from '../journeys/payments.js';
import { actor } from '../support/fixtures.js';
import { expectProblem } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';
import { TEST_STRIPE_SECRET_KEY } from '../support/stripe.js';

/*
 * The payments job works on every row (all expiring holds, all delivered orders) and on all
 * of Stripe's recent PaymentIntents, so it gets a database and a Stripe stand-in of its own:
 * it never touches the rows of suites running in parallel, and theirs never show up here.
 */
let t: TestApp;
let h: Harness;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ t, h, close } = await isolatedApp('laundry_test_payments_job'));
});
afterAll(async () => {
  await close?.();
});

const expireSoon = (orderId: string) =>
  h.sql(`UPDATE payments SET capture_before = now() + interval '2 hours' WHERE order_id = $1 AND kind = 'hold'`, [orderId]);

const paymentNotes = async (orderId: string) =>
  (await h.sql<{ note: string }>(`SELECT note FROM order_events WHERE order_id = $1 AND type = 'payment' ORDER BY id`, [orderId])).map((r) => r.note);

describe('payments job', () => {
  it('flags a hold that expires within 24 h on an order not weighed yet, once, and leaves later holds alone', async () => {
    const soon = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, soon.who, soon.order.id);
    const later = await placeOrder(h);
    await authorise(h, later.who, later.order.id);
    const [set] = await h.sql<{ days: number }>(
      `SELECT round(extract(epoch FROM capture_before - now()) / 86400)::int AS days FROM payments WHERE order_id = $1`,
      [later.order.id],
    );
    expect(set!.days).toBe(6); // from the authorisation webhook: a day under the ~7 Stripe gives
    await expireSoon(soon.order.id);

    const report = await runPaymentJobs(t.deps);
    // Retention runs last in every run (test/node/retention.test.ts has the rules).
    expect(report.retention).toEqual({ idempotencyKeys: expect.any(Number), refreshRows: expect.any(Number) });
    expect(report.retentionError).toBeUndefined();
    expect(report.expiringHolds).toContainEqual({ orderId: soon.order.id, action: 'flagged' });
    expect(report.expiringHolds.map((e) => e.orderId)).not.toContain(later.order.id);
    expect(await orderRow(h, soon.order.id)).toMatchObject({ status: 'confirmed', flagged_reason: 'hold_expiring' });
    expect(await orderRow(h, later.order.id)).toMatchObject({ flagged_reason: null });
    expect((await stripeIntent(h, pi)).intent.status).toBe('requires_capture');
    expect(await h.stripe.requests().then((rs) => rs.filter((r) => r.path.endsWith('/capture')))).toEqual([]);

    await runPaymentJobs(t.deps);
    expect((await paymentNotes(soon.order.id)).filter((n) => /expires within 24 hours/.test(n))).toHaveLength(1);
  });

  // Stripe stores the 500 as the capture key's answer and replays it to every retry with that key
  // (https://docs.stripe.com/api/idempotent_requests): the job looks the intent up, then captures
  // with a new attempt key, once.
  it('captures a weighed order whose hold expires within 24 h (after a stored 500 on the capture key), with a new attempt key', async () => {
    const p = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, p.who, p.order.id);
    await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/capture` });
    await weigh(h, p.staff, p.order.id, 5200);
    expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ status: 'requires_capture', captured: 0 });
    await expireSoon(p.order.id);

    const report = await runPaymentJobs(t.deps);
    expect(report.expiringHolds).toContainEqual({ orderId: p.order.id, action: 'captured' });
    const atStripe = await stripeIntent(h, pi);
    expect(atStripe.intent).toMatchObject({ status: 'succeeded', amount_received: 1999 });
    expect(atStripe.captures).toBe(1);
    expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ status: 'succeeded', captured: 1999 });
    expect((await orderRow(h, p.order.id)).flagged_reason).toBeNull();
    const calls = (await h.stripe.requests()).filter((r) => r.path.startsWith(`/v1/payment_intents/${pi}`));
    const [hold] = await h.sql<{ id: string }>(`SELECT id::text FROM payments WHERE order_id = $1 AND kind = 'hold'`, [p.order.id]);
    const key = `capture-${hold!.id}`;
    // The SDK's own retries get the stored 500; the job retrieves the intent, then captures with attempt 2.
    expect(calls.filter((r) => r.path.endsWith('/capture') || r.method === 'GET').slice(-5).map((r) => [r.method, r.idempotencyKey, r.status])).toEqual([
      ['POST', key, 500],
      ['POST', key, 500],
      ['POST', key, 500],
      ['GET', null, 200],
      ['POST', `${key}-a2`, 200],
    ]);
    expect(await h.sql(`SELECT attempt, outcome FROM payment_attempts WHERE subject = $1 ORDER BY attempt`, [hold!.id])).toEqual([
      { attempt: 1, outcome: 'server_error' },
      { attempt: 2, outcome: null },
    ]);

    const again = await runPaymentJobs(t.deps);
    expect(again.expiringHolds.map((e) => e.orderId)).not.toContain(p.order.id);
    expect((await stripeIntent(h, pi)).captures).toBe(1);
  });

  it('releases, never captures, the hold of a cancelled order that Stripe did not release at cancellation', async () => {
    const p = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, p.who, p.order.id);
    // A 500 Stripe stores for the cancel key: the job looks the intent up and cancels with a new attempt key.
    await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/cancel` });
    const cancelled = await h.api.post(`/v1/orders/${p.order.id}/cancel`, undefined, { token: p.who.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await stripeIntent(h, pi)).intent.status).toBe('requires_capture');
    await expireSoon(p.order.id);

    const report = await runPaymentJobs(t.deps);
    expect(report.expiringHolds).toContainEqual({ orderId: p.order.id, action: 'released' });
    const atStripe = await stripeIntent(h, pi);
    expect(atStripe.intent).toMatchObject({ status: 'canceled', amount_received: 0 });
    expect(atStripe.captures).toBe(0);
    expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ status: 'canceled' });
    expect((await orderRow(h, p.order.id)).status).toBe('cancelled');
  });

  it('flags a delivered pay-on-delivery order with no recorded payment; recording it clears the flag', async () => {
    const deliverOrder = async (pay: boolean) => {
      const p = await placeOrder(h, { paymentMethod: 'on_delivery' });
      await weigh(h, p.staff, p.order.id, 5200);
      for (const to of ['ready', 'out_for_delivery']) await moveTo(h, p.staff, p.order.id, to);
      if (pay) {
        const res = await h.api.post(`/v1/staff/orders/${p.order.id}/payments`, { method: 'card_present', amount: 1999 }, { token: p.staff.token });
        expect(res.status, res.text).toBe(204);
      }
      await moveTo(h, p.staff, p.order.id, 'delivered');
      return p;
    };
    const unpaid = await deliverOrder(false);
    const paid = await deliverOrder(true);
    // Already flagged for something else: still flagged as unpaid, and the other flag stays.
    const disputed = await deliverOrder(false);
    await h.sql(`UPDATE orders SET flags = '{disputed}', flagged_reason = 'disputed' WHERE id = $1`, [disputed.order.id]);

    const report = await runPaymentJobs(t.deps);
    expect(report.unpaidDeliveriesFlagged).toBeGreaterThanOrEqual(2);
    expect(await orderRow(h, unpaid.order.id)).toMatchObject({ status: 'delivered', flags: ['unpaid_on_delivery'], flagged_reason: 'unpaid_on_delivery' });
    expect(await orderRow(h, paid.order.id)).toMatchObject({ flags: [], flagged_reason: null });
    expect(await orderRow(h, disputed.order.id)).toMatchObject({ flags: ['disputed', 'unpaid_on_delivery'], flagged_reason: 'unpaid_on_delivery' });
    const paidLate = await h.api.post(`/v1/staff/orders/${disputed.order.id}/payments`, { method: 'cash', amount: 1999 }, { token: disputed.staff.token });
    expect(paidLate.status, paidLate.text).toBe(204);
    expect(await orderRow(h, disputed.order.id)).toMatchObject({ flags: ['disputed'], flagged_reason: 'disputed' });
    expect(await paymentNotes(unpaid.order.id)).toEqual(['Delivered without a recorded payment']);

    const late = await h.api.post(`/v1/staff/orders/${unpaid.order.id}/payments`, { method: 'cash', amount: 1999 }, { token: unpaid.staff.token });
    expect(late.status, late.text).toBe(204);
    expect(await orderRow(h, unpaid.order.id)).toMatchObject({ flags: [], flagged_reason: null });
    const rerun = await runPaymentJobs(t.deps);
    expect(rerun.unpaidDeliveriesFlagged).toBe(0);
    expect((await orderRow(h, unpaid.order.id)).flagged_reason).toBeNull();
    expectProblem(
      await h.api.post(`/v1/staff/orders/${unpaid.order.id}/payments`, { method: 'cash', amount: 1999 }, { token: unpaid.staff.token }),
      409,
      'payment_not_applicable',
    );
  });

  it('reconciliation records an overage PaymentIntent whose answer was lost (our metadata names the order), once', async () => {
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    // Stripe charges the overage; its answer is a 500 stored for the key. No webhook arrives.
    await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', applyThenFail: true });
    await weigh(h, p.staff, p.order.id, 8000); // 2499: the hold's 2399 captured, an overage of 100
    expect(await paymentRows(h, p.order.id)).toHaveLength(1);
    const state = await h.stripe.state();
    const charged = Object.values(state.payment_intents as Record<string, any>).find((x) => x.metadata?.order_id === p.order.id && x.metadata?.kind === 'overage');
    expect(charged).toMatchObject({ status: 'succeeded', amount: 100 });

    const report = await runPaymentJobs(t.deps);
    expect(report.reconciliation!.adopted).toContain(charged.id);
    expect(report.reconciliation!.mismatches.map((m) => m.paymentIntent)).not.toContain(charged.id);
    expect(await paymentRows(h, p.order.id)).toEqual([
      expect.objectContaining({ kind: 'hold', status: 'succeeded', captured: 2399 }),
      expect.objectContaining({ kind: 'overage', status: 'succeeded', pi: charged.id, amount: 100, captured: 100 }),
    ]);
    expect((await paymentNotes(p.order.id)).filter((n) => /whose answer was lost/.test(n))).toHaveLength(1);
    const again = await runPaymentJobs(t.deps);
    expect(again.reconciliation!.adopted).not.toContain(charged.id);
    expect((await paymentNotes(p.order.id)).filter((n) => /whose answer was lost/.test(n))).toHaveLength(1);
  });

  it("reconciliation reports a PaymentIntent whose Stripe state is ahead of ours, across all of Stripe's pages", async () => {
    const behind = await placeOrder(h);
    const sheet = await h.api.post(`/v1/orders/${behind.order.id}/payment-sheet`, undefined, { token: behind.who.token });
    expect(sheet.status, sheet.text).toBe(200);
    const pi = sheet.body.paymentIntentId as string;
    await h.stripe.authorize(pi); // authorised at Stripe; the webhook never arrives
    const inSync = await placeOrder(h);
    const { paymentIntentId: syncedPi } = await authorise(h, inSync.who, inSync.order.id);
    // More than a page of newer intents, none of them ours: the stale one is on page 2.
    for (let i = 0; i < 101; i++) {
      const res = await fetch(`${h.stripe.url}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'amount=1000&currency=usd',
      });
      expect(res.status).toBe(200);
    }

    const report = await runPaymentJobs(t.deps);
    expect(report.reconciliationError).toBeUndefined();
    expect(report.reconciliation!.checked).toBeGreaterThan(103);
    expect(report.reconciliation!.mismatches).toContainEqual({ paymentIntent: pi, ours: 'requires_payment_method', stripe: 'requires_capture', problem: 'we_are_behind' });
    expect(report.reconciliation!.mismatches.map((m) => m.paymentIntent)).not.toContain(syncedPi);
    expect(t.logger.entries.some((e) => e.msg === 'payment reconciliation mismatch' && e.paymentIntent === pi)).toBe(true);

    // Once the webhook arrives, we agree with Stripe again.
    expect((await deliver(h, 'payment_intent.amount_capturable_updated', pi)).res.body.outcome).toBe('applied');
    const after = await runPaymentJobs(t.deps);
    expect(after.reconciliation!.mismatches.map((m) => m.paymentIntent)).not.toContain(pi);
  });

  it('settles refunds whose Stripe answer was lost: made → succeeded, never made → released; it never refunds by itself', async () => {
    const boss = await actor(h, 'admin');
    const captured = async () => {
      const p = await placeOrder(h);
      await authorise(h, p.who, p.order.id);
      await weigh(h, p.staff, p.order.id, 5200); // captures 1999 of the hold
      return p;
    };
    const refund = (orderId: string, amount: number) =>
      h.api.post(`/v1/staff/orders/${orderId}/refunds`, { amount, reason: 'Lost sock' }, { token: boss.token });
    const refundRows = (orderId: string) =>
      h.sql<{ amount: number; status: string; stripe_refund_id: string | null }>(
        `SELECT amount, status, stripe_refund_id FROM refunds WHERE order_id = $1 ORDER BY created_at`,
        [orderId],
      );
    const age = (orderId: string) => h.sql(`UPDATE refunds SET created_at = now() - interval '11 minutes' WHERE order_id = $1`, [orderId]);

    // Stripe made the refund, but the answer never arrived.
    const made = await captured();
    // stripe-node retries twice with the same key: every answer is lost.
    await h.stripe.failNext({ mode: 'server_error', path: '/v1/refunds', applyThenFail: true, times: 3 });
    expectProblem(await refund(made.order.id, 500), 502, 'payment_provider_error');
    // Stripe never saw the request.
    const never = await captured();
    await h.stripe.failNext({ mode: 'server_error', path: '/v1/refunds', times: 3 });
    expectProblem(await refund(never.order.id, 700), 502, 'payment_provider_error');
    for (const o of [made, never]) expect(await refundRows(o.order.id)).toEqual([{ amount: expect.any(Number), status: 'pending', stripe_refund_id: null }]);
    // While pending, the reserved amount cannot be refunded a second time.
    expectProblem(await refund(never.order.id, 1999), 422, 'refund_exceeds_captured');

    // Younger than 10 minutes: left alone (the request may still be in flight).
    const early = await runPaymentJobs(t.deps);
    expect(early.staleRefunds).toMatchObject({ settled: 0, released: 0 });

    await age(made.order.id);
    await age(never.order.id);
    const postsBefore = (await h.stripe.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds').length;
    const report = await runPaymentJobs(t.deps);
    expect(report.staleRefunds).toMatchObject({ settled: 1, released: 1 });
    expect((await h.stripe.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds')).toHaveLength(postsBefore);

    expect(await refundRows(made.order.id)).toEqual([{ amount: 500, status: 'succeeded', stripe_refund_id: expect.stringMatching(/^re_/) }]);
    expect(await paymentRows(h, made.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 500 })]);
    expect(await paymentNotes(made.order.id)).toContain('Refunded 500: Lost sock (confirmed with Stripe later)');

    expect(await refundRows(never.order.id)).toEqual([{ amount: 700, status: 'failed', stripe_refund_id: null }]);
    expect(await paymentRows(h, never.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 0 })]);
    expect(await paymentNotes(never.order.id)).toContain('Refund of 700 never reached Stripe; released, refund again if still owed');
    // Released: the full amount can be refunded again, by a person.
    const again = await refund(never.order.id, 1999);
    expect(again.status, again.text).toBe(201);

    // A second run finds nothing left to settle.
    expect((await runPaymentJobs(t.deps)).staleRefunds).toMatchObject({ checked: 0, settled: 0, released: 0 });
  });
  // Stripe cancels an uncaptured hold by itself after about 7 days (payment_intent.canceled,
  // cancellation_reason automatic: https://docs.stripe.com/payments/place-a-hold-on-a-payment-method).
  // Nobody may press capture again, so the job collects the balance off-session on the saved card.
  it('collects the balance of a weighed order whose hold Stripe cancelled, once', async () => {
    const p = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, p.who, p.order.id);
    await h.stripe.failNext({ mode: 'server_error', path: `/v1/payment_intents/${pi}/capture` });
    await weigh(h, p.staff, p.order.id, 5200);
    expect((await lapseHold(h, pi)).res.body.outcome).toBe('applied');
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['payment_outstanding'] });

    const report = await runPaymentJobs(t.deps);
    expect(report.lostHolds).toContainEqual({ orderId: p.order.id, outcome: 'charged' });
    const rows = await paymentRows(h, p.order.id);
    expect(rows).toEqual([
      expect.objectContaining({ kind: 'hold', status: 'canceled', captured: 0 }),
      expect.objectContaining({ kind: 'balance', status: 'succeeded', amount: 1999, captured: 1999 }),
    ]);
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [] });

    const again = await runPaymentJobs(t.deps);
    expect(again.lostHolds.map((l) => l.orderId)).not.toContain(p.order.id);
    const balanceCharges = (await h.stripe.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.form.metadata?.order_id === p.order.id && r.form.metadata?.kind === 'balance');
    expect(balanceCharges).toHaveLength(1);
  });
  it("retries a lost hold's balance charge whose answer was a 500: looked up at Stripe, then charged once with a new attempt key", async () => {
    const p = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, p.who, p.order.id);
    expect((await lapseHold(h, pi)).res.body.outcome).toBe('applied');
    // The weigh-in's off-session balance charge meets a 500, which Stripe stores for its key.
    await h.stripe.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents' });
    await weigh(h, p.staff, p.order.id, 5200);
    expect((await paymentRows(h, p.order.id)).find((r) => r.kind === 'balance')).toMatchObject({ status: 'requires_confirmation', pi: null });

    const report = await runPaymentJobs(t.deps);
    expect(report.lostHolds).toContainEqual({ orderId: p.order.id, outcome: 'charged' });
    expect((await paymentRows(h, p.order.id)).find((r) => r.kind === 'balance')).toMatchObject({ status: 'succeeded', captured: 1999 });
    const sent = (await h.stripe.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.form.metadata?.kind === 'balance' && r.form.metadata?.order_id === p.order.id);
    // The SDK's own retries resend the first key (Stripe replays its stored 500); then attempt 2, once.
    const keys = sent.map((r) => r.idempotencyKey?.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, 'ID'));
    expect([...new Set(keys)]).toEqual(['balance-ID', 'balance-ID-a2']);
    expect(keys.filter((k) => k === 'balance-ID-a2')).toHaveLength(1);
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [] });
  });
});
