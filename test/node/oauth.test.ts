/**
 * Sign in with Apple and Google through the app over the test database, with the ID tokens signed
 * by a local JWKS stand-in (test/support/stand-ins/jwks.ts) that the app fetches keys from:
 * account creation, login, linking by verified email only, every refusal with its reason, key
 * rotation, configuration, disabled accounts and concurrent first sign-ins.
 */
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PASSWORD_HASH } from '../../src/modules/auth/oauth.js';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { startJwksStandIn, type JwksStandIn } from '../support/stand-ins/jwks.js';

const APPLE_AUD = 'com.example.laundry';
const APPLE_WEB_AUD = 'com.example.laundry.web';
const GOOGLE_AUD = '1234-ios.apps.googleusercontent.com';
const GOOGLE_ANDROID_AUD = '1234-android.apps.googleusercontent.com';

let apple: JwksStandIn;
let google: JwksStandIn;
let t: TestApp;

const env = () => ({
  APPLE_CLIENT_IDS: `${APPLE_AUD}, ${APPLE_WEB_AUD}`,
  GOOGLE_CLIENT_IDS: `${GOOGLE_AUD},${GOOGLE_ANDROID_AUD}`,
  APPLE_JWKS_URL: apple.url,
  GOOGLE_JWKS_URL: google.url,
  // Refetch on every unknown kid, so rotation tests need not wait; the cooldown has its own test.
  OAUTH_JWKS_COOLDOWN_SECONDS: '0',
});

beforeAll(async () => {
  apple = await startJwksStandIn('apple');
  google = await startJwksStandIn('google');
  t = await createTestApp({ env: env() });
});
afterAll(async () => {
  await t?.close();
  await apple?.close();
  await google?.close();
});

let n = 0;
const newSub = (p: string) => `${p}.${process.pid}.${Date.now()}.${++n}`;
const newNonce = () => `nonce-${crypto.randomUUID()}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** An Apple token for `sub`, issued for the raw `nonce` (the claim holds its SHA-256 hex). */
function appleToken(sub: string, nonce: string, claims: Record<string, unknown> = {}, opts = {}) {
  return apple.sign({ sub, aud: APPLE_AUD, nonce: sha256(nonce), nonce_supported: true, ...claims }, opts);
}
function googleToken(sub: string, nonce: string, claims: Record<string, unknown> = {}, opts = {}) {
  return google.sign({ sub, aud: GOOGLE_AUD, azp: GOOGLE_AUD, nonce, ...claims }, opts);
}
const post = (provider: 'apple' | 'google', body: Record<string, unknown>, app: TestApp = t) => app.api.post(`/v1/auth/oauth/${provider}`, body);

function expectRefused(res: Awaited<ReturnType<typeof post>>, reason: string) {
  const body = expectProblem(res, 401, 'invalid_id_token');
  expect(body.details).toEqual({ reason });
}

async function identityCount(provider: string, sub: string) {
  const [row] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM user_identities WHERE provider = $1 AND subject = $2`, [provider, sub]);
  return row!.n;
}

