/**
 * Refund to account credit (issue 19): POST /v1/staff/orders/{id}/refunds with
 * `destination: "credit"` on the PostgreSQL server. No Stripe call; the credit and the card refunds
 * count against one captured total under the order's lock, so card and credit refunds racing never
 * exceed what was paid; a replay adds nothing; bad amounts write nothing. Card refunds alone:
 * test/journeys/payments-refunds.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from '../../src/db/client.js';
import { settleCancelledOrder } from '../../src/modules/payments/settle-cancelled.js';
import { expectProblem } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { creditLedger } from '../journeys/credit.js';
import { deliver, stripeIntent } from '../journeys/payments.js';
import { atStripe, captured, refundRows } from '../journeys/refund-steps.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

type Captured = Awaited<ReturnType<typeof captured>>;

/** A refund to credit through the API, as the order's admin. */
function toCredit(p: Captured, body: Record<string, unknown>, key: string | null = `rtc-${crypto.randomUUID()}`, token = p.boss.token) {
  return t.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { reason: 'Shirt came back stained', destination: 'credit', ...body }, {
    token,
    headers: key === null ? {} : { 'idempotency-key': key },
  });
}

/** What was given back on the order: card refund rows that hold money, and credit entries naming it. */
async function givenBack(orderId: string) {
  const [row] = await t.sql<{ card: number; credit: number; entries: number }>(
    `SELECT (SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = $1 AND status IN ('pending', 'succeeded'))::int AS card,
            (SELECT coalesce(sum(amount), 0) FROM credit_entries WHERE order_id = $1 AND reason = 'refund_to_credit')::int AS credit,
            (SELECT count(*) FROM credit_entries WHERE order_id = $1)::int AS entries`,
    [orderId],
  );
  return { card: Number(row!.card), credit: Number(row!.credit), entries: Number(row!.entries) };
}

