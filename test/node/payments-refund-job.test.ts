import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type Stripe from 'stripe';
import { settleStaleRefunds } from '../../src/modules/payments/refund.js';
import { atStripe, captured, deliverAll, emitted, refundRows } from '../journeys/refund-steps.js';
import { authorise, orderRow, paymentRows, placeOrder, weigh } from '../journeys/payments.js';
import { actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';

/*
 * Issue 13, finding 3, the payments job's side: a refund Stripe answered `pending` and later
 * failed (or succeeded), found by the job before (or without) any webhook. Before, the job
 * released the row (status failed) but left the refunded total counting it and flagged nothing.
 * End to end: the customer pays with Stripe's `pm_card_pendingRefund` test card, so the refund is
 * answered `pending`; the stand-in then settles it (https://docs.stripe.com/testing#refunds), and
 * the job reads Stripe's real answer (the Refund `failed`, its charge's `amount_refunded` no
 * longer counting it: https://docs.stripe.com/refunds#failed-refunds).
 *
 * The job reads every pending row, so this suite has a database and a stand-in of its own. A row
 * is "stale" 10 minutes after it was asked for: its created_at is moved back, nothing else.
 */
let t: TestApp;
let h: Harness;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ t, h, close } = await isolatedApp('laundry_test_refund_job'));
});
afterAll(async () => {
  await close?.();
});

const makeStale = (orderId: string) => h.sql(`UPDATE refunds SET created_at = now() - interval '11 minutes' WHERE order_id = $1`, [orderId]);
const retrieves = async (id: string) => (await h.stripe.requests()).filter((r) => r.method === 'GET' && r.path === `/v1/refunds/${id}`).length;

describe('payments job: a pending refund', () => {
  it('that failed at Stripe is marked failed, the refunded total drops to Stripe’s, the order is flagged; late events cannot bring it back', async () => {
    const p = await captured(h, 'pm_card_pendingRefund', 6000, 5200); // 1999 captured
    const res = await p.refund(500, 'Lost sock');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amount: 500, status: 'pending' });
    const [row] = await refundRows(h, p.order.id);
    expect(row).toMatchObject({ status: 'pending', stripe_refund_id: expect.stringMatching(/^re_/) });
    // Stripe's charge total counts the pending refund, and so does ours.
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 500 })]);
    expect((await atStripe(h, p.pi)).amountRefunded).toBe(500);
    await makeStale(p.order.id);

    // The issuer fails it; no webhook reaches us (yet).
    const mark = (await emitted(h, p.pi)).length;
    await h.stripe.settleRefund(row!.stripe_refund_id!, 'failed');
    expect((await atStripe(h, p.pi)).amountRefunded).toBe(0);
    expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 1, settled: 0, released: 1 });
    expect(await retrieves(row!.stripe_refund_id!)).toBe(1);

    expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'failed' });
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 0 })]);
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
    const notes = await h.sql<{ note: string }>(`SELECT note FROM order_events WHERE order_id = $1 AND type = 'payment' ORDER BY id`, [p.order.id]);
    expect(notes.map((n) => n.note)).toContain('Refund of 500 failed at Stripe (expired_or_canceled_card): not returned to the customer; it can be refunded again');

    // Stripe's events arrive only now: the failure's three (already recorded), then the
    // charge.refunded sent when the refund was made (total 500), then its refund.created.
    const failure = await emitted(h, p.pi, mark);
    expect(failure.map((e) => e.type)).toEqual(['refund.updated', 'charge.refund.updated', 'refund.failed']);
    expect(await deliverAll(h, failure)).toEqual(['stale', 'stale', 'stale']);
    const made = (await emitted(h, p.pi)).slice(0, mark).filter((e) => e.type === 'charge.refunded' || e.type === 'refund.created');
    expect(await deliverAll(h, [...made].reverse())).toEqual(['stale', 'stale']);
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ refunded: 0 })]);
    expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 0, settled: 0, released: 0 });
  });

  it('still pending at Stripe is kept; once Stripe says succeeded it is recorded, once', async () => {
    const p = await captured(h, 'pm_card_pendingRefund', 6000, 5200);
    expect((await p.refund(300, 'Lost sock')).body).toMatchObject({ status: 'pending' });
    const [row] = await refundRows(h, p.order.id);
    await makeStale(p.order.id);
    expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 1, settled: 0, released: 0 });
    expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'pending' });

    await h.stripe.settleRefund(row!.stripe_refund_id!, 'succeeded');
    expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 1, settled: 1, released: 0 });
    expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 0, settled: 0, released: 0 });
    expect((await refundRows(h, p.order.id))[0]).toMatchObject({ status: 'succeeded' });
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 300 })]);
    expect((await atStripe(h, p.pi)).amountRefunded).toBe(300);
    const notes = await h.sql<{ note: string }>(`SELECT note FROM order_events WHERE order_id = $1 AND type = 'payment' ORDER BY id`, [p.order.id]);
    expect(notes.filter((n) => /^Refunded 300/.test(n.note)).map((n) => n.note)).toEqual(['Refunded 300: Lost sock (confirmed with Stripe later)']);
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [] });
  });
});

/*
 * Stripe can answer a refund with `failed` (or `canceled`) at once. The response says `failed`,
 * and the refund is recorded like a later failure. Node only, and the one place a spy stays: no
 * Stripe test card makes a refund that is `failed` in the answer to refunds.create (pm_card_refundFail
 * begins `succeeded`, pm_card_pendingRefund `pending`: https://docs.stripe.com/testing#refunds), so
 * the stand-in, which must not invent behaviour Stripe's test mode lacks, cannot produce it. The
 * answer is the real SDK's, from the stand-in, with the status and charge total Stripe would give.
 */
describe('refund answered failed', () => {
  it('answers status failed, releases the amount and flags the order', async () => {
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    await weigh(h, p.staff, p.order.id, 5200); // 1999 captured
    const boss = await actor(h, 'admin');
    const refund = (amount: number) => h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount, reason: 'Lost sock' }, { token: boss.token });

    const stripe = await t.deps.payments!.client();
    const real = stripe.refunds.create.bind(stripe.refunds);
    const create = vi.spyOn(stripe.refunds, 'create').mockImplementation((async (params: Stripe.RefundCreateParams, options?: Stripe.RequestOptions) => {
      const made = await real(params, options);
      const charge = made.charge as Stripe.Charge;
      return { ...made, status: 'failed', failure_reason: 'declined', charge: { ...charge, amount_refunded: charge.amount_refunded - made.amount } };
    }) as typeof stripe.refunds.create);
    let res;
    try {
      res = await refund(600);
    } finally {
      create.mockRestore();
    }
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amount: 600, status: 'failed' });
    const rows = await h.sql<{ status: string }>('SELECT status FROM refunds WHERE order_id = $1', [p.order.id]);
    expect(rows.map((r) => r.status)).toEqual(['failed']);
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 0 })]);
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
    // Refundable again (within what the stand-in, which made it, has left), and that clears the flag.
    const again = await refund(600);
    expect(again.status, again.text).toBe(201);
    expect(again.body.status).toBe('succeeded');
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: [] });
  });
});
