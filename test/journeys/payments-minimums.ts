import { describe, expect, it } from 'vitest';
import type { MemoryMetrics } from '../../src/metrics/memory.js';
import type { Harness } from '../support/harness.js';
import { authorise, HOLD, orderRow, paymentRows, placeOrder, stripeRequests, weigh } from './payments.js';

/*
 * Issue 13, finding 2: Stripe refuses a charge below the currency's minimum (USD 0.50) with
 * `amount_too_small` (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
 * Before, a 10-cent overage made every capture retry answer 502 "safe to retry", forever, with
 * nothing recorded and no flag. Now it is waived: recorded once, answered `waived` every time.
 * Prices as in ./payments.ts: hold 2399; weighed 7.64 kg → 1910 + 499 delivery = 2409.
 */
export function paymentsMinimumsJourney(harness: () => Harness) {
  describe('payments: Stripe minimum charge', () => {
    it('an overage below the minimum charge is waived once and recorded; retries answer waived; nothing goes to Stripe; no flag', async () => {
      const { h, who, staff, order } = await placeOrder(harness(), { grams: 6000 });
      // On Node the app records metrics in memory (test/support/node-app.ts); workerd's are not reachable here.
      const metrics = (h as Harness & { metrics?: Partial<MemoryMetrics> }).metrics;
      const waivedCount = () => metrics?.count?.('payment', { operation: 'capture', outcome: 'waived' }) ?? 0;
      const waivedBefore = waivedCount();
      const sheet = await authorise(h, who, order.id);
      expect(sheet.amount).toBe(HOLD);
      const weighed = await weigh(h, staff, order.id, 7640);
      expect(weighed.final.total).toBe(2409);

      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await h.api.post(`/v1/staff/orders/${order.id}/capture`, undefined, { token: staff.token });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({ kind: 'already_captured', captured: HOLD, overage: 'waived' });
      }

      if (metrics?.count) expect(waivedCount() - waivedBefore).toBe(1);
      expect(await paymentRows(h, order.id)).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'succeeded', captured: HOLD }),
        expect.objectContaining({ kind: 'overage', method: 'card', status: 'waived', pi: null, amount: 10, captured: 0 }),
      ]);
      const overageCreates = (await stripeRequests(h, 'POST', '/v1/payment_intents')).filter(
        (r) => r.form.metadata?.order_id === order.id && r.form.metadata?.kind === 'overage',
      );
      expect(overageCreates).toHaveLength(0);
      expect(await orderRow(h, order.id)).toMatchObject({ flags: [], flagged_reason: null, approval_required: false });

      const read = await h.api.get(`/v1/orders/${order.id}`, { token: who.token });
      const waivers = (read.body.timeline as Array<Record<string, any>>).filter((e) => e.type === 'payment' && /waived/.test(e.note));
      expect(waivers).toEqual([
        expect.objectContaining({
          note: "Overage of 10 USD waived: below Stripe's minimum charge of 50 USD",
          evidence: { waived: 10, minimumCharge: 50, reason: 'below_minimum_charge' },
          actor: { role: 'system', userId: null },
        }),
      ]);
    });
  });
}
