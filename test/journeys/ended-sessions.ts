import { describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/tokens.js';
import { expectProblem, uniqueEmail, type ApiResponse } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import { tokenFrom } from '../support/recovery-tokens.js';

/**
 * An ended session's access tokens are refused at their next request, not when they expire
 * (src/db/role-check.ts, migration 0026): one case per way a session ends. The refusal is 401
 * `invalid_token`, so the app refreshes, is told `refresh_token_revoked` and logs in again.
 * Runs on Node and inside workerd.
 */
export function endedSessionsJourney(harness: () => Harness) {
  const password = 'ended sessions password';

  /** A customer signed in on two devices: two sessions, each with its access and refresh token. */
  const twoDevices = async () => {
    const { api } = harness();
    const email = uniqueEmail('ended');
    const phone = await api.post('/v1/auth/register', { email, password });
    expect(phone.status, phone.text).toBe(201);
    const tablet = await api.post('/v1/auth/login', { email, password });
    expect(tablet.status, tablet.text).toBe(200);
    return { email, userId: phone.body.user.id as string, phone: phone.body, tablet: tablet.body };
  };
  const me = (token: string) => harness().api.get('/v1/me', { token });
  const refused = (res: ApiResponse) => expectProblem(res, 401, 'invalid_token');
  const admitted = (res: ApiResponse) => expect(res.status, res.text).toBe(200);

  describe('an ended session’s access tokens stop working at once', () => {
    it('logout: that session’s access token is refused, the other session goes on', async () => {
      const s = await twoDevices();
      admitted(await me(s.tablet.accessToken));
      expect((await harness().api.post('/v1/auth/logout', { refreshToken: s.tablet.refreshToken })).status).toBe(204);
      const res = await me(s.tablet.accessToken);
      refused(res);
      expect(res.body.detail).toMatch(/session .*was ended/);
      admitted(await me(s.phone.accessToken));
    });

    it('DELETE /v1/me/sessions/{id}: the ended session’s token is refused, the caller’s works', async () => {
      const { api } = harness();
      const s = await twoDevices();
      const list = await api.get('/v1/me/sessions', { token: s.phone.accessToken });
      const tablet = (list.body.data as Array<{ id: string; current: boolean }>).find((x) => !x.current)!;
      expect((await api.send('DELETE', `/v1/me/sessions/${tablet.id}`, undefined, { token: s.phone.accessToken })).status).toBe(204);
      refused(await me(s.tablet.accessToken));
      admitted(await me(s.phone.accessToken));
    });

    it('log out everywhere: every access token of the account is refused, the caller’s included; a new login works', async () => {
      const { api } = harness();
      const s = await twoDevices();
      const out = await api.send('DELETE', '/v1/me/sessions', undefined, { token: s.phone.accessToken });
      expect(out.body).toEqual({ endedSessions: 2 });
      refused(await me(s.phone.accessToken));
      refused(await me(s.tablet.accessToken));
      // The app's next step on that 401: refresh, refused, so log in again.
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: s.phone.refreshToken }), 401, 'refresh_token_revoked');
      const again = await api.post('/v1/auth/login', { email: s.email, password });
      admitted(await me(again.body.accessToken));
    });

    it('a password change: the other session’s token is refused; the caller’s, and its refresh, work', async () => {
      const { api } = harness();
      const s = await twoDevices();
      const changed = await api.post('/v1/me/password', { currentPassword: password, newPassword: 'a changed long password' }, { token: s.phone.accessToken });
      expect(changed.body).toEqual({ endedSessions: 1 });
      refused(await me(s.tablet.accessToken));
      admitted(await me(s.phone.accessToken));
      const rotated = await api.post('/v1/auth/refresh', { refreshToken: s.phone.refreshToken });
      admitted(await me(rotated.body.accessToken));
    });

    it('a password reset: every access token of the account is refused', async () => {
      const h = harness();
      const s = await twoDevices();
      expect((await h.api.post('/v1/auth/password-reset', { email: s.email })).status).toBe(202);
      const token = await tokenFrom(h, s.email, 'password_reset');
      expect((await h.api.post('/v1/auth/password-reset/confirm', { token, newPassword: 'a reset long password' })).body).toEqual({ endedSessions: 2 });
      refused(await me(s.phone.accessToken));
      refused(await me(s.tablet.accessToken));
    });

    it('disabled by an operator: refused; enabled again, the old tokens stay refused (their sessions ended), a new login works', async () => {
      const h = harness();
      const s = await twoDevices();
      await h.setDisabled(s.email, true);
      refused(await me(s.phone.accessToken));
      await h.setDisabled(s.email, false);
      refused(await me(s.phone.accessToken));
      refused(await me(s.tablet.accessToken));
      const again = await h.api.post('/v1/auth/login', { email: s.email, password });
      admitted(await me(again.body.accessToken));
    });

    it('account deletion: every access token of the account is refused', async () => {
      const { api } = harness();
      const s = await twoDevices();
      expect((await api.send('DELETE', '/v1/me', { password }, { token: s.phone.accessToken })).status).toBe(204);
      refused(await me(s.phone.accessToken));
      refused(await me(s.tablet.accessToken));
    });

    it('a replayed refresh token (reuse detection revokes the family): that session’s access tokens are refused', async () => {
      const { api } = harness();
      const s = await twoDevices();
      const first = await api.post('/v1/auth/refresh', { refreshToken: s.tablet.refreshToken });
      admitted(await me(first.body.accessToken));
      // The family is revoked by a replay after the grace window; aged here rather than waited for.
      await harness().sql(`UPDATE refresh_tokens SET revoked_at = revoked_at - interval '1 hour' WHERE user_id = $1::uuid AND revoked_reason = 'rotated'`, [s.userId]);
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: s.tablet.refreshToken }), 401, 'refresh_token_reused');
      refused(await me(first.body.accessToken));
      refused(await me(s.tablet.accessToken));
      admitted(await me(s.phone.accessToken));
    });

    it('a token without `sid` (issued before sessions were named) keeps the old rule until it expires: user checks only', async () => {
      const h = harness();
      const s = await twoDevices();
      const legacy = await signAccessToken({ sub: s.userId, role: 'customer' }, h.jwtSecret, new Date(), 600);
      expect((await h.api.send('DELETE', '/v1/me/sessions', undefined, { token: s.phone.accessToken })).status).toBe(200);
      admitted(await me(legacy));
      await h.setDisabled(s.email, true);
      refused(await me(legacy));
    });
  });
}
