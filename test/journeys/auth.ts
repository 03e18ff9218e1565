import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail } from '../support/client.js';
import type { Harness } from '../support/harness.js';

/** The auth journey and its bad inputs; runs on Node and inside workerd. */
export function authJourney(harness: () => Harness) {
  const register = async (email = uniqueEmail(), password = 'correct horse battery') => {
    const res = await harness().api.post('/v1/auth/register', { email, password, name: 'Ada' });
    expect(res.status, res.text).toBe(201);
    return { email, password, session: res.body };
  };

  const sha256Hex = async (text: string) => {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  const keyOf = (e: string) => sha256Hex(`login-throttle:${e}`);
  const row = async (e: string) =>
    (await harness().sql<{ failures: number; locked: boolean }>(`SELECT failures, COALESCE(locked_until > now(), false) AS locked FROM login_throttle WHERE email_key = $1`, [await keyOf(e)]))[0];
  const count = (answers: Array<{ status: number }>, status: number) => answers.filter((a) => a.status === status).length;
  const hex4 = () => Math.floor(Math.random() * 0x10000).toString(16);
  /** A client address as each runtime's edge would report it (workerd: CF-Connecting-IP; Node: one trusted proxy). */
  const from = (ip: string) => ({ headers: { 'cf-connecting-ip': ip, 'x-forwarded-for': ip } });

  describe('auth journey', () => {
    it('register → login → me → refresh → repeat within the grace window → reuse detection → logout', async () => {
      const { api } = harness();
      const email = uniqueEmail('Journey').toUpperCase();
      const reg = await register(email, 'correct horse battery');
      expect(reg.session).toMatchObject({
        user: { email: email.toLowerCase(), role: 'customer', name: 'Ada' },
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      expect(reg.session.user.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(JSON.stringify(reg.session)).not.toContain('correct horse');

      const login = await api.post('/v1/auth/login', { email: email.toLowerCase(), password: 'correct horse battery' });
      expect(login.status, login.text).toBe(200);
      expect(login.body.user.id).toBe(reg.session.user.id);

      const me = await api.get('/v1/me', { token: login.body.accessToken });
      expect(me.status, me.text).toBe(200);
      // GET /v1/me is the session's user plus what notifications need (PATCH /v1/me sets them) and emailVerified (issue 18).
      expect(me.body).toEqual({ ...reg.session.user, phone: null, locale: null, emailVerified: false });

      const rotated = await api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
      expect(rotated.status, rotated.text).toBe(200);
      expect(rotated.body.refreshToken).not.toBe(login.body.refreshToken);
      expect((await api.get('/v1/me', { token: rotated.body.accessToken })).status).toBe(200);

      // The old token again within the grace window (a concurrent refresh of the same app): the same successor.
      const repeat = await api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
      expect(repeat.status, repeat.text).toBe(200);
      expect(repeat.body.refreshToken).toBe(rotated.body.refreshToken);

      // After the window (the rotation aged past the default 30 s): a replay. The whole chain dies, including the newest token.
      await harness().sql(`UPDATE refresh_tokens SET revoked_at = revoked_at - interval '31 seconds' WHERE token_hash = $1`, [await sha256Hex(login.body.refreshToken)]);
      const replay = await api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
      expectProblem(replay, 401, 'refresh_token_reused');
      const descendant = await api.post('/v1/auth/refresh', { refreshToken: rotated.body.refreshToken });
      expectProblem(descendant, 401, 'refresh_token_reused');

      // Other sessions (the one from registration) are a separate chain and still work.
      const other = await api.post('/v1/auth/refresh', { refreshToken: reg.session.refreshToken });
      expect(other.status, other.text).toBe(200);

      const out = await api.post('/v1/auth/logout', { refreshToken: other.body.refreshToken });
      expect(out.status).toBe(204);
      expect(out.text).toBe('');
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: other.body.refreshToken }), 401, 'refresh_token_revoked');
      expect((await api.post('/v1/auth/logout', { refreshToken: other.body.refreshToken })).status).toBe(204);
    });

    it('registration always makes a customer and rejects a duplicate email in any case', async () => {
      const { api } = harness();
      const email = uniqueEmail('dup');
      await register(email);
      const again = await api.post('/v1/auth/register', { email: `  ${email.toUpperCase()} `, password: 'another password' });
      expectProblem(again, 409, 'email_taken');
      const escalate = await api.post('/v1/auth/register', { email: uniqueEmail(), password: 'long enough', role: 'admin' });
      const body = expectProblem(escalate, 422, 'validation_failed');
      expect(body.errors).toEqual([expect.objectContaining({ field: 'body' })]);
    });

    it('throttles guessing per email, known or not: locked after 5 failures, doubling, a success ends the run', async () => {
      const h = harness();
      const { email, password } = await register();
      const ghost = uniqueEmail('ghost');
      const login = (e: string, p: string) => h.api.post('/v1/auth/login', { email: e, password: p });

      // Four failures, then the right password: in, and the run is over.
      for (let i = 0; i < 4; i++) expectProblem(await login(email, 'wrong guess'), 401, 'invalid_credentials');
      expect(await row(email)).toEqual({ failures: 4, locked: false });
      expect((await login(email, password)).status).toBe(200);
      expect(await row(email)).toEqual({ failures: 0, locked: false });

      // Five in a row lock the address, for a real account and an unknown one alike.
      for (const e of [email, ghost]) {
        for (let i = 0; i < 5; i++) expectProblem(await login(e, 'wrong guess'), 401, 'invalid_credentials');
        expect(await row(e)).toEqual({ failures: 5, locked: true });
      }
      for (const [e, p] of [[email, password], [ghost, 'wrong guess']] as const) {
        const locked = await login(e, p);
        expect(expectProblem(locked, 429, 'too_many_attempts').details.retryAfterSeconds).toBeLessThanOrEqual(60);
        expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
      }
      // Attempts while locked are not counted.
      expect(await row(email)).toEqual({ failures: 5, locked: true });

      // The minute passes (back-dated here): the next failure locks for twice as long ...
      await h.sql(`UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE email_key = $1`, [await keyOf(email)]);
      expectProblem(await login(email, 'wrong guess'), 401, 'invalid_credentials');
      const longer = await login(email, password);
      expectProblem(longer, 429, 'too_many_attempts');
      expect(Number(longer.headers.get('retry-after'))).toBeGreaterThan(110);
      // ... and once it is over, the right password gets in and clears the record.
      await h.sql(`UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE email_key = $1`, [await keyOf(email)]);
      expect((await login(email, password)).status).toBe(200);
      expect(await row(email)).toEqual({ failures: 0, locked: false });
    });

    it('ten logins in a row with the right password all get in: a success gives its place back', async () => {
      const h = harness();
      const { email, password } = await register();
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await h.api.post('/v1/auth/login', { email, password })).status);
      expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
    });

    it('counts each guess before hashing: 30 parallel wrong passwords get exactly 5 × 401 and 25 × 429', async () => {
      const h = harness();
      const { email, password } = await register();
      const answers = await Promise.all(Array.from({ length: 30 }, () => h.api.post('/v1/auth/login', { email, password: 'wrong guess' })));
      expect({ 401: count(answers, 401), 429: count(answers, 429) }).toEqual({ 401: 5, 429: 25 });
      for (const refused of answers.filter((a) => a.status === 429)) {
        expectProblem(refused, 429, 'too_many_attempts');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(await row(email)).toEqual({ failures: 5, locked: true });
      expectProblem(await h.api.post('/v1/auth/login', { email, password }), 429, 'too_many_attempts');
    });

    it('a right password among 19 parallel wrong ones does not reset the count for the others', async () => {
      const h = harness();
      const { email, password } = await register();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.api.post('/v1/auth/login', { email, password: i === 10 ? password : 'wrong guess' })),
      );
      const right = answers[10]!;
      const wrong = answers.filter((_, i) => i !== 10);
      const hashedWrong = count(wrong, 401);
      // At most 5 wrong guesses are ever hashed, whatever the right one did ...
      expect(hashedWrong).toBeGreaterThanOrEqual(4);
      expect(hashedWrong).toBeLessThanOrEqual(5);
      expect(count(wrong, 429)).toBe(19 - hashedWrong);
      expect([200, 429]).toContain(right.status);
      // ... and every one of them still counts: the success forgave none of them.
      expect((await row(email))?.failures).toBe(hashedWrong);
    });

    it('throttles registration per client address before hashing (an IPv6 /64 is one client); other addresses are unaffected', async () => {
      const h = harness();
      const net = `2001:db8:${hex4()}:${hex4()}`;
      const answers = await Promise.all(
        Array.from({ length: 14 }, (_, i) =>
          h.api.post('/v1/auth/register', { email: uniqueEmail('burst'), password: 'correct horse battery' }, from(`${net}::${i + 1}`)),
        ),
      );
      expect({ 201: count(answers, 201), 429: count(answers, 429) }).toEqual({ 201: 10, 429: 4 });
      for (const refused of answers.filter((a) => a.status === 429)) {
        expectProblem(refused, 429, 'too_many_attempts');
        const seconds = Number(refused.headers.get('retry-after'));
        expect(seconds).toBeGreaterThan(500);
        expect(seconds).toBeLessThanOrEqual(600);
      }
      const other = await h.api.post('/v1/auth/register', { email: uniqueEmail('other'), password: 'correct horse battery' }, from(`2001:db8:${hex4()}:${hex4()}::1`));
      expect(other.status, other.text).toBe(201);
    });

    it('a wrong password and an unknown email get the same answer', async () => {
      const { api } = harness();
      const { email } = await register();
      const wrong = await api.post('/v1/auth/login', { email, password: 'not the password' });
      const unknown = await api.post('/v1/auth/login', { email: uniqueEmail('ghost'), password: 'not the password' });
      const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
      expectProblem(wrong, 401, 'invalid_credentials');
      expectProblem(unknown, 401, 'invalid_credentials');
      expect(strip(wrong.body)).toEqual(strip(unknown.body));
    });

    it('rejects missing, tampered, expired, alg:none and wrongly-signed access tokens', async () => {
      const { api, jwtSecret } = harness();
      const { session } = await register();
      const token: string = session.accessToken;
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: session.user.id, role: 'admin', iss: 'laundry-api' };
      const b64url = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
      const [header, , signature] = token.split('.');
      const cases: Array<[string, Record<string, string>, string]> = [
        ['missing', {}, 'auth_required'],
        ['not bearer', { authorization: `Basic ${btoa('a:b')}` }, 'invalid_token'],
        ['garbage', { authorization: 'Bearer not.a.jwt' }, 'invalid_token'],
        // Same signature, escalated payload.
        ['tampered', { authorization: `Bearer ${header}.${b64url({ ...claims, iat: now, exp: now + 600 })}.${signature}` }, 'invalid_token'],
        ['alg none', { authorization: `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, iat: now, exp: now + 600 })}.` }, 'invalid_token'],
        ['other secret', { authorization: `Bearer ${await sign({ ...claims, iat: now, exp: now + 600 }, 'x'.repeat(40), 'HS256')}` }, 'invalid_token'],
        ['expired', { authorization: `Bearer ${await sign({ ...claims, role: 'customer', iat: now - 3600, exp: now - 60 }, jwtSecret, 'HS256')}` }, 'token_expired'],
        ['no exp', { authorization: `Bearer ${await sign({ ...claims, role: 'customer', iat: now }, jwtSecret, 'HS256')}` }, 'invalid_token'],
        ['sub not a uuid', { authorization: `Bearer ${await sign({ ...claims, sub: 'not-a-uuid', iat: now, exp: now + 600 }, jwtSecret, 'HS256')}` }, 'invalid_token'],
        ['issued 60 s ahead', { authorization: `Bearer ${await sign({ ...claims, role: 'customer', iat: now + 60, exp: now + 660 }, jwtSecret, 'HS256')}` }, 'invalid_token'],
        ['not before 60 s ahead', { authorization: `Bearer ${await sign({ ...claims, role: 'customer', iat: now, nbf: now + 60, exp: now + 600 }, jwtSecret, 'HS256')}` }, 'invalid_token'],
      ];
      for (const [name, headers, code] of cases) {
        const res = await api.get('/v1/me', { headers });
        expect({ name, status: res.status, code: res.body?.code }).toEqual({ name, status: 401, code });
        expectProblem(res, 401, code);
      }
      // Another pod's clock 1 s ahead (within the 30 s leeway): accepted.
      const skewed = await sign({ ...claims, role: 'customer', iat: now + 1, nbf: now + 1, exp: now + 601 }, jwtSecret, 'HS256');
      expect((await api.get('/v1/me', { token: skewed })).status).toBe(200);
    });

    it('answers bad bodies with 4xx problems, never 500', async () => {
      const { api } = harness();
      expectProblem(await api.post('/v1/auth/login', undefined, { rawBody: '{"email": "a@b.c", ' }), 400, 'malformed_json');

      const wrongTypes = expectProblem(await api.post('/v1/auth/register', { email: 42, password: ['x'] }), 422, 'validation_failed');
      expect(wrongTypes.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.email', 'body.password']);

      const missing = expectProblem(await api.post('/v1/auth/login', { email: uniqueEmail() }), 422, 'validation_failed');
      expect(missing.errors).toEqual([expect.objectContaining({ field: 'body.password' })]);

      const short = expectProblem(await api.post('/v1/auth/register', { email: uniqueEmail(), password: 'short' }), 422, 'validation_failed');
      expect(short.errors[0].field).toBe('body.password');

      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: 12345 }), 422, 'validation_failed');
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken: 'x'.repeat(43) }), 401, 'invalid_refresh_token');

      const huge = { email: uniqueEmail(), password: 'p'.repeat(100), name: 'n'.repeat(200_000) };
      expectProblem(await api.post('/v1/auth/register', huge), 413, 'payload_too_large');

      const form = await api.post('/v1/auth/login', undefined, {
        rawBody: 'email=a@b.c&password=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(form, 415, 'unsupported_media_type');
    });
  });
}
