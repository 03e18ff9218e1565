import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import type { Database } from '../../src/db/client.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { createAnalyticsEngineMetrics } from '../../src/metrics/analytics-engine.js';
import type { MemoryMetrics } from '../../src/metrics/memory.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { runPaymentJobs } from '../../src/modules/payments/jobs.js';
import { measureOutstandingBalances } from '../../src/modules/payments/outstanding.js';
import { authorise, lapseHold, moveTo, orderRow, placeOrder, weigh } from '../journeys/payments.js';
import { prepare, recreateServerDatabase } from '../setup/databases.js';
import { expectProblem } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { stripeControl } from '../support/stripe.js';

/*
 * Issue 13: the admin's waiver under concurrency, and the payments job's outstanding-balance
 * report and gauges. The job and the gauges read every order, so this file has a database and a
 * Stripe stand-in of its own (as test/node/payments-job.test.ts does): counts are exact.
 */
async function ownDatabase(): Promise<Database> {
  const server = process.env.TEST_DATABASE_URL;
  if (inject('nodeDatabaseUrl') && server) {
    return createPostgresDatabase(await recreateServerDatabase(server, 'laundry_test_outstanding'), { max: 20 });
  }
  const database = await createPgliteDatabase('memory://');
  await prepare(database);
  return database;
}

let t: TestApp;
let h: Harness;
let standIn: StripeStandIn;
beforeAll(async () => {
  standIn = await startStripeStandIn();
  t = await createTestApp({ database: await ownDatabase(), env: { STRIPE_API_URL: standIn.url } });
  h = { ...t, stripe: stripeControl(standIn.url) };
});
afterAll(async () => {
  await t?.close();
  await standIn?.close();
});

/** A weighed pay-on-delivery order: 2499 due at the door, nothing paid, so 2499 outstanding. */
async function weighedOnDelivery() {
  const placed = await placeOrder(h, { paymentMethod: 'on_delivery' });
  const weighed = await weigh(h, placed.staff, placed.order.id, 8000);
  expect(weighed.balance).toMatchObject({ due: 2499, paid: 0, outstanding: 2499 });
  return placed;
}

/** A card order whose hold Stripe cancelled before the weigh-in, and whose saved card declines: 2499 outstanding, flagged. */
async function lostHold() {
  const placed = await placeOrder(h);
  const { paymentIntentId: pi } = await authorise(h, placed.who, placed.order.id);
  expect((await lapseHold(h, pi)).res.body.outcome).toBe('applied');
  // The saved card declines the off-session charge of the balance, so it stays outstanding.
  await h.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents' });
  const weighed = await weigh(h, placed.staff, placed.order.id, 8000);
  expect(weighed.flags).toContain('payment_outstanding');
  return placed;
}