describe('Sign in with Apple', () => {
  it('creates a customer (201) with the name the app sends, then logs the same user in (200)', async () => {
    const sub = newSub('001');
    const email = uniqueEmail('apple');
    const nonce = newNonce();
    const first = await post('apple', { idToken: await appleToken(sub, nonce, { email, email_verified: 'true' }), nonce, name: 'Ada Lovelace' });
    expect(first.status).toBe(201);
    expect(first.body.user).toMatchObject({ email, role: 'customer', name: 'Ada Lovelace' });
    expect(first.body.tokenType).toBe('Bearer');
    const me = await t.api.get('/v1/me', { token: first.body.accessToken });
    expect(me.body.id).toBe(first.body.user.id);

    // Later tokens carry no name; the account keeps the one it was made with.
    const nonce2 = newNonce();
    const second = await post('apple', { idToken: await appleToken(sub, nonce2, { email, email_verified: true }), nonce: nonce2 });
    expect(second.status).toBe(200);
    expect(second.body.user).toMatchObject({ id: first.body.user.id, name: 'Ada Lovelace' });
    // The session works like a password login's: its refresh token rotates.
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: second.body.refreshToken })).status).toBe(200);
    expect(await identityCount('apple', sub)).toBe(1);
  });

  it('logs in by `sub` even when the token has no email (Apple sends it only sometimes)', async () => {
    const sub = newSub('001');
    const email = uniqueEmail('apple-noemail');
    const nonce = newNonce();
    const first = await post('apple', { idToken: await appleToken(sub, nonce, { email, email_verified: 'true' }), nonce });
    expect(first.status).toBe(201);
    const nonce2 = newNonce();
    const again = await post('apple', { idToken: await appleToken(sub, nonce2), nonce: nonce2 });
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(first.body.user.id);
  });

  it('a private-relay address is an ordinary verified email: it links an existing account', async () => {
    const email = `${crypto.randomUUID().slice(0, 12)}@privaterelay.appleid.com`;
    const reg = await t.api.post('/v1/auth/register', { email, password: 'a long enough password' });
    expect(reg.status).toBe(201);
    const sub = newSub('001');
    const nonce = newNonce();
    const res = await post('apple', { idToken: await appleToken(sub, nonce, { email, email_verified: 'true', is_private_email: 'true' }), nonce });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(reg.body.user.id);
    expect(await identityCount('apple', sub)).toBe(1);
  });

  it('accepts an ES256 token and a token for the second configured client id', async () => {
    const sub = newSub('001');
    const nonce = newNonce();
    const res = await post('apple', {
      idToken: await appleToken(sub, nonce, { aud: APPLE_WEB_AUD, email: uniqueEmail('es256'), email_verified: true }, { alg: 'ES256' }),
      nonce,
    });
    expect(res.status).toBe(201);
  });

  it('the nonce claim must be the SHA-256 of the raw nonce: the raw nonce itself, or another nonce, is refused', async () => {
    const sub = newSub('001');
    const nonce = newNonce();
    expectRefused(await post('apple', { idToken: await apple.sign({ sub, aud: APPLE_AUD, nonce }), nonce }), 'nonce');
    expectRefused(await post('apple', { idToken: await appleToken(sub, nonce), nonce: newNonce() }), 'nonce');
    expectRefused(await post('apple', { idToken: await apple.sign({ sub, aud: APPLE_AUD, email: uniqueEmail('nononce') }), nonce }), 'nonce');
    expect(await identityCount('apple', sub)).toBe(0);
  });
});

