/**
 * Recurring pickups (issue 19) on the PostgreSQL server: create/list/change/skip/pause/delete with
 * their validation; the job (runRecurringJob, the part of the scheduled job) creating each
 * date's order once through POST /v1/orders' own path; two runs at once creating exactly one order
 * per (schedule, date); a full window taking the nearest free one the same day, else
 * `needs_attention`; paused and skipped schedules creating nothing. Zones are UTC here: clock
 * changes are the pure expansion's business (test/unit/recurrence.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/recurrence.js';
import { runRecurringJob } from '../../src/modules/payments/recurring-hold.js';
import { expectProblem } from '../support/client.js';
import { ordersOf, recurringJourney, recurringWorld } from '../journeys/recurring.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

recurringJourney(() => t);

describe('the scheduled job', () => {
  it('creates the date’s order once, through the app’s order path, and shows it in GET', async () => {
    const w = await recurringWorld(t);
    const s = (await w.create()).body;
    const first = await runRecurringJob(t.deps, 2);
    expect(first.failed).toEqual([]);
    const orders = await ordersOf(t, w.who.userId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ pickup_slot_id: w.evening, delivery_slot_id: w.delivery, status: 'confirmed' });
    expect(orders[0]!.estimated_total).toBeGreaterThan(0);
    const [reserved] = await t.sql<{ reserved: number }>('SELECT reserved FROM slots WHERE id = $1', [w.evening]);
    expect(reserved!.reserved).toBe(1);
    await runRecurringJob(t.deps, 2);
    expect(await ordersOf(t, w.who.userId)).toHaveLength(1);
    const listed = (await t.api.get('/v1/me/recurring-pickups', { token: w.who.token })).body.items[0];
    expect(listed.recentOccurrences).toEqual([{ date: w.anchor, status: 'created', orderId: orders[0]!.id, reason: null }]);
    expect(listed.id).toBe(s.id);
    const order = await t.api.get(`/v1/orders/${orders[0]!.id}`, { token: w.who.token });
    expect(order.status).toBe(200);
    // A date whose order exists cannot be skipped: the order is cancelled instead.
    expectProblem(await t.api.post(`/v1/me/recurring-pickups/${s.id}/skip`, { date: w.anchor }, { token: w.who.token }), 409, 'occurrence_already_created');
  });

  it('two runs at once create exactly one order per (schedule, date), round after round', async () => {
    for (let round = 0; round < 12; round++) {
      const w = await recurringWorld(t);
      expect((await w.create()).status).toBe(201);
      const reports = await Promise.all([runRecurringJob(t.deps, 2), runRecurringJob(t.deps, 2)]);
      expect(reports.flatMap((r) => r.failed)).toEqual([]);
      expect(await ordersOf(t, w.who.userId)).toHaveLength(1);
      const [row] = await t.sql<{ n: number; reserved: number }>(
        `SELECT (SELECT count(*) FROM recurring_occurrences o JOIN recurring_pickups r ON r.id = o.schedule_id WHERE r.user_id = $1 AND o.status = 'created')::int AS n,
                (SELECT reserved FROM slots WHERE id = $2) AS reserved`, [w.who.userId, w.evening]);
      expect(row).toEqual({ n: 1, reserved: 1 });
    }
  });

  it('a full window takes the nearest free window the same day; none free is needs_attention', async () => {
    const w = await recurringWorld(t, { capacity: 1, reserved: 1 });
    await w.create();
    await runRecurringJob(t.deps, 2);
    expect((await ordersOf(t, w.who.userId))[0]).toMatchObject({ pickup_slot_id: w.morning });

    const full = await recurringWorld(t, { capacity: 1, reserved: 1, morningFull: true });
    await full.create();
    const report = await runRecurringJob(t.deps, 2);
    expect(report.needsAttention).toContainEqual(expect.objectContaining({ date: full.anchor, reason: 'slot_unavailable' }));
    expect(await ordersOf(t, full.who.userId)).toHaveLength(0);
    const listed = (await t.api.get('/v1/me/recurring-pickups', { token: full.who.token })).body.items[0];
    expect(listed.recentOccurrences).toEqual([{ date: full.anchor, status: 'needs_attention', orderId: null, reason: 'slot_unavailable' }]);
    await runRecurringJob(t.deps, 2); // not retried into a second attempt
    expect(await ordersOf(t, full.who.userId)).toHaveLength(0);
  });

  it('a paused schedule and a skipped date create nothing; a skip racing the job leaves one winner', async () => {
    const paused = await recurringWorld(t);
    const p = (await paused.create()).body;
    await t.api.patch(`/v1/me/recurring-pickups/${p.id}`, { status: 'paused' }, { token: paused.who.token });
    const skipped = await recurringWorld(t);
    const s = (await skipped.create()).body;
    const skip = await t.api.post(`/v1/me/recurring-pickups/${s.id}/skip`, { date: skipped.anchor }, { token: skipped.who.token });
    expect(skip.status, skip.text).toBe(200);
    expect(skip.body.skippedDates).toEqual([skipped.anchor]);
    expect(skip.body.nextDates[0]).toBe(addDays(skipped.anchor, 7));
    await runRecurringJob(t.deps, 2);
    expect(await ordersOf(t, paused.who.userId)).toHaveLength(0);
    expect(await ordersOf(t, skipped.who.userId)).toHaveLength(0);

    for (let round = 0; round < 5; round++) {
      const w = await recurringWorld(t);
      const id = (await w.create()).body.id;
      const [skipRes, report] = await Promise.all([
        t.api.post(`/v1/me/recurring-pickups/${id}/skip`, { date: w.anchor }, { token: w.who.token }),
        runRecurringJob(t.deps, 2),
      ]);
      expect(report.failed).toEqual([]);
      const orders = await ordersOf(t, w.who.userId);
      if (skipRes.status === 200) expect(orders).toHaveLength(0);
      else {
        expectProblem(skipRes, 409, 'occurrence_already_created');
        expect(orders).toHaveLength(1);
      }
    }
  });

  it('a run that died after placing its order is taken over 15 min later and replays that order, never a second', async () => {
    const w = await recurringWorld(t);
    await w.create();
    await runRecurringJob(t.deps, 2);
    const [made] = await ordersOf(t, w.who.userId);
    // As if the run had died between createOrder and recording it: still `creating`, claimed 20 min ago.
    await t.sql(
      `UPDATE recurring_occurrences o SET status = 'creating', order_id = NULL, claimed_at = now() - interval '20 minutes'
       FROM recurring_pickups r WHERE r.id = o.schedule_id AND r.user_id = $1`, [w.who.userId]);
    const report = await runRecurringJob(t.deps, 2);
    expect(report.failed).toEqual([]);
    expect(await ordersOf(t, w.who.userId)).toEqual([made]);
    const listed = (await t.api.get('/v1/me/recurring-pickups', { token: w.who.token })).body.items[0];
    expect(listed.recentOccurrences).toEqual([{ date: w.anchor, status: 'created', orderId: made!.id, reason: null }]);
  });

  it('a card occurrence with no saved card yet starts pending_payment, as an app card order does (the rest: recurring-card.test.ts)', async () => {
    const w = await recurringWorld(t);
    expect((await w.create({ paymentMethod: 'card' })).status).toBe(201);
    await runRecurringJob(t.deps, 2);
    expect((await ordersOf(t, w.who.userId))[0]).toMatchObject({ status: 'pending_payment' });
  });
});
