import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import { authorise, deliver, deliverEvent, orderRow, paymentRows, placeOrder, weigh, type Placed } from './payments.js';

/*
 * Issue 13, finding 3: refund outcomes. Before, `refund.updated`, `refund.failed` and
 * `charge.refund.updated` were answered `ignored`: a refund Stripe failed stayed `succeeded` here,
 * its amount could not be refunded again, and nobody was told. Stripe sends them with the Refund
 * object (https://docs.stripe.com/api/refunds, https://docs.stripe.com/refunds#failed-refunds); a
 * card refund can fail even after `succeeded`, with a `failure_reason`.
 *
 * The stand-in makes every refund succeed at once, so the outcomes here are Refund snapshots built
 * from what the stand-in returned (its `signedEvent(type, object)` control), signed with the real
 * scheme and POSTed like Stripe. Prices as in ./payments.ts: an estimate of 12 kg holds more than
 * 3000; weighed 10.004 kg → 2501 + 499 delivery = 3000 captured. 6 kg / 5.2 kg → 1999 captured.
 */

type Refund = Record<string, any> & { id: string; amount: number; status: string; payment_intent: string; metadata: Record<string, string> };

interface RefundRow {
  id: string;
  amount: number;
  status: string;
  stripe_refund_id: string | null;
}

const refundRows = (h: Harness, orderId: string) =>
  h.sql<RefundRow>('SELECT id::text, amount, status, stripe_refund_id FROM refunds WHERE order_id = $1 ORDER BY created_at', [orderId]);

async function stripeRefund(h: Harness, id: string): Promise<Refund> {
  return (await h.stripe.state()).refunds[id] as Refund;
}

/** The Refund Stripe made for our row (found by our metadata, as a lost answer leaves no id here). */
async function stripeRefundFor(h: Harness, rowId: string): Promise<Refund> {
  const all = Object.values((await h.stripe.state()).refunds as Record<string, Refund>);
  const found = all.find((r) => r.metadata?.refund_id === rowId);
  expect(found, `no Stripe refund for row ${rowId}`).toBeTruthy();
  return found!;
}

async function paymentNotes(h: Harness, p: Placed) {
  const res = await h.api.get(`/v1/orders/${p.order.id}`, { token: p.who.token });
  expect(res.status, res.text).toBe(200);
  return (res.body.timeline as Array<Record<string, any>>).filter((e) => e.type === 'payment');
}

async function captured(grams: number, weighed: number) {
  return async (h: Harness) => {
    const p = await placeOrder(h, { grams });
    const sheet = await authorise(h, p.who, p.order.id);
    await weigh(h, p.staff, p.order.id, weighed);
    const boss = await p.admin();
    const refund = (amount: number, reason = 'Shirt came back stained') =>
      h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount, reason }, { token: boss.token });
    return { ...p, pi: sheet.paymentIntentId, boss, refund };
  };
}