describe('waiving a balance', () => {
  it('racing waivers never waive more than is outstanding (the amount is checked under the order lock)', async () => {
    const { order, admin } = await weighedOnDelivery();
    const boss = await admin();
    const waive = (body: Record<string, unknown>) => h.api.post(`/v1/staff/orders/${order.id}/waive-balance`, body, { token: boss.token });

    // 2499 outstanding; ten admins each waive 1000 at once: two fit, eight are refused.
    const parts = await Promise.all(Array.from({ length: 10 }, (_, i) => waive({ reason: `part ${i}`, amount: 1000 })));
    expect(parts.map((r) => r.status).sort()).toEqual([200, 200, ...Array(8).fill(422)]);
    for (const r of parts.filter((p) => p.status === 422)) expectProblem(r, 422, 'waiver_exceeds_outstanding');

    // Then five "the rest" at once: exactly one waives the 499 left, the others find nothing.
    const rest = await Promise.all(Array.from({ length: 5 }, () => waive({ reason: 'the rest' })));
    expect(rest.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const rows = await h.sql<{ amount: number }>(`SELECT amount FROM balance_waivers WHERE order_id = $1`, [order.id]);
    expect(rows.map((r) => r.amount).sort((a, b) => a - b)).toEqual([499, 1000, 1000]);
    const read = await h.api.get(`/v1/staff/orders/${order.id}`, { token: boss.token });
    expect(read.body.balance).toMatchObject({ due: 2499, waived: 2499, outstanding: 0 });
    expect((read.body.timeline as Array<{ evidence: { waiverId?: string } | null }>).filter((e) => e.evidence?.waiverId)).toHaveLength(3);
  });

  it('answers 404 for an unknown order, 409 before the weigh-in, and writes nothing', async () => {
    const boss = await (await placeOrder(h)).admin();
    const unknown = await h.api.post(`/v1/staff/orders/${crypto.randomUUID()}/waive-balance`, { reason: 'x' }, { token: boss.token });
    expectProblem(unknown, 404, 'not_found');
    const { order } = await placeOrder(h);
    const early = await h.api.post(`/v1/staff/orders/${order.id}/waive-balance`, { reason: 'x' }, { token: boss.token });
    expect(expectProblem(early, 409, 'nothing_outstanding').details).toEqual({ outstanding: 0, currency: 'USD' });
    expect(await h.sql(`SELECT 1 FROM balance_waivers WHERE order_id = $1`, [order.id])).toEqual([]);
  });
});

describe('payments job: outstanding balances', () => {
  it('reports card orders delivered or out for delivery with a balance, re-raises a lost flag, and measures the gauges', async () => {
    const ready = await lostHold();
    await moveTo(h, ready.staff, ready.order.id, 'ready');
    const delivered = await lostHold();
    // Delivered unpaid, as an order could be before the out_for_delivery guard; its flag lost too.
    await h.sql(`UPDATE orders SET status = 'delivered', flags = '{}', flagged_reason = NULL WHERE id = $1`, [delivered.order.id]);

    const metrics = t.metrics as MemoryMetrics;
    const before = metrics.count('outstanding_balances');
    const report = await runPaymentJobs(t.deps);
    expect(report.outstanding).toEqual([{ orderId: delivered.order.id, status: 'delivered', outstanding: 2499, currency: 'USD' }]);
    expect(report.outstandingError).toBeUndefined();
    expect((await orderRow(h, delivered.order.id)).flags).toEqual(['payment_outstanding']);
    expect(metrics.count('outstanding_balances')).toBe(before + 1);
    const measured = metrics.events.filter((e) => e.name === 'outstanding_balances').at(-1)!;
    expect(measured).toEqual({
      name: 'outstanding_balances',
      orders: expect.arrayContaining([{ status: 'ready', count: 1 }, { status: 'delivered', count: 1 }]),
      amounts: [{ currency: 'USD', amount: 4998 }],
    });

    // Node's /metrics reads the same figures at scrape time (the job runs in an unscraped CronJob).
    const prom = createPrometheusMetrics({ version: 'test', defaultMetrics: false });
    prom.measureOutstandingOnScrape(() => measureOutstandingBalances(t.deps));
    const { body } = await prom.scrape();
    expect(body).toContain('payments_outstanding_total{status="delivered"} 1');
    expect(body).toContain('payments_outstanding_total{status="ready"} 1');
    expect(body).toContain('payments_outstanding_total{status="out_for_delivery"} 0');
    expect(body).toContain('payments_outstanding_amount{currency="USD"} 4998');

    // Workers write the same reading to Analytics Engine, one point per status and currency.
    const points: Array<{ blobs?: (string | null)[]; doubles?: number[] }> = [];
    createAnalyticsEngineMetrics({ writeDataPoint: (p) => void points.push(p) }, 'v1').outstandingBalances(measured);
    expect(points).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ blobs: ['payments_outstanding', 'delivered'], doubles: [1] }),
        expect.objectContaining({ blobs: ['payments_outstanding_amount', 'USD'], doubles: [4998] }),
      ]),
    );

    // The admin waives the delivered one: the next run neither reports nor counts it.
    const boss = await delivered.admin();
    const waived = await h.api.post(`/v1/staff/orders/${delivered.order.id}/waive-balance`, { reason: 'Delivered before the guard' }, { token: boss.token });
    expect(waived.status, waived.text).toBe(200);
    const after = await runPaymentJobs(t.deps);
    expect(after.outstanding).toEqual([]);
    expect(await measureOutstandingBalances(t.deps)).toEqual({ orders: [{ status: 'ready', count: 1 }], amounts: [{ currency: 'USD', amount: 2499 }] });
  });

  it('a scrape whose measure fails keeps the last values and still answers', async () => {
    const prom = createPrometheusMetrics({ version: 'test', defaultMetrics: false });
    prom.outstandingBalances({ orders: [{ status: 'delivered', count: 2 }], amounts: [{ currency: 'JPY', amount: 5000 }] });
    prom.measureOutstandingOnScrape(() => Promise.reject(new Error('database down')));
    const { body } = await prom.scrape();
    expect(body).toContain('payments_outstanding_total{status="delivered"} 2');
    expect(body).toContain('payments_outstanding_amount{currency="JPY"} 5000');
  });
});
