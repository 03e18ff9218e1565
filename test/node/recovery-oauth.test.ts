/**
 * Email verification meets Sign in with Apple/Google (issue 18): an account a provider creates
 * with a verified email is verified; one created with an unverified email is not; linking by a
 * verified email verifies the account, and a password account whose own email was already
 * verified keeps its password and sessions (only an unverified one loses them: ./oauth.test.ts).
 * ID tokens signed by the JWKS stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { tokenFrom } from '../support/recovery-tokens.js';
import { startJwksStandIn, type JwksStandIn } from '../support/stand-ins/jwks.js';

const AUD = '1234-ios.apps.googleusercontent.com';
let google: JwksStandIn;
let t: TestApp;
beforeAll(async () => {
  google = await startJwksStandIn('google');
  t = await createTestApp({ stripe: false, env: { GOOGLE_CLIENT_IDS: AUD, GOOGLE_JWKS_URL: google.url, OAUTH_JWKS_COOLDOWN_SECONDS: '0' } });
});
afterAll(async () => {
  await t?.close();
  await google?.close();
});

async function signIn(email: string, verified: boolean, sub = `g.${crypto.randomUUID()}`) {
  const nonce = `nonce-${crypto.randomUUID()}`;
  const idToken = await google.sign({ sub, aud: AUD, azp: AUD, nonce, email, email_verified: verified });
  return t.api.post('/v1/auth/oauth/google', { idToken, nonce });
}

const verifiedOf = async (accessToken: string) => (await t.api.get('/v1/me', { token: accessToken })).body.emailVerified as boolean;

describe('emailVerified with Apple/Google sign-in', () => {
  it('an account created with a provider-verified email is verified; an unverified one makes no account (401 email_unverified)', async () => {
    const yes = await signIn(uniqueEmail('g-verified'), true);
    expect(yes.status, yes.text).toBe(201);
    expect(await verifiedOf(yes.body.accessToken)).toBe(true);
    const email = uniqueEmail('g-unverified');
    const no = await signIn(email, false);
    expect(expectProblem(no, 401, 'invalid_id_token').details).toEqual({ reason: 'email_unverified' });
    expect((await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]))[0]!.n).toBe(0);
  });

  it('a provider that does not vouch for an email cannot pre-hijack the account its owner takes over by a password reset', async () => {
    // The attacker signs in with an IdP account claiming the victim's address, unverified.
    const email = uniqueEmail('g-prehijack');
    const sub = `g.${crypto.randomUUID()}`;
    const attacker = (verified: boolean) => signIn(email, verified, sub);
    const first = await attacker(false);
    // The victim finds the address taken (or not), resets or registers, and uses the account.
    const reg = await t.api.post('/v1/auth/register', { email, password: 'victim password 1' });
    if (reg.status === 409) {
      await t.api.post('/v1/auth/password-reset', { email }, { headers: { 'x-forwarded-for': '198.51.100.77' } });
      const token = await tokenFrom(t, email, 'password_reset');
      expect((await t.api.post('/v1/auth/password-reset/confirm', { token, newPassword: 'victim password 1' }, { headers: { 'x-forwarded-for': '198.51.100.77' } })).status).toBe(200);
    }
    const victim = await t.api.post('/v1/auth/login', { email, password: 'victim password 1' });
    expect(victim.status, victim.text).toBe(200);
    // The attacker's identity never reaches the victim's account.
    const again = await attacker(false);
    expect(again.status, `first sign-in ${first.status}; again ${again.status} as ${again.body.user?.id ?? '-'}`).not.toBe(200);
    expect(again.body.user?.id).toBeUndefined();
    expectProblem(again, 409, 'account_exists_unverified_email');
  });

  it('linking by a verified email to a password account whose email was verified keeps its password and sessions', async () => {
    const email = uniqueEmail('g-link');
    const password = 'verified owner password';
    const reg = await t.api.post('/v1/auth/register', { email, password });
    expect((await t.api.post('/v1/auth/verify-email', { token: await tokenFrom(t, email, 'email_verification') })).status).toBe(200);
    const linked = await signIn(email, true);
    expect(linked.status, linked.text).toBe(200);
    expect(linked.body.user.id).toBe(reg.body.user.id);
    expect((await t.api.post('/v1/auth/login', { email, password })).status).toBe(200);
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken })).status).toBe(200);
  });

  it('linking by a verified email to an unverified password account verifies it (and ends the password, as before)', async () => {
    const email = uniqueEmail('g-squat');
    const reg = await t.api.post('/v1/auth/register', { email, password: 'squatter password 1' });
    const linked = await signIn(email, true);
    expect(linked.status, linked.text).toBe(200);
    expect(await verifiedOf(linked.body.accessToken)).toBe(true);
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken })).status).toBe(401);
  });
});