export function paymentsRefundsJourney(harness: () => Harness) {
  describe('payments: refund outcomes', () => {
    it('a refund that fails after a second partial refund: marked failed, amount refundable again, flagged, on the timeline; its three events act once', async () => {
      const h = harness();
      const p = await (await captured(12000, 10004))(h);
      expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ kind: 'hold', captured: 3000, refunded: 0 })]);
      for (const amount of [1000, 500]) {
        const res = await p.refund(amount);
        expect(res.status, res.text).toBe(201);
        expect(res.body).toMatchObject({ amount, status: 'succeeded' });
      }
      const [first, second] = await refundRows(h, p.order.id);
      expect(second).toMatchObject({ amount: 500, status: 'succeeded', stripe_refund_id: expect.stringMatching(/^re_/) });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 1500 });
      // Before any outcome, 1500 is all that is left to refund.
      expectProblem(await p.refund(1501), 422, 'refund_exceeds_captured');

      // The card's issuer returns the second refund: Stripe sends three events for it.
      const failed = { ...(await stripeRefund(h, second!.stripe_refund_id!)), status: 'failed', failure_reason: 'expired_or_canceled_card' };
      const updated = await deliver(h, 'refund.updated', failed);
      expect(updated.res.status, updated.res.text).toBe(200);
      expect(updated.res.body).toEqual({ received: true, outcome: 'flagged' });
      expect((await deliver(h, 'refund.failed', failed)).res.body.outcome).toBe('stale');
      expect((await deliver(h, 'charge.refund.updated', failed)).res.body.outcome).toBe('stale');
      expect((await deliverEvent(h, updated.event)).res.body.outcome).toBe('duplicate');

      expect(await refundRows(h, p.order.id)).toEqual([
        expect.objectContaining({ id: first!.id, status: 'succeeded' }),
        expect.objectContaining({ id: second!.id, status: 'failed', stripe_refund_id: failed.id }),
      ]);
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 3000, refunded: 1000 });
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'], flagged_reason: 'refund_failed' });
      const failures = (await paymentNotes(h, p)).filter((e) => /failed at Stripe/.test(e.note));
      expect(failures).toEqual([
        expect.objectContaining({
          note: 'Refund of 500 failed at Stripe (expired_or_canceled_card): not returned to the customer; it can be refunded again',
          actor: { role: 'system', userId: null },
          evidence: expect.objectContaining({ refund: failed.id, amount: 500, failureReason: 'expired_or_canceled_card', refundOutcome: 'failed' }),
        }),
      ]);
      const staff = await h.api.get(`/v1/staff/orders?zone=${p.order.zoneId}&flag=refund_failed`, { token: p.staff.token });
      expect(staff.status, staff.text).toBe(200);
      expect(staff.body.data).toEqual([expect.objectContaining({ id: p.order.id, flags: ['refund_failed'] })]);

      // Out of order and late: nothing undoes the failure.
      for (const status of ['pending', 'succeeded']) {
        expect((await deliver(h, 'refund.updated', { ...failed, status, failure_reason: undefined })).res.body.outcome).toBe('stale');
      }
      // Stripe's charge.refunded for the second refund (sent before it failed, total 1500) arrives late.
      const events = (await h.stripe.state()).events as Array<{ type: string; data: { object: Record<string, any> } }>;
      const staleTotal = events.find((e) => e.type === 'charge.refunded' && e.data.object.payment_intent === p.pi && e.data.object.amount_refunded === 1500);
      expect(staleTotal).toBeTruthy();
      expect((await deliverEvent(h, staleTotal!)).res.body.outcome).toBe('stale');
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
    });

    it('refund.created then refund.updated pending → succeeded records success once; a late pending changes nothing', async () => {
      const h = harness();
      const p = await (await captured(6000, 5200))(h);
      // Stripe made the refund but its answer was lost: our row is pending, without Stripe's id.
      await h.stripe.failNext({ mode: 'server_error', path: '/v1/refunds', applyThenFail: true, times: 3 });
      expectProblem(await p.refund(700, 'Lost sock'), 502, 'payment_provider_error');
      const [row] = await refundRows(h, p.order.id);
      expect(row).toMatchObject({ amount: 700, status: 'pending', stripe_refund_id: null });
      const made = await stripeRefundFor(h, row!.id);

      // refund.created (pending) is found by metadata.refund_id: it records Stripe's id, nothing else.
      expect((await deliver(h, 'refund.created', { ...made, status: 'pending' })).res.body.outcome).toBe('applied');
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'pending', stripe_refund_id: made.id });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 0 });

      const succeeded = await deliver(h, 'refund.updated', { ...made, status: 'succeeded' });
      expect(succeeded.res.body.outcome).toBe('applied');
      expect((await deliverEvent(h, succeeded.event)).res.body.outcome).toBe('duplicate');
      expect((await deliver(h, 'refund.updated', { ...made, status: 'pending' })).res.body.outcome).toBe('stale');
      expect((await deliver(h, 'charge.refund.updated', { ...made, status: 'succeeded' })).res.body.outcome).toBe('stale');

      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'succeeded', stripe_refund_id: made.id });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 700 });
      const confirmed = (await paymentNotes(h, p)).filter((e) => /confirmed by Stripe/.test(e.note));
      expect(confirmed).toEqual([expect.objectContaining({ note: 'Refund of 700 confirmed by Stripe: Lost sock', actor: { role: 'system', userId: null } })]);
      expect((await orderRow(h, p.order.id)).flags).toEqual([]);
      expectProblem(await p.refund(1300), 422, 'refund_exceeds_captured');
      expect((await p.refund(1299)).status).toBe(201);
    });

    it('a failed event for a refund whose row has no Stripe id yet is found by metadata; never below 0; refundable again', async () => {
      const h = harness();
      const p = await (await captured(6000, 5200))(h);
      await h.stripe.failNext({ mode: 'server_error', path: '/v1/refunds', applyThenFail: true, times: 3 });
      expectProblem(await p.refund(700, 'Lost sock'), 502, 'payment_provider_error');
      const [row] = await refundRows(h, p.order.id);
      const made = await stripeRefundFor(h, row!.id);
      // While pending, the 700 is reserved.
      expectProblem(await p.refund(1300), 422, 'refund_exceeds_captured');

      // Metadata naming our row on another payment's refund changes nothing.
      const other = await (await captured(6000, 5200))(h);
      const stranger = await deliver(h, 'refund.failed', { ...made, id: 're_elsewhere', payment_intent: other.pi, status: 'failed', failure_reason: 'declined' });
      expect(stranger.res.body.outcome).toBe('unknown_payment');
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'pending', stripe_refund_id: null });

      const failed = await deliver(h, 'refund.failed', { ...made, status: 'failed', failure_reason: 'lost_or_stolen_card' });
      expect(failed.res.body.outcome).toBe('flagged');
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'failed', stripe_refund_id: made.id });
      // We had not counted it (the answer was lost): the refunded total stays 0, never negative.
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ captured: 1999, refunded: 0 });
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
      expect((await paymentNotes(h, p)).map((e) => e.note)).toContain(
        'Refund of 700 failed at Stripe (lost_or_stolen_card): not returned to the customer; it can be refunded again',
      );
      // The 700 is free again (the stand-in still counts its own refund, so stay within what it has left).
      const again = await p.refund(700, 'Refund again');
      expect(again.status, again.text).toBe(201);
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [] });
    });

    it('a canceled refund is released and flagged like a failed one', async () => {
      const h = harness();
      const p = await (await captured(6000, 5200))(h);
      expect((await p.refund(400)).status).toBe(201);
      const [row] = await refundRows(h, p.order.id);
      const canceled = { ...(await stripeRefund(h, row!.stripe_refund_id!)), status: 'canceled' };
      expect((await deliver(h, 'refund.updated', canceled)).res.body.outcome).toBe('flagged');
      expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'canceled' });
      expect((await paymentRows(h, p.order.id))[0]).toMatchObject({ refunded: 0 });
      expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
      expect((await paymentNotes(h, p)).map((e) => e.note)).toContain('Refund of 400 canceled at Stripe: not returned to the customer; it can be refunded again');
      expect((await deliver(h, 'refund.failed', { ...canceled, status: 'failed' })).res.body.outcome).toBe('stale');
    });
  });
}
