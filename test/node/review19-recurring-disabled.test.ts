/**
 * Review of issue 19: the recurring job must not place orders for an account an admin disabled
 * (PATCH /v1/admin/users/{id} disabled: true). The account can no longer sign in, see or cancel
 * those orders, yet each run would reserve capacity and send a driver to its address.
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

describe('recurring pickups of a disabled account', () => {
  it('the job creates no order and reserves no capacity for a disabled account; enabled again, it does', async () => {
    const w = await recurringWorld(t);
    expect((await w.create()).status).toBe(201);
    await t.sql('UPDATE users SET disabled_at = now() WHERE id = $1', [w.who.userId]);
    const report = await runRecurringJob(t.deps, 2);
    expect(report.failed).toEqual([]);
    expect(await ordersOf(t, w.who.userId)).toHaveLength(0);
    const [slot] = await t.sql<{ reserved: number }>('SELECT reserved FROM slots WHERE id = $1', [w.evening]);
    expect(slot!.reserved).toBe(0);

    await t.sql('UPDATE users SET disabled_at = NULL WHERE id = $1', [w.who.userId]);
    await runRecurringJob(t.deps, 2);
    expect(await ordersOf(t, w.who.userId)).toHaveLength(1);
  });
});
