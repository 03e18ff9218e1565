/**
 * Sign in with Apple and Google inside workerd: the Worker's own fetch of the key sets (jose's
 * createRemoteJWKSet on workerd), the sign-in statement over the real neon-http driver (one
 * round trip, no interactive transaction), and concurrent first sign-ins. The JWKS stand-ins run
 * in the Vitest config's process (vitest.workers.config.ts), as the Stripe stand-in does; this
 * file signs tokens through their control paths. The full matrix of refusals: test/node/oauth.test.ts.
 */
import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/worker.js';
import { apiClient, expectProblem, uniqueEmail } from '../support/client.js';
import { jwksControl } from '../support/stand-ins/jwks.js';
import { resetRoundTrips, roundTrips, validation, workerHarness } from './support.js';

const bindings = env as unknown as Record<string, string>;
const APPLE_AUD = 'com.example.laundry';
const GOOGLE_AUD = '1234-web.apps.googleusercontent.com';
/** The test bindings plus the providers' settings: one object, so the Worker builds its app once. */
const oauthEnv = {
  ...bindings,
  APPLE_CLIENT_IDS: APPLE_AUD,
  GOOGLE_CLIENT_IDS: GOOGLE_AUD,
  APPLE_JWKS_URL: bindings.TEST_APPLE_JWKS_URL!,
  GOOGLE_JWKS_URL: bindings.TEST_GOOGLE_JWKS_URL!,
  OAUTH_JWKS_COOLDOWN_SECONDS: '0',
};
const api = apiClient((request) => Promise.resolve(worker.fetch(request, oauthEnv as never, createExecutionContext() as never)), undefined, validation);
const apple = jwksControl(oauthEnv.APPLE_JWKS_URL);
const google = jwksControl(oauthEnv.GOOGLE_JWKS_URL);

const sha256Hex = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');
const newSub = () => `001.${crypto.randomUUID()}`;
const newNonce = () => `nonce-${crypto.randomUUID()}`;

describe('Sign in with Apple and Google in workerd', () => {
  it('creates the account (201) in one round trip, then logs the same user in (200)', async () => {
    const sub = newSub();
    const email = uniqueEmail('wk-apple');
    const nonce = newNonce();
    const idToken = await apple.sign({ sub, aud: APPLE_AUD, nonce: await sha256Hex(nonce), email, email_verified: 'true' });
    // Warm the key set so the count below is the sign-in statement alone.
    await api.post('/v1/auth/oauth/apple', { idToken: await apple.sign({ sub: newSub(), aud: 'com.other.app', nonce: await sha256Hex(nonce) }), nonce });
    await resetRoundTrips();
    const first = await api.post('/v1/auth/oauth/apple', { idToken, nonce, name: 'Ada' });
    expect(first.status, first.text).toBe(201);
    const trips = await roundTrips();
    expect(trips.queries + trips.batches).toBe(1);
    expect(first.body.user).toMatchObject({ email, name: 'Ada', role: 'customer' });
    const again = await api.post('/v1/auth/oauth/apple', { idToken, nonce });
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(first.body.user.id);
    expect((await workerHarness.api.get('/v1/me', { token: again.body.accessToken })).body.id).toBe(first.body.user.id);
  });

  it('refetches the key set for a newly published kid (ES256), and refuses an unpublished one', async () => {
    const nonce = newNonce();
    const sign = async (opts = {}) => google.sign({ sub: newSub(), aud: GOOGLE_AUD, nonce, email: uniqueEmail('wk-rot'), email_verified: true }, opts);
    expect((await api.post('/v1/auth/oauth/google', { idToken: await sign(), nonce })).status).toBe(201);
    await google.rotate();
    const before = await google.fetches();
    expect((await api.post('/v1/auth/oauth/google', { idToken: await sign({ alg: 'ES256' }), nonce })).status).toBe(201);
    expect(await google.fetches()).toBe(before + 1);
    // The key set is cached for the isolate: signing in again with a known kid fetches nothing.
    expect((await api.post('/v1/auth/oauth/google', { idToken: await sign({ alg: 'ES256' }), nonce })).status).toBe(201);
    expect((await api.post('/v1/auth/oauth/google', { idToken: await sign(), nonce })).status).toBe(201);
    expect(await google.fetches()).toBe(before + 1);
    await google.rotate({ publish: false });
    const unknown = expectProblem(await api.post('/v1/auth/oauth/google', { idToken: await sign(), nonce }), 401, 'invalid_id_token');
    expect(unknown.details).toEqual({ reason: 'unknown_key' });
    await google.publishAll();
  });

  it('wrong audience and unverified-email linking are refused', async () => {
    const nonce = newNonce();
    const aud = expectProblem(await api.post('/v1/auth/oauth/google', { idToken: await google.sign({ sub: newSub(), aud: 'evil', nonce }), nonce }), 401, 'invalid_id_token');
    expect(aud.details).toEqual({ reason: 'audience' });
    const email = uniqueEmail('wk-taken');
    expect((await workerHarness.api.post('/v1/auth/register', { email, password: 'a long enough password' })).status).toBe(201);
    expectProblem(
      await api.post('/v1/auth/oauth/google', { idToken: await google.sign({ sub: newSub(), aud: GOOGLE_AUD, nonce, email, email_verified: false }), nonce }),
      409,
      'account_exists_unverified_email',
    );
  });

  it('concurrent first sign-ins with one sub over neon-http create one account', async () => {
    const sub = newSub();
    const email = uniqueEmail('wk-race');
    const nonce = newNonce();
    const idToken = await apple.sign({ sub, aud: APPLE_AUD, nonce: await sha256Hex(nonce), email, email_verified: true });
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.post('/v1/auth/oauth/apple', { idToken, nonce })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.user.id)).size).toBe(1);
    const rows = await workerHarness.sql<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email]);
    expect(rows[0]!.n).toBe(1);
  });
});