describe('Sign in with Google', () => {
  it('links an existing password account when Google says the email is verified; its unverified password and sessions end', async () => {
    const email = uniqueEmail('google-link');
    const reg = await t.api.post('/v1/auth/register', { email, password: 'a long enough password' });
    const sub = newSub('g');
    const nonce = newNonce();
    const res = await post('google', { idToken: await googleToken(sub, nonce, { email: email.toUpperCase(), email_verified: true }), nonce });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(reg.body.user.id);
    // Registration never verified the address: the password may be a squatter's (pre-hijacking).
    expect((await t.api.post('/v1/auth/login', { email, password: 'a long enough password' })).status).toBe(401);
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken })).status).toBe(401);
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: res.body.refreshToken })).status).toBe(200);
  });

  it('links Apple to an account Google made (its address was verified): the Google session goes on', async () => {
    const email = uniqueEmail('google-then-apple');
    const n1 = newNonce();
    const viaGoogle = await post('google', { idToken: await googleToken(newSub('g'), n1, { email, email_verified: true }), nonce: n1 });
    expect(viaGoogle.status).toBe(201);
    const n2 = newNonce();
    const viaApple = await post('apple', { idToken: await appleToken(newSub('001'), n2, { email, email_verified: 'true' }), nonce: n2 });
    expect(viaApple.status).toBe(200);
    expect(viaApple.body.user.id).toBe(viaGoogle.body.user.id);
    expect((await t.api.post('/v1/auth/refresh', { refreshToken: viaGoogle.body.refreshToken })).status).toBe(200);
  });

  it('refuses to link by an unverified email (409) and writes nothing', async () => {
    const email = uniqueEmail('google-unverified');
    await t.api.post('/v1/auth/register', { email, password: 'a long enough password' });
    const sub = newSub('g');
    const nonce = newNonce();
    expectProblem(await post('google', { idToken: await googleToken(sub, nonce, { email, email_verified: false }), nonce }), 409, 'account_exists_unverified_email');
    // Apple's string form of false is not verified either.
    const nonce2 = newNonce();
    expectProblem(await post('apple', { idToken: await appleToken(sub, nonce2, { email, email_verified: 'false' }), nonce: nonce2 }), 409, 'account_exists_unverified_email');
    expect(await identityCount('google', sub)).toBe(0);
    expect(await identityCount('apple', sub)).toBe(0);
  });

  it('an account made by Google has no password: a password login fails exactly like a wrong one', async () => {
    const email = uniqueEmail('google-nopw');
    const sub = newSub('g');
    const nonce = newNonce();
    const res = await post('google', { idToken: await googleToken(sub, nonce, { email, email_verified: true, name: 'Grace Hopper' }), nonce });
    expect(res.status).toBe(201);
    expect(res.body.user.name).toBe('Grace Hopper');
    const [row] = await t.sql<{ password_hash: string }>(`SELECT password_hash FROM users WHERE id = $1`, [res.body.user.id]);
    expect(row!.password_hash).toBe(NO_PASSWORD_HASH);
    for (const password of [NO_PASSWORD_HASH, 'any password at all', '']) {
      const login = await t.api.post('/v1/auth/login', { email, password: password || 'x' });
      expectProblem(login, 401, 'invalid_credentials');
    }
  });

  it('accepts the issuer without a scheme (accounts.google.com) and a token for the Android client id', async () => {
    const nonce = newNonce();
    const res = await post('google', {
      idToken: await googleToken(newSub('g'), nonce, { iss: 'accounts.google.com', aud: GOOGLE_ANDROID_AUD, email: uniqueEmail('g-iss'), email_verified: true }),
      nonce,
    });
    expect(res.status).toBe(201);
  });

  it('a token without an email and no linked account is refused (email_missing)', async () => {
    const nonce = newNonce();
    expectRefused(await post('google', { idToken: await googleToken(newSub('g'), nonce), nonce }), 'email_missing');
  });

  it('an email claim that is no valid address (over 254 characters, a space) counts as none: email_missing, no account', async () => {
    for (const email of [`a${'x'.repeat(300)}@example.com`, `two words${n}@example.com`]) {
      const nonce = newNonce();
      expectRefused(await post('google', { idToken: await googleToken(newSub('g'), nonce, { email, email_verified: true }), nonce }), 'email_missing');
      expect((await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email.toLowerCase()]))[0]!.n).toBe(0);
    }
  });

  it('a Google name the database cannot hold (a NUL) is left out, not a failed sign-in', async () => {
    const nonce = newNonce();
    const res = await post('google', { idToken: await googleToken(newSub('g'), nonce, { email: uniqueEmail('g-nul'), email_verified: true, name: 'Ada\u0000Lovelace' }), nonce });
    expect(res.status, res.text).toBe(201);
    expect(res.body.user.name).toBeNull();
  });

  it('the nonce must be the raw value the app set', async () => {
    const nonce = newNonce();
    expectRefused(await post('google', { idToken: await googleToken(newSub('g'), sha256(nonce), { email: uniqueEmail('g'), email_verified: true }), nonce }), 'nonce');
  });
});

