/**
 * Review of issues 18/19: GET /v1/me/export is documented as everything the account holds (GDPR
 * articles 15 and 20), but it was written before tips and recurring pickups landed and left both
 * out: a customer's standing schedules (address, items, their own notes) and the tips charged to
 * their card were missing from the download. Both are exported, and only the caller's.
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

describe('GET /v1/me/export with tips and recurring pickups', () => {
  it('carries the caller’s schedules (with their dates) and tips, and none of another customer’s', async () => {
    const w = await recurringWorld(t);
    const schedule = await w.create({ notes: 'Ring twice, dog in the garden' });
    expect(schedule.status, schedule.text).toBe(201);
    const other = await recurringWorld(t);
    expect((await other.create({ notes: 'someone else' })).status).toBe(201);
    await runRecurringJob(t.deps, 2);
    const [order] = await ordersOf(t, w.who.userId);
    // A cash tip as staff record it (POST /v1/staff/orders/{id}/tip writes this row once delivered).
    await t.sql(
      `INSERT INTO tips (id, order_id, user_id, recorded_by, method, status, amount, currency, created_at, updated_at)
       SELECT gen_random_uuid(), id, user_id, user_id, 'cash', 'succeeded', 300, currency, now(), now() FROM orders WHERE id = $1`, [order!.id]);

    const res = await t.api.get('/v1/me/export', { token: w.who.token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.tips).toEqual([expect.objectContaining({ orderId: order!.id, amount: 300, method: 'cash', status: 'succeeded', percent: null })]);
    expect(res.body.recurringPickups).toHaveLength(1);
    expect(res.body.recurringPickups[0]).toMatchObject({
      id: schedule.body.id,
      notes: 'Ring twice, dog in the garden',
      addressId: w.addressId,
      occurrences: [{ date: w.anchor, status: 'created', orderId: order!.id, reason: null }],
    });
    expect(JSON.stringify(res.body)).not.toContain('someone else');
  });
});
