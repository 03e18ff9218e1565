import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import { deliver, orderRow, paymentRows } from './payments.js';
import { atStripe, captured, dashboard, deliverAll, emitted, refundRows, typesOf } from './refund-steps.js';

/*
 * Issue 13, finding 3: refund outcomes, end to end. Before, `refund.updated`, `refund.failed` and
 * `charge.refund.updated` were answered `ignored`: a refund Stripe failed stayed `succeeded` here,
 * its amount could not be refunded again, and nobody was told. A card refund can fail even after
 * `succeeded`, with a `failure_reason` (https://docs.stripe.com/refunds#failed-refunds).
 *
 * The customer pays with Stripe's asynchronous-refund test cards (https://docs.stripe.com/testing#refunds):
 * `pm_card_refundFail` (its refunds succeed, then fail "later": the stand-in's `settleRefund`) or
 * `pm_card_pendingRefund` (its refunds begin pending). The app gets the events the stand-in
 * EMITTED for each change, signed with the real scheme and POSTed like Stripe: in the order they
 * were emitted, late, reversed (Stripe does not promise an order:
 * https://docs.stripe.com/webhooks#event-ordering) and replayed (at least once).
 * Prices as in ./payments.ts: an estimate of 12 kg holds more than 3000; weighed 10.004 kg →
 * 2501 + 499 delivery = 3000 captured. 6 kg / 5.2 kg → 1999 captured.
 */

const FAILED_500 = 'Refund of 500 failed at Stripe (expired_or_canceled_card): not returned to the customer; it can be refunded again';

