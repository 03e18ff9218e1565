/**
 * Email verification and email change (issue 18) through the app on the test database:
 * registration writes the verification in its own statement; verify-email marks the account
 * verified (GET /v1/me `emailVerified`) once; resend is refused when verified and throttled; an
 * email change verifies the NEW address (sent there through the Resend stand-in) before it
 * replaces the old one, which is told afterwards; an address taken in between is 409; login
 * keeps working on the current email throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESEND_MAX_PER_ACCOUNT } from '../../src/modules/auth/email-verification.js';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { dispatchEmails, latestMail, tokenFrom } from '../support/recovery.js';
import { startResendStandIn, type ResendStandIn } from '../support/stand-ins/notify-resend.js';

let t: TestApp;
let resend: ResendStandIn;
beforeAll(async () => {
  t = await createTestApp({ stripe: false });
  resend = await startResendStandIn();
});
afterAll(async () => {
  await t?.close();
  await resend?.close();
});

const password = 'verify me password';

async function customer() {
  const email = uniqueEmail('verify');
  const res = await t.api.post('/v1/auth/register', { email, password });
  expect(res.status, res.text).toBe(201);
  return { email, token: res.body.accessToken as string };
}

const me = async (token: string) => (await t.api.get('/v1/me', { token })).body;

describe('email verification', () => {
  it('registration sends a token; verify-email marks the account verified once; the same token then answers 410', async () => {
    const { email, token } = await customer();
    expect((await me(token)).emailVerified).toBe(false);
    const code = await tokenFrom(t, email, 'email_verification');
    const ok = await t.api.post('/v1/auth/verify-email', { token: code });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ email });
    expect((await me(token)).emailVerified).toBe(true);
    expectProblem(await t.api.post('/v1/auth/verify-email', { token: code }), 410, 'recovery_token_used');
    expectProblem(await t.api.post('/v1/me/email-verification', undefined, { token }), 409, 'email_already_verified');
  });

  it(`resend: exactly ${RESEND_MAX_PER_ACCOUNT} of ${RESEND_MAX_PER_ACCOUNT + 3} parallel requests send, the rest 429`, async () => {
    const { email, token } = await customer();
    const answers = await Promise.all(Array.from({ length: RESEND_MAX_PER_ACCOUNT + 3 }, () => t.api.post('/v1/me/email-verification', undefined, { token })));
    expect(answers.filter((r) => r.status === 202)).toHaveLength(RESEND_MAX_PER_ACCOUNT);
    for (const r of answers.filter((x) => x.status !== 202)) expectProblem(r, 429, 'too_many_attempts');
    const [rows] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM notification_outbox WHERE type = 'email_verification' AND recipient = $1`, [email]);
    expect(rows!.n).toBe(1 + RESEND_MAX_PER_ACCOUNT);
  });
});

describe('POST /v1/me/email', () => {
  it('verifies the new address first, then switches; the old address is told; login follows the current email', async () => {
    const { email, token } = await customer();
    const newEmail = uniqueEmail('moved');
    expectProblem(await t.api.post('/v1/me/email', { newEmail, password: 'wrong password' }, { token }), 403, 'current_password_incorrect');
    const asked = await t.api.post('/v1/me/email', { newEmail, password }, { token });
    expect(asked.status, asked.text).toBe(202);
    // Nothing changed yet: the current email still logs in, the new one does not.
    expect((await me(token)).email).toBe(email);
    expect((await t.api.post('/v1/auth/login', { email, password })).status).toBe(200);
    expectProblem(await t.api.post('/v1/auth/login', { email: newEmail, password }), 401, 'invalid_credentials');

    await dispatchEmails(t, resend);
    const toNew = resend.emails.filter((e) => e.to.includes(newEmail));
    expect(toNew.map((e) => e.subject)).toEqual(['Confirm your email']);
    const code = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(toNew[0]!.text ?? '')![1]!;

    const ok = await t.api.post('/v1/auth/verify-email', { token: code });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ email: newEmail });
    const now = await me(token);
    expect({ email: now.email, emailVerified: now.emailVerified }).toEqual({ email: newEmail, emailVerified: true });
    expect((await t.api.post('/v1/auth/login', { email: newEmail, password })).status).toBe(200);
    expectProblem(await t.api.post('/v1/auth/login', { email, password }), 401, 'invalid_credentials');

    const notice = await latestMail(t, email, 'email_changed');
    expect(notice?.data).toEqual({ newEmail });
    await dispatchEmails(t, resend);
    const told = resend.emails.filter((e) => e.to.includes(email) && e.subject === 'Your email was changed');
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toContain(`${newEmail[0]}***@example.test`);
  });

  it('409 email_taken when the new address is an account’s, at the request or by the time the token is used', async () => {
    const other = await customer();
    const { token } = await customer();
    expectProblem(await t.api.post('/v1/me/email', { newEmail: other.email, password }, { token }), 409, 'email_taken');

    const newEmail = uniqueEmail('race');
    expect((await t.api.post('/v1/me/email', { newEmail, password }, { token })).status).toBe(202);
    const code = await tokenFrom(t, newEmail, 'email_verification');
    expect((await t.api.post('/v1/auth/register', { email: newEmail, password: 'someone else 123' })).status).toBe(201);
    expectProblem(await t.api.post('/v1/auth/verify-email', { token: code }), 409, 'email_taken');
    expect((await me(token)).email).not.toBe(newEmail);
  });

  it('an email-change token dies with a password change (400 recovery_token_invalid)', async () => {
    const { token } = await customer();
    const newEmail = uniqueEmail('void');
    expect((await t.api.post('/v1/me/email', { newEmail, password }, { token })).status).toBe(202);
    const code = await tokenFrom(t, newEmail, 'email_verification');
    expect((await t.api.post('/v1/me/password', { currentPassword: password, newPassword: 'changed password 1' }, { token })).status).toBe(200);
    expectProblem(await t.api.post('/v1/auth/verify-email', { token: code }), 400, 'recovery_token_invalid');
  });

  it('parallel verify-email with one token: exactly one 200, the rest 410 recovery_token_used', async () => {
    const { email } = await customer();
    const code = await tokenFrom(t, email, 'email_verification');
    const answers = await Promise.all(Array.from({ length: 4 }, () => t.api.post('/v1/auth/verify-email', { token: code })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 200)) expectProblem(r, 410, 'recovery_token_used');
  });
});
