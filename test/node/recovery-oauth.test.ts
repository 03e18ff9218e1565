/**
 * Email verification meets Sign in with Apple/Google (issue 18): an account a provider creates
 * with a verified email is verified; one created with an unverified email is not; linking by a
 * verified email verifies the account, and a password account whose own email was already
 * verified keeps its password and sessions (only an unverified one loses them: ./oauth.test.ts).
 * ID tokens signed by the JWKS stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueEmail } from '../support/client.js';
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

async function signIn(email: string, verified: boolean) {
  const nonce = `nonce-${crypto.randomUUID()}`;
  const idToken = await google.sign({ sub: `g.${crypto.randomUUID()}`, aud: AUD, azp: AUD, nonce, email, email_verified: verified });
  return t.api.post('/v1/auth/oauth/google', { idToken, nonce });
}

const verifiedOf = async (accessToken: string) => (await t.api.get('/v1/me', { token: accessToken })).body.emailVerified as boolean;

describe('emailVerified with Apple/Google sign-in', () => {
  it('an account created with a provider-verified email is verified; with an unverified one it is not', async () => {
    const yes = await signIn(uniqueEmail('g-verified'), true);
    expect(yes.status, yes.text).toBe(201);
    expect(await verifiedOf(yes.body.accessToken)).toBe(true);
    const no = await signIn(uniqueEmail('g-unverified'), false);
    expect(no.status, no.text).toBe(201);
    expect(await verifiedOf(no.body.accessToken)).toBe(false);
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
