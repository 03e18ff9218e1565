/**
 * Review of issue 18/19: an erased account is nobody. The admin credit grant answered 201 for an
 * erased account's id and wrote a balance and a ledger entry with the admin's free-text note onto
 * the anonymised row, after the erasure had cleared exactly those notes ("they may name the
 * customer"). It must answer 404, as for an unknown user, and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { promoWorld } from '../journeys/promo.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('granting credit to an erased account', () => {
  it('is 404 not_found with nothing written, as for an unknown user', async () => {
    const w = await promoWorld(t);
    const buyer = await w.one();
    const erased = await t.api.send('DELETE', `/v1/admin/users/${buyer.userId}`, undefined, { token: w.admin.token });
    expect(erased.status, erased.text).toBe(204);
    const body = { amount: 700, reason: 'goodwill', note: 'Sorry Ada Lovelace, 12 Acacia Avenue' };
    expectProblem(await t.api.post(`/v1/admin/users/${buyer.userId}/credit`, body, { token: w.admin.token, headers: { 'idempotency-key': `grant-${crypto.randomUUID()}` } }), 404, 'not_found');
    const [row] = await t.sql<{ balance: number; entries: number }>(
      'SELECT credit_balance AS balance, (SELECT count(*) FROM credit_entries WHERE user_id = $1)::int AS entries FROM users WHERE id = $1', [buyer.userId]);
    expect({ balance: Number(row!.balance), entries: Number(row!.entries) }).toEqual({ balance: 0, entries: 0 });
  });
});
