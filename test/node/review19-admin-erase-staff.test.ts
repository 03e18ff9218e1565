/**
 * Review of issue 18: DELETE /v1/admin/users/{id} is documented as erasing a *customer's* account
 * (one who asked by email or phone). It erased any account: a confused admin pasting a colleague's
 * id wiped a staff member or another admin, irreversibly (and an admin could erase every other
 * admin). A member of the shop is refused 409 `conflict` with nothing written; demoted to
 * customer first, the same account is erased.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('DELETE /v1/admin/users/{id} on a member of the shop', () => {
  it('refuses staff and admin accounts (409 conflict, nothing written); a customer is erased', async () => {
    const admin = await actor(t, 'admin');
    for (const role of ['staff', 'admin'] as const) {
      const member = await actor(t, role);
      const res = await t.api.send('DELETE', `/v1/admin/users/${member.userId}`, undefined, { token: admin.token });
      expectProblem(res, 409, 'conflict');
      const [row] = await t.sql<{ erased: boolean; disabled: boolean }>(
        'SELECT erased_at IS NOT NULL AS erased, disabled_at IS NOT NULL AS disabled FROM users WHERE id = $1', [member.userId]);
      expect(row).toEqual({ erased: false, disabled: false });
      expect((await t.api.get('/v1/me', { token: member.token })).status).toBe(200);
    }
    const staff = await actor(t, 'staff');
    await t.sql(`UPDATE users SET role = 'customer' WHERE id = $1`, [staff.userId]);
    expect((await t.api.send('DELETE', `/v1/admin/users/${staff.userId}`, undefined, { token: admin.token })).status).toBe(204);
  });
});
