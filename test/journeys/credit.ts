/**
 * Account credit (issue 19) spent by parallel orders, through the API on either runtime: the
 * guarded balance UPDATE in the order's one statement (src/modules/orders/redeem.ts) must hold
 * on PostgreSQL (test/node/credit.test.ts) and over the neon-http driver in the Worker
 * (test/workers/credit.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import { promoWorld } from './promo.js';

/** The balance column and the ledger's sum, which must always agree. */
export async function creditLedger(h: Harness, userId: string) {
  const [row] = await h.sql<{ balance: number; sum: number; entries: number }>(
    `SELECT (SELECT credit_balance FROM users WHERE id = $1) AS balance, (SELECT coalesce(sum(amount), 0) FROM credit_entries WHERE user_id = $1)::int AS sum,
            (SELECT count(*) FROM credit_entries WHERE user_id = $1)::int AS entries`,
    [userId],
  );
  return { balance: Number(row!.balance), sum: Number(row!.sum), entries: Number(row!.entries) };
}

export function creditRaceJourney(harness: () => Harness) {
  describe('credit spent by parallel orders (issue 19)', () => {
    it('balance 1000, 20 parallel orders each able to use 1000: exactly 1000 spent, never negative, the ledger sums to the balance', async () => {
      const h = harness();
      const w = await promoWorld(h);
      const buyer = await w.one();
      const granted = await h.api.post(`/v1/admin/users/${buyer.userId}/credit`, { amount: 1000, reason: 'goodwill', note: 'Race' }, {
        token: w.admin.token,
        headers: { 'idempotency-key': `grant-${crypto.randomUUID()}` },
      });
      expect(granted.status, granted.text).toBe(201);
      const results = await Promise.all(Array.from({ length: 20 }, () => w.order(buyer, { useCredit: true })));
      // An order that lost the balance to another is planned again on the new balance (none left:
      // placed without credit), or after its retries answers 409 `conflict`; never a 5xx.
      for (const r of results) expect([201, 409], r.text).toContain(r.status);
      for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('conflict');
      const placed = results.filter((r) => r.status === 201);
      const spent = placed.reduce((sum, r) => sum + (r.body.estimate.creditApplied ?? 0), 0);
      expect(spent).toBe(1000);
      for (const r of placed) expect(r.body.estimate.total).toBe(1999 - (r.body.estimate.creditApplied ?? 0));
      const l = await creditLedger(h, buyer.userId);
      expect(l).toMatchObject({ balance: 0, sum: 0 });
      // One grant plus one `order_applied` entry per order that spent credit, each for what that order says.
      expect(l.entries).toBe(1 + placed.filter((r) => (r.body.estimate.creditApplied ?? 0) > 0).length);
      const [db] = await h.sql<{ applied: number; negative: number }>(
        `SELECT coalesce(sum(credit_applied), 0)::int AS applied,
                (SELECT count(*) FROM users WHERE id = $1 AND credit_balance < 0)::int AS negative
         FROM orders WHERE user_id = $1`,
        [buyer.userId],
      );
      expect({ applied: Number(db!.applied), negative: Number(db!.negative) }).toEqual({ applied: 1000, negative: 0 });
    });
  });
}
