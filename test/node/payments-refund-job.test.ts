import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type Stripe from 'stripe';
import { settleStaleRefunds } from '../../src/modules/payments/refund.js';
import { authorise, deliverEvent, orderRow, paymentRows, placeOrder, weigh } from '../journeys/payments.js';
import { actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';

/*
 * Issue 13, finding 3, the payments job's side: a refund Stripe answered `pending` and later
 * failed, found by the job before (or without) any webhook. Before, the job released the row
 * (status failed) but left the refunded total counting it and flagged nothing. The stand-in
 * makes every refund succeed at once, so Stripe's later view is the real SDK's answer with the
 * status Stripe would give then (https://docs.stripe.com/refunds#failed-refunds): the Refund
 * `failed`, and its charge's `amount_refunded` no longer counting it.
 *
 * The job reads every pending row, so this suite has a database and a stand-in of its own.
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

describe('payments job: a pending refund that failed at Stripe', () => {
  it('is marked failed, the refunded total drops to Stripe’s, the order is flagged; a stale charge.refunded cannot bring it back', async () => {
    const p = await placeOrder(h);
    const { paymentIntentId: pi } = await authorise(h, p.who, p.order.id);
    await weigh(h, p.staff, p.order.id, 5200); // 1999 captured
    const boss = await actor(h, 'admin');
    const refund = (amount: number) => h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount, reason: 'Lost sock' }, { token: boss.token });
    expect((await refund(500)).status).toBe(201);
    // As if Stripe had answered `pending` (it does for some methods, or when the balance is short),
    // and that answer is now over 10 minutes old. Stripe's charge total counted it.
    await h.sql(`UPDATE refunds SET status = 'pending', created_at = now() - interval '11 minutes' WHERE order_id = $1`, [p.order.id]);
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 500 })]);

    const stripe = t.deps.payments!.stripe;
    const real = stripe.refunds.retrieve.bind(stripe.refunds);
    const retrieve = vi.spyOn(stripe.refunds, 'retrieve').mockImplementation((async (id: string, params?: Stripe.RefundRetrieveParams) => {
      const now = await real(id, params);
      const charge = now.charge as Stripe.Charge;
      return { ...now, status: 'failed', failure_reason: 'expired_or_canceled_card', charge: { ...charge, amount_refunded: charge.amount_refunded - now.amount } };
    }) as typeof stripe.refunds.retrieve);
    try {
      expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 1, settled: 0, released: 1 });
      expect(retrieve).toHaveBeenCalledWith(expect.stringMatching(/^re_/), { expand: ['charge'] });
    } finally {
      retrieve.mockRestore();
    }

    const [row] = await h.sql<{ status: string }>('SELECT status FROM refunds WHERE order_id = $1', [p.order.id]);
    expect(row!.status).toBe('failed');
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ captured: 1999, refunded: 0 })]);
    expect(await orderRow(h, p.order.id)).toMatchObject({ flags: ['refund_failed'] });
    const notes = await h.sql<{ note: string }>(`SELECT note FROM order_events WHERE order_id = $1 AND type = 'payment' ORDER BY id`, [p.order.id]);
    expect(notes.map((n) => n.note)).toContain('Refund of 500 failed at Stripe (expired_or_canceled_card): not returned to the customer; it can be refunded again');

    // Stripe's charge.refunded for it (sent when it was made, total 500) arrives only now.
    const events = (await h.stripe.state()).events as Array<{ type: string; data: { object: Record<string, any> } }>;
    const late = events.find((e) => e.type === 'charge.refunded' && e.data.object.payment_intent === pi);
    expect((await deliverEvent(h, late!)).res.body.outcome).toBe('stale');
    expect(await paymentRows(h, p.order.id)).toEqual([expect.objectContaining({ refunded: 0 })]);
    expect(await settleStaleRefunds(t.deps)).toEqual({ checked: 0, settled: 0, released: 0 });
  });
});

/*
 * Stripe can answer a refund with `failed` (or `canceled`) at once. The response says `failed`,
 * and the refund is recorded like a later failure. Node only: the answer is the real SDK's, with
 * the status Stripe would give, since the stand-in makes every refund succeed.
 */
describe('refund answered failed', () => {
  it('answers status failed, releases the amount and flags the order', async () => {
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    await weigh(h, p.staff, p.order.id, 5200); // 1999 captured
    const boss = await actor(h, 'admin');
    const refund = (amount: number) => h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount, reason: 'Lost sock' }, { token: boss.token });

    const stripe = t.deps.payments!.stripe;
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
