import { describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

/**
 * Account deletion and export (src/modules/account): the export, a refused and an accepted
 * DELETE /v1/me, the access and refresh tokens refused at once, the email registering again, and
 * an admin's erasure. Runs on Node and inside workerd (the neon-http driver: the erasure is one
 * statement). Everything else: test/node/account-erasure.test.ts and account-personal-data.test.ts.
 */
export function erasureJourney(harness: () => Harness) {
  const password = 'correct horse battery';

  describe('erasure journey', () => {
    it('exports, then deletes the account: its tokens stop working at once and the email is free again', async () => {
      const { api } = harness();
      const email = uniqueEmail('erase');
      const reg = await api.post('/v1/auth/register', { email, password, name: 'Erin Erased' });
      expect(reg.status, reg.text).toBe(201);
      const token = reg.body.accessToken as string;

      const exported = await api.get('/v1/me/export', { token });
      expect(exported.status, exported.text).toBe(200);
      expect(exported.body).toMatchObject({ exportVersion: 1, account: { email, name: 'Erin Erased' }, orders: [] });
      expect(exported.headers.get('content-disposition')).toMatch(/^attachment; filename="account-export-/);

      expectProblem(await api.send('DELETE', '/v1/me', { password: 'wrong password' }, { token }), 403, 'current_password_incorrect');
      expect((await api.get('/v1/me', { token })).status).toBe(200);

      const deleted = await api.send('DELETE', '/v1/me', { password }, { token });
      expect(deleted.status, deleted.text).toBe(204);
      expectProblem(await api.get('/v1/me', { token }), 401, 'invalid_token');
      expectProblem(await api.get('/v1/addresses', { token }), 401, 'invalid_token');
      expect((await api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken })).status).toBe(401);
      expectProblem(await api.post('/v1/auth/login', { email, password }), 401, 'invalid_credentials');
      const again = await api.post('/v1/auth/register', { email, password });
      expect(again.status, again.text).toBe(201);
      expect(again.body.user.id).not.toBe(reg.body.user.id);
    });

    it('an admin erases a customer’s account', async () => {
      const h = harness();
      const admin = await actor(h, 'admin');
      const customer = await actor(h);
      const res = await h.api.send('DELETE', `/v1/admin/users/${customer.userId}`, undefined, { token: admin.token });
      expect(res.status, res.text).toBe(204);
      expectProblem(await h.api.get('/v1/me', { token: customer.token }), 401, 'invalid_token');
    });

    it('staff see a customer’s account: whether the email is verified, and what erasure left (GET /v1/staff/users/{id})', async () => {
      const h = harness();
      const staff = await actor(h, 'staff');
      const customer = await actor(h);
      const seen = await h.api.get(`/v1/staff/users/${customer.userId}`, { token: staff.token });
      expect(seen.status, seen.text).toBe(200);
      expect(seen.body).toMatchObject({ id: customer.userId, email: customer.email, role: 'customer', emailVerified: false, disabled: false, erased: false, creditBalance: 0 });
      await h.sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [customer.userId]);
      expect((await h.api.get(`/v1/staff/users/${customer.userId}`, { token: staff.token })).body.emailVerified).toBe(true);
      expectProblem(await h.api.get(`/v1/staff/users/${customer.userId}`, { token: customer.token }), 403, 'forbidden');
      expectProblem(await h.api.get('/v1/staff/users/00000000-0000-4000-8000-000000000000', { token: staff.token }), 404, 'not_found');

      expect((await h.api.send('DELETE', '/v1/me', { password: 'fixture password' }, { token: customer.token })).status).toBe(204);
      const after = await h.api.get(`/v1/staff/users/${customer.userId}`, { token: staff.token });
      expect(after.body).toMatchObject({ erased: true, disabled: true, name: null, phone: null, emailVerified: false });
      expect(after.body.email).not.toBe(customer.email);
    });
  });
}