describe('refusals', () => {
  const valid = { email_verified: true };
  it('wrong audience, wrong issuer, another provider’s token', async () => {
    const nonce = newNonce();
    expectRefused(await post('apple', { idToken: await appleToken(newSub('001'), nonce, { ...valid, aud: 'com.attacker.app' }), nonce }), 'audience');
    expectRefused(await post('google', { idToken: await googleToken(newSub('g'), nonce, { aud: APPLE_AUD }), nonce }), 'audience');
    expectRefused(await post('apple', { idToken: await appleToken(newSub('001'), nonce, { iss: 'https://accounts.google.com' }), nonce }), 'issuer');
    expectRefused(await post('google', { idToken: await googleToken(newSub('g'), nonce, { iss: 'https://evil.example' }), nonce }), 'issuer');
    // A genuine Google token sent to the Apple endpoint: its key is not in Apple's set.
    expectRefused(await post('apple', { idToken: await googleToken(newSub('g'), nonce, { aud: APPLE_AUD, iss: 'https://appleid.apple.com' }), nonce }), 'unknown_key');
  });

  it('expired beyond the clock tolerance; issued in the future; within the tolerance is fine', async () => {
    const now = Math.floor(Date.now() / 1000);
    const nonce = newNonce();
    expectRefused(await post('apple', { idToken: await appleToken(newSub('001'), nonce, {}, { issuedAt: now - 3600, expiresIn: 600 }), nonce }), 'expired');
    expectRefused(await post('apple', { idToken: await appleToken(newSub('001'), nonce, {}, { issuedAt: now + 3600 }), nonce }), 'not_yet_valid');
    // Issued two days ago with a far-off exp: older than any provider issues.
    expectRefused(await post('apple', { idToken: await appleToken(newSub('001'), nonce, {}, { issuedAt: now - 2 * 86400, expiresIn: 3 * 86400 }), nonce }), 'expired');
    const ok = await post('apple', {
      idToken: await appleToken(newSub('001'), nonce, { email: uniqueEmail('skew'), email_verified: true }, { issuedAt: now - 620, expiresIn: 600 }),
      nonce,
    });
    expect(ok.status).toBe(201);
  });

  it('a bad signature, alg none and HS256 (the public key as an HMAC secret) are refused', async () => {
    const nonce = newNonce();
    const good = await appleToken(newSub('001'), nonce, { email: uniqueEmail('sig') });
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'someone-else' })).toString('base64url')}.${s}`;
    expectRefused(await post('apple', { idToken: tampered, nonce }), 'signature');

    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { kid: string };
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: header.kid })).toString('base64url')}.${p}.`;
    expectRefused(await post('apple', { idToken: none, nonce }), 'signature');

    const jwks = (await (await fetch(apple.url)).json()) as { keys: { kid: string; n?: string }[] };
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys.find((k) => k.kid === header.kid)));
    const hs256 = await new SignJWT(JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>)
      .setProtectedHeader({ alg: 'HS256', kid: header.kid })
      .sign(secret);
    expectRefused(await post('apple', { idToken: hs256, nonce }), 'signature');
    expectRefused(await post('apple', { idToken: 'not.a.jwt-at-all-really', nonce }), 'malformed');
  });

  it('a body without the nonce is 422', async () => {
    const res = await post('apple', { idToken: await appleToken(newSub('001'), newNonce()) });
    expectProblem(res, 422, 'validation_failed');
  });
});

describe('key rotation', () => {
  it('a token signed with a newly published key is accepted: the key set is refetched on the unknown kid', async () => {
    const nonce = newNonce();
    // Warm the cache with the current keys.
    expect((await post('google', { idToken: await googleToken(newSub('g'), nonce, { email: uniqueEmail('rot'), email_verified: true }), nonce })).status).toBe(201);
    const before = google.fetches();
    await google.rotate();
    for (const alg of ['RS256', 'ES256'] as const) {
      const res = await post('google', { idToken: await googleToken(newSub('g'), nonce, { email: uniqueEmail('rot'), email_verified: true }, { alg }), nonce });
      expect(res.status).toBe(201);
    }
    expect(google.fetches()).toBe(before + 1);
  });

  it('a key the provider does not publish is refused with unknown_key, after a refetch; accepted once published', async () => {
    const nonce = newNonce();
    await apple.rotate({ publish: false });
    const sub = newSub('001');
    const token = await appleToken(sub, nonce, { email: uniqueEmail('unpub'), email_verified: true });
    const before = apple.fetches();
    expectRefused(await post('apple', { idToken: token, nonce }), 'unknown_key');
    expect(apple.fetches()).toBe(before + 1);
    apple.publishAll();
    expect((await post('apple', { idToken: token, nonce })).status).toBe(201);
  });

  it('with a cooldown, a flood of unknown kids costs one fetch, and none while cooling down', async () => {
    const idp = await startJwksStandIn('apple');
    const app = await createTestApp({ env: { ...env(), APPLE_JWKS_URL: idp.url, OAUTH_JWKS_COOLDOWN_SECONDS: '3600' } });
    try {
      const nonce = newNonce();
      const sign = (kid?: string) => idp.sign({ sub: newSub('001'), aud: APPLE_AUD, nonce: sha256(nonce), email: uniqueEmail('cool'), email_verified: true }, kid ? { kid } : {});
      expect((await post('apple', { idToken: await sign(), nonce }, app)).status).toBe(201);
      expect(idp.fetches()).toBe(1);
      const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => post('apple', { idToken: await sign(`made-up-${i}`), nonce }, app)));
      for (const a of answers) expectRefused(a, 'unknown_key');
      expect(idp.fetches()).toBe(1);
    } finally {
      await app.close();
      await idp.close();
    }
  });

  it('the key set cannot be fetched: 503 service_unavailable with Retry-After, nothing written', async () => {
    const idp = await startJwksStandIn('google');
    const app = await createTestApp({ env: { ...env(), GOOGLE_JWKS_URL: idp.url } });
    try {
      idp.failNext(500);
      const nonce = newNonce();
      const sub = newSub('g');
      const res = await post('google', { idToken: await idp.sign({ sub, aud: GOOGLE_AUD, nonce, email: uniqueEmail('down'), email_verified: true }), nonce }, app);
      expectProblem(res, 503, 'service_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await identityCount('google', sub)).toBe(0);
      // The next request fetches again and succeeds.
      expect((await post('google', { idToken: await idp.sign({ sub, aud: GOOGLE_AUD, nonce, email: uniqueEmail('down'), email_verified: true }), nonce }, app)).status).toBe(201);
    } finally {
      await app.close();
      await idp.close();
    }
  });
});

