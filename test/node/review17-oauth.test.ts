/**
 * Review 17: account pre-hijacking through the verified-email link (src/modules/auth/oauth.ts).
 * Registration never verifies the email, so anyone can create a password account for someone
 * else's address. When the real owner later signs in with Google (a verified email), the
 * statement links that account and logs the owner into it, while the squatter keeps both the
 * password and the session they already hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { startJwksStandIn, type JwksStandIn } from '../support/stand-ins/jwks.js';

const GOOGLE_AUD = '1234-ios.apps.googleusercontent.com';
let google: JwksStandIn;
let apple: JwksStandIn;
let t: TestApp;
beforeAll(async () => {
  apple = await startJwksStandIn('apple');
  google = await startJwksStandIn('google');
  t = await createTestApp({
    env: { APPLE_CLIENT_IDS: 'com.example.laundry', GOOGLE_CLIENT_IDS: GOOGLE_AUD, APPLE_JWKS_URL: apple.url, GOOGLE_JWKS_URL: google.url, OAUTH_JWKS_COOLDOWN_SECONDS: '0' },
  });
});
afterAll(async () => {
  await t?.close();
  await apple?.close();
  await google?.close();
});

describe('review17: linking a Google identity to a squatted password account', () => {
  it('the squatter’s password and session stop working once the email owner signs in with Google', async () => {
    const victimEmail = uniqueEmail('r17-victim');
    // The attacker registers the victim's address (no email verification) and keeps the session.
    const squat = await t.api.post('/v1/auth/register', { email: victimEmail, password: 'attacker knows this' });
    expect(squat.status, squat.text).toBe(201);

    // The victim signs in with Google for the first time: Google vouches for the address.
    const nonce = `nonce-${crypto.randomUUID()}`;
    const idToken = await google.sign({ sub: `r17.${crypto.randomUUID()}`, aud: GOOGLE_AUD, azp: GOOGLE_AUD, nonce, email: victimEmail, email_verified: true });
    const victim = await t.api.post('/v1/auth/oauth/google', { idToken, nonce });
    expect(victim.status, victim.text).toBe(200);
    expect(victim.body.user.id).toBe(squat.body.user.id); // the victim now lives in the attacker's account

    // The victim adds personal data.
    const patched = await t.api.patch('/v1/me', { phone: '+447700900123' }, { token: victim.body.accessToken });
    expect(patched.status, patched.text).toBe(200);

    // Defect: the attacker still refreshes their old session and reads it…
    const refreshed = await t.api.post('/v1/auth/refresh', { refreshToken: squat.body.refreshToken });
    const login = await t.api.post('/v1/auth/login', { email: victimEmail, password: 'attacker knows this' });
    expect({ refresh: refreshed.status, passwordLogin: login.status }).toEqual({ refresh: 401, passwordLogin: 401 });
  });
});
