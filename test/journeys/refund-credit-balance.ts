import { describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import { captured } from './refund-steps.js';

/*
 * A refund to account credit (issue 19) in the order's balance and in the customer's message,
 * through the API on either runtime (migration 0027): the balance shows it as `refundedToCredit`
 * beside the card's `refunded`, in the customer's and the staff's view of the order and in the
 * `order_balances` view, and `outstanding` does not move (money given back is not owed); the
 * `refund_issued` message says the money went to the account credit, a card refund's does not.
 * The refund itself (lock, idempotency, shared captured total): test/node/refund-credit.test.ts.
 * Prices as in ./payments.ts: 6 kg held, weighed 5.2 kg → 1999 captured.
 */
export function refundCreditBalanceJourney(harness: () => Harness) {
  describe('refund to credit: the order balance and the message', () => {
    it('shows as refundedToCredit in both views of the order and in order_balances, outstanding unchanged; the message names the credit', async () => {
      const h = harness();
      const p = await captured(h, 'pm_card_visa', 6000, 5200);
      const balanceAs = async (path: string, token: string) => {
        const res = await h.api.get(path, { token });
        expect(res.status, res.text).toBe(200);
        return res.body.balance as Record<string, number>;
      };
      const views = async () => [await balanceAs(`/v1/orders/${p.order.id}`, p.who.token), await balanceAs(`/v1/staff/orders/${p.order.id}`, p.staff.token)];
      const before = await balanceAs(`/v1/orders/${p.order.id}`, p.who.token);
      expect(before).toMatchObject({ paid: 1999, refunded: 0, refundedToCredit: 0, outstanding: 0 });

      const credit = await h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount: 500, reason: 'Shirt came back stained', destination: 'credit' }, {
        token: p.boss.token,
        headers: { 'idempotency-key': `rtc-${crypto.randomUUID()}` },
      });
      expect(credit.status, credit.text).toBe(201);
      expect(await views()).toEqual([
        { ...before, refundedToCredit: 500 },
        { ...before, refundedToCredit: 500 },
      ]);
      const card = await p.refund(200);
      expect(card.status, card.text).toBe(201);
      const after = { ...before, refunded: 200, refundedToCredit: 500 };
      expect(await views()).toEqual([after, after]);
      const [view] = await h.sql<{ refunded: number; refunded_to_credit: number; outstanding: number; paid: number }>(
        'SELECT paid, refunded, refunded_to_credit, outstanding FROM order_balances WHERE order_id = $1',
        [p.order.id],
      );
      expect(Object.fromEntries(Object.entries(view!).map(([k, v]) => [k, Number(v)]))).toEqual({ paid: 1999, refunded: 200, refunded_to_credit: 500, outstanding: before.outstanding });

      // The outbox row carries where the money went (the trigger of migration 0027), and the inbox says it.
      const told = await h.sql<{ data: { amount: number; destination?: string } }>(
        `SELECT data FROM notification_outbox WHERE order_id = $1 AND type = 'refund_issued' ORDER BY id`,
        [p.order.id],
      );
      expect(told.map((r) => [r.data.amount, r.data.destination ?? null])).toEqual([
        [500, 'credit'],
        [200, null],
      ]);
      const inbox = await h.api.get('/v1/me/notifications', { token: p.who.token });
      expect(inbox.status, inbox.text).toBe(200);
      const refunds = (inbox.body.data as { type: string; title: string; body: string }[]).filter((n) => n.type === 'refund_issued');
      expect(refunds.map((n) => n.title)).toEqual(['Refund issued', 'Refund added to your credit']);
      expect(refunds[1]!.body).toMatch(/added to your account credit, not your card\.$/);
      expect(refunds[0]!.body).not.toMatch(/credit/);
    });
  });
}