describe('configuration and accounts', () => {
  it('without client ids the provider answers 503 provider_not_configured with Retry-After', async () => {
    const app = await createTestApp({ env: { GOOGLE_CLIENT_IDS: GOOGLE_AUD, GOOGLE_JWKS_URL: google.url } });
    try {
      const nonce = newNonce();
      const res = await post('apple', { idToken: await appleToken(newSub('001'), nonce), nonce }, app);
      expectProblem(res, 503, 'provider_not_configured');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      // The other provider, configured, works.
      expect((await post('google', { idToken: await googleToken(newSub('g'), nonce, { email: uniqueEmail('cfg'), email_verified: true }), nonce }, app)).status).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('a disabled account answers 401 invalid_credentials, by sub and by verified email, and is not linked', async () => {
    const email = uniqueEmail('disabled');
    const sub = newSub('001');
    const nonce = newNonce();
    const created = await post('apple', { idToken: await appleToken(sub, nonce, { email, email_verified: 'true' }), nonce });
    expect(created.status).toBe(201);
    await t.sql(`UPDATE users SET disabled_at = now() WHERE id = $1`, [created.body.user.id]);
    expectProblem(await post('apple', { idToken: await appleToken(sub, nonce), nonce }), 401, 'invalid_credentials');
    const gsub = newSub('g');
    expectProblem(await post('google', { idToken: await googleToken(gsub, nonce, { email, email_verified: true }), nonce }), 401, 'invalid_credentials');
    expect(await identityCount('google', gsub)).toBe(0);
  });

  it('10 concurrent first sign-ins with the same sub create ONE account', async () => {
    const sub = newSub('001');
    const email = uniqueEmail('race');
    const nonce = newNonce();
    const token = await appleToken(sub, nonce, { email, email_verified: 'true' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('apple', { idToken: token, nonce })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.user.id)).size).toBe(1);
    const [users] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email]);
    expect(users!.n).toBe(1);
    expect(await identityCount('apple', sub)).toBe(1);
    const [tokens] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1`, [answers[0]!.body.user.id]);
    expect(tokens!.n).toBe(10);
  });

  it('concurrent Apple and Google first sign-ins for one new verified email end as one account with both linked', async () => {
    const email = uniqueEmail('both');
    const nonce = newNonce();
    const [a, g] = await Promise.all([
      post('apple', { idToken: await appleToken(newSub('001'), nonce, { email, email_verified: 'true' }), nonce }),
      post('google', { idToken: await googleToken(newSub('g'), nonce, { email, email_verified: true }), nonce }),
    ]);
    expect([a.status, g.status].sort()).toEqual([200, 201]);
    expect(a.body.user.id).toBe(g.body.user.id);
    const [row] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM user_identities WHERE user_id = $1`, [a.body.user.id]);
    expect(row!.n).toBe(2);
  });
});
