import { describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail } from '../support/client.js';
import type { Harness } from '../support/harness.js';

/**
 * Sessions and the password (src/modules/auth/sessions.ts): list, end one, log out everywhere,
 * change the password (the other sessions end, this one stays), its throttle. Runs on Node and
 * inside workerd.
 */
export function sessionsJourney(harness: () => Harness) {
  const password = 'correct horse battery';
  const phone = (label: string) => ({ headers: { 'user-agent': `LaundryApp/1.4.0 (${label}; \u0007bell)` } });
  /** A customer signed in on three devices. */
  const threeDevices = async () => {
    const { api } = harness();
    const email = uniqueEmail('sessions');
    const reg = await api.send('POST', '/v1/auth/register', { email, password }, phone('iPhone'));
    expect(reg.status, reg.text).toBe(201);
    const tablet = await api.send('POST', '/v1/auth/login', { email, password }, phone('iPad'));
    const laptop = await api.post('/v1/auth/login', { email, password });
    expect([tablet.status, laptop.status]).toEqual([200, 200]);
    return { email, phone: reg.body, tablet: tablet.body, laptop: laptop.body };
  };

  describe('sessions journey', () => {
    it('lists one session per login with its device, marks the caller’s own, and keeps it across a refresh', async () => {
      const { api } = harness();
      const s = await threeDevices();
      const rotated = await api.post('/v1/auth/refresh', { refreshToken: s.tablet.refreshToken });
      expect(rotated.status, rotated.text).toBe(200);
      const list = await api.get('/v1/me/sessions', { token: rotated.body.accessToken });
      expect(list.status, list.text).toBe(200);
      expect(list.body.data).toHaveLength(3);
      // Most recently used first: the tablet just refreshed.
      const [first, ...rest] = list.body.data as Array<Record<string, unknown>>;
      expect(first).toMatchObject({ deviceLabel: 'LaundryApp/1.4.0 (iPad; bell)', current: true });
      expect(rest.map((r) => r.current)).toEqual([false, false]);
      expect(rest.filter((r) => r.deviceLabel === 'LaundryApp/1.4.0 (iPhone; bell)')).toHaveLength(1);
      expect(Date.parse(first!.lastUsedAt as string)).toBeGreaterThanOrEqual(Date.parse(first!.createdAt as string));
    });

    it('ends one session: its refresh token stops working, the others go on; again is 204, another user’s is 404', async () => {
      const { api } = harness();
      const s = await threeDevices();
      const list = await api.get('/v1/me/sessions', { token: s.phone.accessToken });
      const tablet = (list.body.data as Array<{ id: string; deviceLabel: string | null }>).find((x) => x.deviceLabel?.includes('iPad'))!;
      const del = await api.send('DELETE', `/v1/me/sessions/${tablet.id}`, undefined, { token: s.phone.accessToken });
      expect(del.status, del.text).toBe(204);
      expect((await api.send('DELETE', `/v1/me/sessions/${tablet.id}`, undefined, { token: s.phone.accessToken })).status).toBe(204);
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: s.tablet.refreshToken }), 401, 'refresh_token_revoked');
      expect((await api.post('/v1/auth/refresh', { refreshToken: s.laptop.refreshToken })).status).toBe(200);
      const after = await api.get('/v1/me/sessions', { token: s.phone.accessToken });
      expect(after.body.data).toHaveLength(2);

      const other = await threeDevices();
      expectProblem(await api.send('DELETE', `/v1/me/sessions/${tablet.id}`, undefined, { token: other.phone.accessToken }), 404, 'not_found');
      expectProblem(await api.send('DELETE', `/v1/me/sessions/${crypto.randomUUID()}`, undefined, { token: s.phone.accessToken }), 404, 'not_found');
    });

    it('logs out everywhere: every refresh and access token of the account stops working', async () => {
      const { api } = harness();
      const s = await threeDevices();
      const out = await api.send('DELETE', '/v1/me/sessions', undefined, { token: s.laptop.accessToken });
      expect(out.status, out.text).toBe(200);
      expect(out.body).toEqual({ endedSessions: 3 });
      for (const d of [s.phone, s.tablet, s.laptop]) {
        expectProblem(await api.post('/v1/auth/refresh', { refreshToken: d.refreshToken }), 401, 'refresh_token_revoked');
      }
      // The caller's own access token too: its session was one of them.
      expectProblem(await api.get('/v1/me/sessions', { token: s.laptop.accessToken }), 401, 'invalid_token');
      const again = await api.post('/v1/auth/login', { email: s.email, password });
      const list = await api.get('/v1/me/sessions', { token: again.body.accessToken });
      expect((list.body.data as Array<{ current: boolean }>).map((x) => x.current)).toEqual([true]);
    });

    it('changes the password: the other sessions end, this one stays; the old password stops working', async () => {
      const { api } = harness();
      const s = await threeDevices();
      const wrong = await api.post('/v1/me/password', { currentPassword: 'not it at all', newPassword: 'a brand new passphrase' }, { token: s.phone.accessToken });
      expectProblem(wrong, 403, 'current_password_incorrect');
      expectProblem(await api.post('/v1/me/password', { currentPassword: password, newPassword: 'short' }, { token: s.phone.accessToken }), 422, 'validation_failed');

      const changed = await api.post('/v1/me/password', { currentPassword: password, newPassword: 'a brand new passphrase' }, { token: s.phone.accessToken });
      expect(changed.status, changed.text).toBe(200);
      expect(changed.body).toEqual({ endedSessions: 2 });
      expect((await api.post('/v1/auth/refresh', { refreshToken: s.phone.refreshToken })).status).toBe(200);
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: s.tablet.refreshToken }), 401, 'refresh_token_revoked');
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: s.laptop.refreshToken }), 401, 'refresh_token_revoked');
      expectProblem(await api.post('/v1/auth/login', { email: s.email, password }), 401, 'invalid_credentials');
      expect((await api.post('/v1/auth/login', { email: s.email, password: 'a brand new passphrase' })).status).toBe(200);
    });

    it('throttles password changes per account, before any hashing: 429 with Retry-After, even with the right password', async () => {
      const { api } = harness();
      const s = await threeDevices();
      const tries = await Promise.all(
        Array.from({ length: 8 }, () => api.post('/v1/me/password', { currentPassword: 'wrong wrong wrong', newPassword: 'another long passphrase' }, { token: s.phone.accessToken })),
      );
      expect(tries.filter((t) => t.status === 403)).toHaveLength(5);
      const refused = tries.filter((t) => t.status === 429);
      expect(refused).toHaveLength(3);
      const right = await api.post('/v1/me/password', { currentPassword: password, newPassword: 'another long passphrase' }, { token: s.phone.accessToken });
      expectProblem(right, 429, 'too_many_attempts');
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
}
