/**
 * Round trips of account recovery (issue 18) on the real neon-http driver, counted by the local
 * Neon endpoint: a reset request is ONE statement for a known and an unknown address alike;
 * registration still costs what it did (its verification email rides in the account's statement).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNeonServer } from '../../tools/local-neon/index.js';
import { uniqueEmail } from '../support/client.js';
import { createNeonTestApp, roundTripsOf as countTrips, type NeonTestApp } from '../support/neon-app.js';
import type { TestApp } from '../support/node-app.js';
import { tokenFrom } from '../support/recovery-tokens.js';

let app: NeonTestApp;
let endpoint: LocalNeonServer;
let t: TestApp;
beforeAll(async () => {
  app = await createNeonTestApp();
  ({ t, endpoint } = app);
});
afterAll(async () => {
  await app.close();
});

const trips = async (call: () => Promise<{ status: number; text?: string }>, status: number) => (await countTrips(endpoint, call, status)).trips;
const from = { headers: { 'x-forwarded-for': '203.0.113.80' } };
const password = 'round trip password';

describe('account recovery round trips (neon-http driver)', () => {
  it('reset request: one statement, known or unknown; confirm two; registration still two; verify-email one; resend one; email change two', async () => {
    const email = uniqueEmail('rt-recovery');
    expect(await trips(() => t.api.post('/v1/auth/register', { email, password }, from), 201)).toBe(2);
    expect(await trips(() => t.api.post('/v1/auth/password-reset', { email }, from), 202)).toBe(1);
    expect(await trips(() => t.api.post('/v1/auth/password-reset', { email: uniqueEmail('rt-nobody') }, from), 202)).toBe(1);
    const reset = await tokenFrom(t, email, 'password_reset');
    expect(await trips(() => t.api.post('/v1/auth/password-reset/confirm', { token: reset, newPassword: 'new round trip pw' }, from), 200)).toBe(2);
    // A refused token costs the first statement only (no hashing, no write).
    expect(await trips(() => t.api.post('/v1/auth/password-reset/confirm', { token: reset, newPassword: 'new round trip pw' }, from), 410)).toBe(1);

    const login = await t.api.post('/v1/auth/login', { email, password: 'new round trip pw' });
    const as = { token: login.body.accessToken as string };
    expect(await trips(() => t.api.post('/v1/me/email-verification', undefined, as), 409)).toBe(1);
    const newEmail = uniqueEmail('rt-moved');
    expect(await trips(() => t.api.post('/v1/me/email', { newEmail, password: 'new round trip pw' }, as), 202)).toBe(2);
    const code = await tokenFrom(t, newEmail, 'email_verification');
    expect(await trips(() => t.api.post('/v1/auth/verify-email', { token: code }, from), 200)).toBe(1);
  });
});
