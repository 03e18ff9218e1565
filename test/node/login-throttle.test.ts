/**
 * The login throttle seen from the password hasher: how many guesses reach Argon2id, and what
 * happens to an admitted attempt whose hashing fails. The same limits are checked through HTTP
 * answers on both runtimes in test/journeys/auth.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasswordHasher } from '../../src/auth/password.js';
import { LOGIN_ATTEMPT_SLOT_S, LOGIN_FREE_FAILURES } from '../../src/modules/auth/login.js';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
let real: PasswordHasher;
let verified = 0;
let failNext = false;

beforeAll(async () => {
  t = await createTestApp();
  real = t.deps.passwords;
  // The app reads deps per request, so swapping the hasher on the shared object takes effect.
  t.deps.passwords = {
    hash: (p) => real.hash(p),
    needsRehash: (phc) => real.needsRehash(phc),
    verify: async (p, phc) => {
      verified++;
      if (failNext) {
        failNext = false;
        throw new Error('hashing pool exploded');
      }
      return real.verify(p, phc);
    },
  };
});
afterAll(async () => {
  await t.close();
});

const keyOf = (email: string) => t.deps.sha256Hex(`login-throttle:${email}`);
const throttleRow = async (email: string) =>
  (await t.sql<{ failures: number; in_flight: number }>(`SELECT failures, in_flight FROM login_throttle WHERE email_key = $1`, [await keyOf(email)]))[0];

async function registered(): Promise<string> {
  const email = uniqueEmail('hasher');
  expect((await t.api.post('/v1/auth/register', { email, password: 'the right password' })).status).toBe(201);
  return email;
}

describe('login throttle, counted at the hasher', () => {
  it(`30 parallel wrong passwords for one address: exactly ${LOGIN_FREE_FAILURES} reach the hasher`, async () => {
    const email = await registered();
    verified = 0;
    const answers = await Promise.all(Array.from({ length: 30 }, () => t.api.post('/v1/auth/login', { email, password: 'wrong guess' })));
    expect(verified).toBe(LOGIN_FREE_FAILURES);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(LOGIN_FREE_FAILURES);
    // Locked now: the right password is not even hashed.
    expectProblem(await t.api.post('/v1/auth/login', { email, password: 'the right password' }), 429, 'too_many_attempts');
    expect(verified).toBe(LOGIN_FREE_FAILURES);
  });

  it('an attempt whose hashing fails gives its place back and leaves no refresh token behind', async () => {
    const email = await registered();
    const tokensBefore = (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM refresh_tokens r JOIN users u ON u.id = r.user_id WHERE u.email = $1`, [email]))[0]!.n;
    failNext = true;
    expect((await t.api.post('/v1/auth/login', { email, password: 'the right password' })).status).toBe(500);
    // The release runs in the background on Node: wait for it.
    await expect.poll(async () => (await throttleRow(email))?.in_flight).toBe(0);
    expect((await throttleRow(email))?.failures).toBe(0);
    const tokensAfter = (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM refresh_tokens r JOIN users u ON u.id = r.user_id WHERE u.email = $1`, [email]))[0]!.n;
    expect(tokensAfter).toBe(tokensBefore);
  });

  it(`places held by crashed requests lapse after ${LOGIN_ATTEMPT_SLOT_S} s`, async () => {
    const email = await registered();
    const key = await keyOf(email);
    // Five attempts admitted and never settled (their processes died), just now: all refused ...
    await t.sql(`INSERT INTO login_throttle (email_key, failures, last_failure_at, in_flight, in_flight_at) VALUES ($1, 0, now(), 5, now())`, [key]);
    const busy = expectProblem(await t.api.post('/v1/auth/login', { email, password: 'the right password' }), 429, 'too_many_attempts');
    expect(busy.details.retryAfterSeconds).toBe(1);
    // ... until their places lapse.
    await t.sql(`UPDATE login_throttle SET in_flight_at = now() - make_interval(secs => $2) WHERE email_key = $1`, [key, LOGIN_ATTEMPT_SLOT_S + 1]);
    expect((await t.api.post('/v1/auth/login', { email, password: 'the right password' })).status).toBe(200);
  });
});
