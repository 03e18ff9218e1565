import { describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import { tokenFrom } from '../support/recovery-tokens.js';

/**
 * Account recovery (issue 18; src/modules/auth/password-reset.ts, email-verification.ts): a reset
 * from request to confirmation, with the token read from the outbox as the dispatcher would
 * (opened with the app's secret), and an email verification. Runs on Node and inside workerd.
 */
export function recoveryJourney(harness: () => Harness) {
  const password = 'forgotten password 1';

  describe('account recovery journey', () => {
    it('reset: request → token → confirm → the old session is refused, the new password logs in, the token is spent', async () => {
      const h = harness();
      const email = uniqueEmail('journey-reset');
      const reg = await h.api.post('/v1/auth/register', { email, password });
      expect(reg.status, reg.text).toBe(201);
      const asked = await h.api.post('/v1/auth/password-reset', { email });
      expect(asked.status, asked.text).toBe(202);
      expect(asked.body).toEqual({ status: 'accepted' });
      const token = await tokenFrom(h, email, 'password_reset');

      const done = await h.api.post('/v1/auth/password-reset/confirm', { token, newPassword: 'remembered password 2' });
      expect(done.status, done.text).toBe(200);
      expect(done.body).toEqual({ endedSessions: 1 });
      expectProblem(await h.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken }), 401, 'refresh_token_revoked');
      expect((await h.api.post('/v1/auth/login', { email, password: 'remembered password 2' })).status).toBe(200);
      expectProblem(await h.api.post('/v1/auth/password-reset/confirm', { token, newPassword: 'a third password' }), 410, 'recovery_token_used');
    });

    it('verification: registration’s token verifies the email, shown on /v1/me', async () => {
      const h = harness();
      const email = uniqueEmail('journey-verify');
      const reg = await h.api.post('/v1/auth/register', { email, password });
      expect((await h.api.get('/v1/me', { token: reg.body.accessToken })).body.emailVerified).toBe(false);
      const as = { token: reg.body.accessToken };
      expect((await h.api.post('/v1/me/email-verification', undefined, as)).status).toBe(202);
      const ok = await h.api.post('/v1/auth/verify-email', { token: await tokenFrom(h, email, 'email_verification') });
      expect(ok.status, ok.text).toBe(200);
      expect((await h.api.get('/v1/me', as)).body.emailVerified).toBe(true);
      expectProblem(await h.api.post('/v1/me/email-verification', undefined, as), 409, 'email_already_verified');
    });

    it('email change: the new address is verified first, then becomes the login', async () => {
      const h = harness();
      const email = uniqueEmail('journey-change');
      const newEmail = uniqueEmail('journey-changed');
      const reg = await h.api.post('/v1/auth/register', { email, password });
      const as = { token: reg.body.accessToken };
      expect((await h.api.post('/v1/me/email', { newEmail, password }, as)).status).toBe(202);
      expect((await h.api.get('/v1/me', as)).body.email).toBe(email);
      const ok = await h.api.post('/v1/auth/verify-email', { token: await tokenFrom(h, newEmail, 'email_verification') });
      expect(ok.body).toEqual({ email: newEmail });
      expect((await h.api.get('/v1/me', as)).body).toMatchObject({ email: newEmail, emailVerified: true });
      expect((await h.api.post('/v1/auth/login', { email: newEmail, password })).status).toBe(200);
    });
  });
}