describe('refund to credit', () => {
  it('credits the customer with an entry naming the order; a replay adds nothing; card and credit share one total; bad input writes nothing', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200); // 1999 captured
    const stripeCalls = (await t.stripe.requests()).length;
    const key = `rtc-${crypto.randomUUID()}`;
    const first = await toCredit(p, { amount: 500 }, key);
    expect(first.status, first.text).toBe(201);
    expect(first.body).toEqual({ refundId: expect.any(String), amount: 500, status: 'succeeded', destination: 'credit' });
    expect((await t.stripe.requests()).length).toBe(stripeCalls);
    expect(await creditLedger(t, p.who.userId)).toEqual({ balance: 500, sum: 500, entries: 1 });

    // The same key and body: the first answer, nothing added. Another body with the key: 422.
    const again = await toCredit(p, { amount: 500 }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expectProblem(await toCredit(p, { amount: 600 }, key), 422, 'idempotency_key_reused');
    expectProblem(await toCredit(p, { amount: 100 }, null), 400, 'idempotency_key_missing');
    expectProblem(await toCredit(p, { amount: 100 }, 'x'), 400, 'idempotency_key_invalid');
    // Too long is malformed like any other bad key (README; as on POST /v1/orders), not a 422 from the header schema.
    expectProblem(await toCredit(p, { amount: 100 }, 'k'.repeat(256)), 400, 'idempotency_key_invalid');
    expectProblem(await toCredit(p, { amount: 100 }, 'k'.repeat(4000)), 400, 'idempotency_key_invalid');
    for (const bad of [{ amount: 0 }, { amount: -100 }, { amount: 1.5 }, { amount: '100' }, { amount: 100, destination: 'cash' }, { amount: 100, reason: '' }]) {
      expectProblem(await toCredit(p, bad), 422, 'validation_failed');
    }
    expectProblem(await t.api.post(`/v1/staff/orders/${crypto.randomUUID()}/refunds`, { amount: 100, reason: 'Nobody', destination: 'credit' }, {
      token: p.boss.token, headers: { 'idempotency-key': `rtc-${crypto.randomUUID()}` },
    }), 404, 'not_found');
    expectProblem(await toCredit(p, { amount: 100 }, undefined, p.staff.token), 403, 'forbidden');
    expect(await creditLedger(t, p.who.userId)).toEqual({ balance: 500, sum: 500, entries: 1 });

    // A card refund counts what went to credit: 1999 − 500 credited − 1000 card = 499 left, for either.
    expect((await p.refund(1000)).body).toMatchObject({ amount: 1000, status: 'succeeded', destination: 'card' });
    expectProblem(await toCredit(p, { amount: 500 }), 422, 'refund_exceeds_captured');
    expectProblem(await p.refund(500), 422, 'refund_exceeds_captured');
    expect(await givenBack(p.order.id)).toEqual({ card: 1000, credit: 500, entries: 1 });
    expect((await toCredit(p, { amount: 499 })).status).toBe(201);
    expectProblem(await p.refund(1), 422, 'refund_exceeds_captured');
    expectProblem(await toCredit(p, { amount: 1 }), 422, 'refund_exceeds_captured');
    expect(await givenBack(p.order.id)).toEqual({ card: 1000, credit: 999, entries: 2 });
    expect(await creditLedger(t, p.who.userId)).toEqual({ balance: 999, sum: 999, entries: 2 });

    // Where the customer sees it: the credit history names the order, the timeline says so, the export has both.
    const mine = await t.api.get('/v1/me/credit', { token: p.who.token });
    expect(mine.body.entries.map((e: { amount: number; reason: string; orderId: string; note: string }) => [e.amount, e.reason, e.orderId, e.note])).toEqual([
      [499, 'refund_to_credit', p.order.id, 'Shirt came back stained'],
      [500, 'refund_to_credit', p.order.id, 'Shirt came back stained'],
    ]);
    const notes = (await p.notes()).map((e) => e.note);
    expect(notes).toEqual(expect.arrayContaining(['Refunded 500 to account credit: Shirt came back stained', 'Refunded 499 to account credit: Shirt came back stained']));
    const [entry] = await t.sql<{ actor: string }>(`SELECT actor_user_id::text AS actor FROM credit_entries WHERE id = $1`, [first.body.refundId]);
    expect(entry!.actor).toBe(p.boss.userId);
    const exported = await t.api.get('/v1/me/export', { token: p.who.token });
    expect(exported.status, exported.text).toBe(200);
    expect(exported.body.credit.entries).toEqual(expect.arrayContaining([expect.objectContaining({ amount: 500, reason: 'refund_to_credit', orderId: p.order.id })]));
  });

  it('card and credit refunds racing (10 of each, 300 apiece, 1999 captured): exactly 6 pass, never more than was paid', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200); // 1999 captured
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? toCredit(p, { amount: 300 }) : p.refund(300))),
    );
    for (const r of results) expect([201, 422], r.text).toContain(r.status);
    for (const r of results.filter((x) => x.status === 422)) expect(r.body.code).toBe('refund_exceeds_captured');
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(6);
    const byCard = won.filter((r) => r.body.destination === 'card').length;
    const given = await givenBack(p.order.id);
    expect(given.card + given.credit).toBe(1800);
    expect(given).toMatchObject({ card: byCard * 300, credit: (6 - byCard) * 300 });
    expect(await creditLedger(t, p.who.userId)).toMatchObject({ balance: given.credit, sum: given.credit });
    expect((await atStripe(t, p.pi)).amountRefunded).toBe(given.card);
    expect((await refundRows(t, p.order.id)).filter((r) => r.status === 'succeeded')).toHaveLength(byCard);
  });

  it('a staff cancellation after capture refunds to the card only what was not already given back as credit', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200); // 1999 captured
    expect((await toCredit(p, { amount: 700 })).status).toBe(201);
    const cancelled = await t.api.post(`/v1/staff/orders/${p.order.id}/transitions`, { to: 'cancelled', note: 'Machine ate the socks' }, { token: p.staff.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect((await atStripe(t, p.pi)).amountRefunded).toBe(1299);
    expect(await givenBack(p.order.id)).toEqual({ card: 1299, credit: 700, entries: 1 });
    // The credit stays the customer's: the order held no credit of theirs to give back.
    expect(await creditLedger(t, p.who.userId)).toEqual({ balance: 700, sum: 700, entries: 1 });
  });

  it('a refund an admin makes while a cancellation settles leaves less to refund: the cancellation refunds to the card what is left, never more', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200); // 1999 captured
    // The admin's refund to credit lands between the cancellation's read of what is refundable
    // (outside the lock) and its locked reservation.
    const dialect = new PgDialect();
    let injected = false;
    const inner = t.deps.database;
    const database: Database = {
      ...inner,
      rows: (async (schema: never, query: SQL) => {
        const result = await inner.rows(schema, query);
        if (!injected && dialect.sqlToQuery(query).sql.includes('AS refundable')) {
          injected = true;
          expect((await toCredit(p, { amount: 400 })).status).toBe(201);
        }
        return result;
      }) as Database['rows'],
    };
    await settleCancelledOrder({ ...t.deps, database }, p.order.id, p.staff.userId);
    expect(injected).toBe(true);
    expect((await atStripe(t, p.pi)).amountRefunded).toBe(1599);
    expect(await givenBack(p.order.id)).toEqual({ card: 1599, credit: 400, entries: 1 });
  });

  it('the customer is told of a refund to credit as of a card refund (refund_issued, mandatory), once: a replay tells nothing more', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200);
    const told = async () =>
      (await t.sql<{ type: string; amount: number; currency: string }>(
        `SELECT type::text, (data->>'amount')::int AS amount, data->>'currency' AS currency FROM notification_outbox
         WHERE order_id = $1 AND type = 'refund_issued' ORDER BY id`,
        [p.order.id],
      )).map((r) => ({ ...r, amount: Number(r.amount) }));
    expect((await p.refund(200)).status).toBe(201);
    expect(await told()).toEqual([{ type: 'refund_issued', amount: 200, currency: expect.any(String) }]);
    const key = `rtc-${crypto.randomUUID()}`;
    expect((await toCredit(p, { amount: 300 }, key)).status).toBe(201);
    expect((await toCredit(p, { amount: 300 }, key)).headers.get('idempotent-replayed')).toBe('true');
    expectProblem(await toCredit(p, { amount: 5000 }), 422, 'refund_exceeds_captured');
    expect(await told()).toEqual([
      { type: 'refund_issued', amount: 200, currency: expect.any(String) },
      { type: 'refund_issued', amount: 300, currency: expect.any(String) },
    ]);
  });

  it('a disputed charge is not refunded again as credit (the chargeback gives it back; Stripe refuses a card refund of it): 409, nothing written', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200);
    const charge = (await stripeIntent(t, p.pi)).intent.latest_charge as string;
    await t.stripe.dispute(charge);
    expect((await deliver(t, 'charge.dispute.created', charge)).res.body.outcome).toBe('flagged');
    const key = `rtc-${crypto.randomUUID()}`;
    expectProblem(await toCredit(p, { amount: 500 }, key), 409, 'conflict');
    expect(await givenBack(p.order.id)).toEqual({ card: 0, credit: 0, entries: 0 });
    expect(await creditLedger(t, p.who.userId)).toEqual({ balance: 0, sum: 0, entries: 0 });
    const [kept] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1`, [key]);
    expect(Number(kept!.n)).toBe(0);
  });

  it('an erased customer has no balance to credit: 409, nothing written', async () => {
    const p = await captured(t, 'pm_card_visa', 6000, 5200);
    await t.sql(`UPDATE users SET erased_at = now() WHERE id = $1`, [p.who.userId]);
    expectProblem(await toCredit(p, { amount: 100 }), 409, 'conflict');
    expect(await givenBack(p.order.id)).toEqual({ card: 0, credit: 0, entries: 0 });
  });
});
