/**
 * Review of issue 19: a date the job could not book (`needs_attention`: every window full) has no
 * order, yet skipping it answered 409 `occurrence_already_created` ("the order has already been
 * placed; cancel that order instead"): the customer is told to cancel an order that does not
 * exist and cannot clear the date. Skipping such a date records it skipped (200).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRecurringJob } from '../../src/modules/payments/recurring-hold.js';
import { ordersOf, recurringWorld } from '../journeys/recurring.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('skipping a date that needs attention', () => {
  it('is 200: the date becomes skipped, and no order appears', async () => {
    const w = await recurringWorld(t, { capacity: 1, reserved: 1, morningFull: true });
    const s = (await w.create()).body;
    const report = await runRecurringJob(t.deps, 2);
    expect(report.needsAttention).toContainEqual(expect.objectContaining({ date: w.anchor }));
    const skip = await t.api.post(`/v1/me/recurring-pickups/${s.id}/skip`, { date: w.anchor }, { token: w.who.token });
    expect(skip.status, skip.text).toBe(200);
    expect(skip.body.skippedDates).toEqual([w.anchor]);
    const listed = (await t.api.get('/v1/me/recurring-pickups', { token: w.who.token })).body.items[0];
    expect(listed.recentOccurrences).toEqual([{ date: w.anchor, status: 'skipped', orderId: null, reason: null }]);
    await runRecurringJob(t.deps, 2);
    expect(await ordersOf(t, w.who.userId)).toHaveLength(0);
  });
});