export function paymentsRefundsJourney(harness: () => Harness) {
  describe('payments: refund outcomes', () => {
    it('a refund that fails after a second partial refund (pm_card_refundFail): marked failed, refundable again, flagged; its events act once in any order', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_refundFail', 12000, 10004);
      expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ kind: 'hold', captured: 3000, refunded: 0 })]);
      const mark = (await emitted(h, p.pi)).length;
      for (const amount of [1000, 500]) {
        const res = await p.refund(amount);
        expect(res.status, res.text).toBe(201);
        expect(res.body).toMatchObject({ amount, status: 'succeeded' });
      }
      const [first, second] = await refundRows(h, p.order.id);
      expect(second).toMatchObject({ amount: 500, status: 'succeeded', stripe_refund_id: expect.stringMatching(/^re_/) });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 1500 });
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(1500);
      const made = await emitted(h, p.pi, mark);
      expect(typesOf(made)).toEqual(['refund.created', 'charge.refunded', 'refund.created', 'charge.refunded']);
      // The first refund's events: what our API answer already recorded.
      expect(await deliverAll(h, made.slice(0, 2))).toEqual(['stale', 'stale']);
      // Before any outcome, 1500 is all that is left to refund.
      expectProblem(await p.refund(1501), 422, 'refund_exceeds_captured');

      // The card's issuer returns the second refund, "later": Stripe sends three events for it.
      const afterMade = mark + made.length;
      const failed = await h.stripe.settleRefund(second!.stripe_refund_id!, 'failed');
      expect(failed).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
      const outcome = await emitted(h, p.pi, afterMade);
      expect(typesOf(outcome)).toEqual(['refund.updated', 'charge.refund.updated', 'refund.failed']);
      expect(await deliverAll(h, outcome)).toEqual(['flagged', 'stale', 'stale']);
      expect(await deliverAll(h, outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);

      expect(await refundRows(h, p.order.id)).toEqual([
        expect.objectContaining({ id: first!.id, status: 'succeeded' }),
        expect.objectContaining({ id: second!.id, status: 'failed', stripe_refund_id: failed.id }),
      ]);
      // Stripe no longer counts a failed refund on the charge; neither do we.
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(1000);
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 3000, refunded: 1000 });
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'], flagged_reason: 'refund_failed' });
      expect((await p.notes()).filter((e) => /failed at Stripe/.test(e.note))).toEqual([
        expect.objectContaining({
          note: FAILED_500,
          actor: { role: 'system', userId: null },
          evidence: expect.objectContaining({ refund: failed.id, amount: 500, failureReason: 'expired_or_canceled_card', refundOutcome: 'failed' }),
        }),
      ]);
      const staff = await h.api.get(`/v1/staff/orders?zone=${p.order.zoneId}&flag=refund_failed`, { token: p.staff.token });
      expect(staff.status, staff.text).toBe(200);
      expect(staff.body.data).toEqual([expect.objectContaining({ id: p.order.id, flags: ['refund_failed'] })]);

      // Out of order and late: the second refund's refund.created (succeeded) and charge.refunded
      // (total 1500, sent before it failed) arrive only now, and a pending snapshot after them.
      expect(await deliverAll(h, made.slice(2))).toEqual(['stale', 'stale']);
      expect((await deliver(h, 'refund.updated', { ...failed, status: 'pending', failure_reason: null })).res.body.outcome).toBe('stale');
      expect((await refundRows(h, p.order.id))[1]).toMatchObject({ status: 'failed' });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 1000 });

      // The admin refunds the 500 again: accepted, and its success clears the flag.
      const again = await p.refund(500, 'Refund again after the card refund failed');
      expect(again.status, again.text).toBe(201);
      expect(again.body).toMatchObject({ amount: 500, status: 'succeeded' });
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [], flagged_reason: null });
      expect((await refundRows(h, p.order.id)).map((r) => [r.amount, r.status])).toEqual([
        [1000, 'succeeded'],
        [500, 'failed'],
        [500, 'succeeded'],
      ]);
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(1500);
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 1500 });
    });

    it('a pm_card_pendingRefund refund: answered pending (counted, as Stripe counts it), then succeeded → recorded once', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_pendingRefund', 6000, 5200);
      const mark = (await emitted(h, p.pi)).length;
      const res = await p.refund(700, 'Lost sock');
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ amount: 700, status: 'pending' });
      const [row] = await refundRows(h, p.order.id);
      expect(row).toMatchObject({ amount: 700, status: 'pending', stripe_refund_id: expect.stringMatching(/^re_/) });
      // Stripe's charge counts the pending refund; so does our total, and it is not refundable twice.
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(700);
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 700 });
      expectProblem(await p.refund(1300), 422, 'refund_exceeds_captured');
      const made = await emitted(h, p.pi, mark);
      expect(typesOf(made)).toEqual(['refund.created', 'charge.refunded']);
      expect(made[0]!.data.object.status).toBe('pending');
      expect(await deliverAll(h, made.slice(1))).toEqual(['stale']);

      // "Some time later" it succeeds: refund.updated and charge.refund.updated; refund.created is late.
      await h.stripe.settleRefund(row!.stripe_refund_id!, 'succeeded');
      const outcome = await emitted(h, p.pi, mark + made.length);
      expect(typesOf(outcome)).toEqual(['refund.updated', 'charge.refund.updated']);
      expect(await deliverAll(h, outcome)).toEqual(['applied', 'stale']);
      expect(await deliverAll(h, [made[0]!, ...outcome])).toEqual(['stale', 'duplicate', 'duplicate']);

      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'succeeded', stripe_refund_id: row!.stripe_refund_id });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 700 });
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(700);
      expect((await p.notes()).filter((e) => /confirmed by Stripe/.test(e.note))).toEqual([
        expect.objectContaining({ note: 'Refund of 700 confirmed by Stripe: Lost sock', actor: { role: 'system', userId: null } }),
      ]);
      expect((await orderRow(h, p.order.id)).flags).toEqual([]);
      expectProblem(await p.refund(1300), 422, 'refund_exceeds_captured');
      expect((await p.refund(1299)).status).toBe(201);
    });

    it('a pending refund whose answer was lost is found by metadata from refund.created, then succeeds once', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_pendingRefund', 6000, 5200);
      const mark = (await emitted(h, p.pi)).length;
      // Stripe made the refund but its answer was lost: our row is pending, without Stripe's id.
      await h.stripe.failNext({ mode: 'server_error', path: '/v1/refunds', applyThenFail: true, times: 3 });
      expectProblem(await p.refund(700, 'Lost sock'), 502, 'payment_provider_error');
      const [row] = await refundRows(h, p.order.id);
      expect(row).toMatchObject({ amount: 700, status: 'pending', stripe_refund_id: null });
      const made = await emitted(h, p.pi, mark);
      expect(typesOf(made)).toEqual(['refund.created', 'charge.refunded']);
      const stripeId = made[0]!.data.object.id as string;

      // refund.created (pending) is found by metadata.refund_id: it records Stripe's id, nothing else.
      expect(await deliverAll(h, made.slice(0, 1))).toEqual(['applied']);
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'pending', stripe_refund_id: stripeId });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 0 });

      await h.stripe.settleRefund(stripeId, 'succeeded');
      const outcome = await emitted(h, p.pi, mark + made.length);
      expect(await deliverAll(h, outcome)).toEqual(['applied', 'stale']);
      expect(await deliverAll(h, outcome.slice(0, 1))).toEqual(['duplicate']);
      // Stripe's charge.refunded (total 700) arrives last: already counted.
      expect(await deliverAll(h, made.slice(1))).toEqual(['stale']);

      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'succeeded', stripe_refund_id: stripeId });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 700 });
      expect((await p.notes()).filter((e) => /confirmed by Stripe/.test(e.note))).toEqual([
        expect.objectContaining({ note: 'Refund of 700 confirmed by Stripe: Lost sock', actor: { role: 'system', userId: null } }),
      ]);
      expect((await orderRow(h, p.order.id)).flags).toEqual([]);
      expectProblem(await p.refund(1300), 422, 'refund_exceeds_captured');
      expect((await p.refund(1299)).status).toBe(201);
    });

    it('a failed refund whose row has no Stripe id yet is found by metadata; never below 0; refundable again', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_refundFail', 6000, 5200);
      const mark = (await emitted(h, p.pi)).length;
      await h.stripe.failNext({ mode: 'server_error', path: '/v1/refunds', applyThenFail: true, times: 3 });
      expectProblem(await p.refund(700, 'Lost sock'), 502, 'payment_provider_error');
      const [row] = await refundRows(h, p.order.id);
      // While pending, the 700 is reserved.
      expectProblem(await p.refund(1300), 422, 'refund_exceeds_captured');
      const made = await emitted(h, p.pi, mark);
      const stripeId = made[0]!.data.object.id as string;

      // Metadata naming our row on another order's refund changes nothing on this order (that
      // refund is recorded on the order whose PaymentIntent it names, as made outside the app).
      const other = await captured(h, 'pm_card_visa', 6000, 5200);
      const stranger = await deliver(h, 'refund.failed', { ...made[0]!.data.object, id: 're_elsewhere', payment_intent: other.pi, status: 'failed', failure_reason: 'declined' });
      expect(stranger.res.body.outcome).toBe('flagged');
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'pending', stripe_refund_id: null });
      expect(await refundRows(h, other.order.id)).toEqual([expect.objectContaining({ stripe_refund_id: 're_elsewhere', status: 'failed', actor_user_id: null })]);

      // The issuer returns it; its failure events come first, refund.created and charge.refunded after.
      await h.stripe.settleRefund(stripeId, 'failed', { failure_reason: 'lost_or_stolen_card' });
      const outcome = await emitted(h, p.pi, mark + made.length);
      expect(await deliverAll(h, [...outcome].reverse())).toEqual(['flagged', 'stale', 'stale']);
      expect(await deliverAll(h, made)).toEqual(['stale', 'stale']);
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ id: row!.id, status: 'failed', stripe_refund_id: stripeId });
      // We had not counted it (the answer was lost): the refunded total stays 0, never negative.
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 0 });
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(0);
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
      expect((await p.notes()).map((e) => e.note)).toContain(
        'Refund of 700 failed at Stripe (lost_or_stolen_card): not returned to the customer; it can be refunded again',
      );
      const again = await p.refund(1999, 'Refund again');
      expect(again.status, again.text).toBe(201);
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [] });
    });

    it('a canceled refund is released and flagged like a failed one', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_visa', 6000, 5200);
      expect((await p.refund(400)).status).toBe(201);
      const [row] = await refundRows(h, p.order.id);
      const mark = (await emitted(h, p.pi)).length;
      // Canceled from the Stripe Dashboard: refund.updated and charge.refund.updated, no refund.failed.
      const canceled = await h.stripe.settleRefund(row!.stripe_refund_id!, 'canceled');
      const outcome = await emitted(h, p.pi, mark);
      expect(typesOf(outcome)).toEqual(['refund.updated', 'charge.refund.updated']);
      expect(await deliverAll(h, outcome)).toEqual(['flagged', 'stale']);
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'canceled' });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 0 });
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(0);
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
      expect((await p.notes()).map((e) => e.note)).toContain('Refund of 400 canceled at Stripe: not returned to the customer; it can be refunded again');
      expect((await deliver(h, 'refund.failed', { ...canceled, status: 'failed' })).res.body.outcome).toBe('stale');
    });

    it('a refund made in the Stripe Dashboard is recorded from its events; when it fails, our refunded total follows', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_refundFail', 12000, 10004);
      expect((await p.refund(1000)).status).toBe(201);
      const mark = (await emitted(h, p.pi)).length;
      const made = await dashboard(h).refunds.create({ payment_intent: p.pi, amount: 300 });
      const created = await emitted(h, p.pi, mark);
      expect(typesOf(created)).toEqual(['refund.created', 'charge.refunded']);
      // Before, refund.created answered unknown_payment and nothing recorded the refund.
      expect(await deliverAll(h, created)).toEqual(['applied', 'stale']);
      // (Sorted by amount: the Dashboard row is dated by Stripe's `created`, whole seconds.)
      expect((await refundRows(h, p.order.id)).sort((a, b) => b.amount - a.amount)).toEqual([
        expect.objectContaining({ amount: 1000, status: 'succeeded' }),
        { id: expect.any(String), amount: 300, status: 'succeeded', stripe_refund_id: made.id, reason: 'Made outside the app (Stripe Dashboard)', actor_user_id: null },
      ]);
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 1300 });
      expect((await p.notes()).map((e) => e.note)).toContain('Refund of 300 confirmed by Stripe: Made outside the app (Stripe Dashboard)');
      expectProblem(await p.refund(1701), 422, 'refund_exceeds_captured');

      // It fails; its events arrive in reverse; our total drops to Stripe's.
      await h.stripe.settleRefund(made.id, 'failed');
      const outcome = await emitted(h, p.pi, mark + created.length);
      expect(await deliverAll(h, [...outcome].reverse())).toEqual(['flagged', 'stale', 'stale']);
      expect(await deliverAll(h, created)).toEqual(['duplicate', 'duplicate']);
      expect((await refundRows(h, p.order.id)).find((r) => r.stripe_refund_id === made.id)).toMatchObject({ amount: 300, status: 'failed' });
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(1000);
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 3000, refunded: 1000 });
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
      expect((await p.notes()).map((e) => e.note)).toContain(
        'Refund of 300 failed at Stripe (expired_or_canceled_card): not returned to the customer; it can be refunded again',
      );
      const rest = await p.refund(2000, 'The rest, after the Dashboard refund failed');
      expect(rest.status, rest.text).toBe(201);
      expect(rest.body).toMatchObject({ amount: 2000, status: 'succeeded' });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 3000 });
    });

    it('Dashboard refunds whose created and failed events arrive at the same moment: one row each, failed, total back to Stripe’s', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_refundFail', 12000, 10004);
      expect((await p.refund(1000)).status).toBe(201);
      const stripe = dashboard(h);
      const mark = (await emitted(h, p.pi)).length;
      const made = [];
      for (let i = 0; i < 4; i++) made.push(await stripe.refunds.create({ payment_intent: p.pi, amount: 100 + i }));
      for (const r of made) await h.stripe.settleRefund(r.id, 'failed');
      const events = (await emitted(h, p.pi, mark)).filter((e) => e.type === 'refund.created' || e.type === 'refund.failed');
      expect(events).toHaveLength(8);
      // Each refund's two events race to record the row it does not have yet.
      const outcomes = await Promise.all(events.map((e) => deliverAll(h, [e])));
      expect(outcomes.flat().filter((o) => o === 'flagged')).toHaveLength(4);
      expect(outcomes.flat().filter((o) => o === 'unknown_payment')).toEqual([]);
      const outside = (await refundRows(h, p.order.id)).filter((r) => r.actor_user_id === null);
      expect(outside.map((r) => [r.amount, r.status]).sort()).toEqual([[100, 'failed'], [101, 'failed'], [102, 'failed'], [103, 'failed']]);
      expect((await atStripe(h, p.pi)).amountRefunded).toBe(1000);
      expect((await paymentRows(h, p.order.id))[0]!.refunded).toBe(1000);
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
    });
  });
}
