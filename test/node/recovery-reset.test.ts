/**
 * Password reset (issue 18) through the app on the test database: known and unknown addresses
 * answer alike and write alike; a token works once, expires, dies with any password change;
 * confirming ends every session; concurrent confirms with one token: exactly one wins; the
 * throttles hold under parallel requests; the outbox never holds the raw token, the dispatcher
 * sends the email to the right address through the Resend stand-in and then scrubs the sealed
 * token; the inbox never shows account emails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESET_MAX_PER_ADDRESS, RESET_MAX_PER_IP } from '../../src/modules/auth/password-reset.js';
import { sweepRetention } from '../../src/modules/jobs/retention.js';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { testClock } from '../support/notify-fakes.js';
import { dispatchEmails, latestMail, tokenFrom } from '../support/recovery.js';
import { startResendStandIn, type ResendStandIn } from '../support/stand-ins/notify-resend.js';

let t: TestApp;
let resend: ResendStandIn;
beforeAll(async () => {
  t = await createTestApp({ stripe: false, env: { APP_LINK_BASE: 'https://app.laundry.example' } });
  resend = await startResendStandIn();
});
afterAll(async () => {
  await t?.close();
  await resend?.close();
});

const password = 'old password 123';
const newPassword = 'brand new password 456';
let ipN = 0;
/** A client address of its own per test, so the per-address throttles of one test do not meet another's. */
const fromIp = () => ({ headers: { 'x-forwarded-for': `198.51.100.${++ipN}` } });

async function customer() {
  const email = uniqueEmail('reset');
  const res = await t.api.post('/v1/auth/register', { email, password });
  expect(res.status, res.text).toBe(201);
  return { email, id: res.body.user.id as string, session: res.body };
}

const countRows = async (email: string) =>
  (await t.sql<{ tokens: number; mails: number }>(
    `SELECT (SELECT count(*)::int FROM account_tokens WHERE purpose = 'password_reset' AND email = $1) AS tokens,
            (SELECT count(*)::int FROM notification_outbox WHERE type = 'password_reset' AND recipient = $1) AS mails`,
    [email],
  ))[0]!;

describe('POST /v1/auth/password-reset', () => {
  it('answers a known and an unknown address alike (status, body, headers but the request id); only the known one gets a token and an email', async () => {
    const { email } = await customer();
    const unknown = uniqueEmail('nobody');
    const a = await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const b = await t.api.post('/v1/auth/password-reset', { email: unknown }, fromIp());
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.text).toBe(b.text);
    const headers = (h: Headers) => {
      const kept: Array<[string, string]> = [];
      h.forEach((value, name) => void (name === 'x-request-id' || kept.push([name, value])));
      return kept;
    };
    expect(headers(a.headers)).toEqual(headers(b.headers));
    expect(await countRows(email)).toEqual({ tokens: 1, mails: 1 });
    expect(await countRows(unknown)).toEqual({ tokens: 0, mails: 0 });
  });

  it('keeps the token out of the outbox in plain text; the dispatcher emails the link to the account’s address, then scrubs the sealed token', async () => {
    const { email } = await customer();
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const token = await tokenFrom(t, email, 'password_reset');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = (await latestMail(t, email, 'password_reset'))!;
    expect(JSON.stringify(row)).not.toContain(token);
    const [stored] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM account_tokens WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')`, [token]);
    expect(stored!.n).toBe(1);

    await dispatchEmails(t, resend);
    // Registration's verification email went out too; the reset is the other one.
    const sent = resend.emails.filter((e) => e.to.includes(email) && e.subject === 'Reset your password');
    expect(sent).toHaveLength(1);
    expect(resend.emails.filter((e) => e.to.includes(email)).map((e) => e.subject).sort()).toEqual(['Confirm your email', 'Reset your password']);
    expect(sent[0]!.text).toContain(`https://app.laundry.example/reset-password?token=${token}`);
    expect(sent[0]!.text).toContain(`\n${token}\n`);
    const after = (await latestMail(t, email, 'password_reset'))!;
    expect(after.data.sealed).toBeUndefined();
    const [delivery] = await t.sql<{ channel: string; state: string; n: number }>(
      `SELECT min(channel::text) AS channel, min(state::text) AS state, count(*)::int AS n FROM notification_deliveries WHERE outbox_id = $1::bigint`,
      [after.id],
    );
    expect(delivery).toEqual({ channel: 'email', state: 'sent', n: 1 });
  });

  it('never shows account emails in the in-app inbox, nor counts them unread', async () => {
    const { email, session } = await customer();
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const inbox = await t.api.get('/v1/me/notifications', { token: session.accessToken });
    expect(inbox.status, inbox.text).toBe(200);
    expect(inbox.body.data).toEqual([]);
    expect(inbox.body.unreadCount).toBe(0);
  });

  it(`lets exactly ${RESET_MAX_PER_ADDRESS} of ${RESET_MAX_PER_ADDRESS + 4} parallel requests for one address through (429 with Retry-After for the rest), known or not`, async () => {
    for (const email of [(await customer()).email, uniqueEmail('nobody')]) {
      const answers = await Promise.all(Array.from({ length: RESET_MAX_PER_ADDRESS + 4 }, () => t.api.post('/v1/auth/password-reset', { email }, fromIp())));
      expect(answers.filter((r) => r.status === 202)).toHaveLength(RESET_MAX_PER_ADDRESS);
      const refused = answers.filter((r) => r.status !== 202);
      expect(refused).toHaveLength(4);
      for (const r of refused) {
        expectProblem(r, 429, 'too_many_attempts');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
  });

  it(`lets exactly ${RESET_MAX_PER_IP} of ${RESET_MAX_PER_IP + 3} parallel requests from one client address through`, async () => {
    const from = fromIp();
    const answers = await Promise.all(Array.from({ length: RESET_MAX_PER_IP + 3 }, () => t.api.post('/v1/auth/password-reset', { email: uniqueEmail('ip') }, from)));
    expect(answers.filter((r) => r.status === 202)).toHaveLength(RESET_MAX_PER_IP);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(3);
  });
});

describe('POST /v1/auth/password-reset/confirm', () => {
  it('sets the password once, ends every session, verifies the email; the token then answers 410 recovery_token_used', async () => {
    const { email, session } = await customer();
    const laptop = await t.api.post('/v1/auth/login', { email, password });
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const token = await tokenFrom(t, email, 'password_reset');

    const done = await t.api.post('/v1/auth/password-reset/confirm', { token, newPassword }, fromIp());
    expect(done.status, done.text).toBe(200);
    expect(done.body).toEqual({ endedSessions: 2 });
    for (const s of [session, laptop.body]) expectProblem(await t.api.post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401, 'refresh_token_revoked');
    expectProblem(await t.api.post('/v1/auth/login', { email, password }), 401, 'invalid_credentials');
    const login = await t.api.post('/v1/auth/login', { email, password: newPassword });
    expect(login.status, login.text).toBe(200);
    expect((await t.api.get('/v1/me', { token: login.body.accessToken })).body.emailVerified).toBe(true);

    expectProblem(await t.api.post('/v1/auth/password-reset/confirm', { token, newPassword: 'a third password' }, fromIp()), 410, 'recovery_token_used');
  });

  it('two parallel confirms with one token: exactly one wins, the others get 410 recovery_token_used', async () => {
    const { email } = await customer();
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const token = await tokenFrom(t, email, 'password_reset');
    const answers = await Promise.all(['first password!', 'second password!', 'third password!'].map((p) => t.api.post('/v1/auth/password-reset/confirm', { token, newPassword: p }, fromIp())));
    const won = answers.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 200)) expectProblem(r, 410, 'recovery_token_used');
    const [used] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM account_tokens WHERE email = $1 AND used_at IS NOT NULL`, [email]);
    expect(used!.n).toBe(1);
  });

  it('expires after 30 minutes (test clock): 410 recovery_token_expired', async () => {
    const { email } = await customer();
    const clock = testClock();
    const real = t.deps.clock;
    t.deps.clock = clock;
    try {
      await t.api.post('/v1/auth/password-reset', { email }, fromIp());
      const token = await tokenFrom(t, email, 'password_reset');
      clock.advance(30 * 60 * 1000 + 1000);
      expectProblem(await t.api.post('/v1/auth/password-reset/confirm', { token, newPassword }, fromIp()), 410, 'recovery_token_expired');
    } finally {
      t.deps.clock = real;
    }
  });

  it('dies with a password change by another path (POST /v1/me/password): 400 recovery_token_invalid', async () => {
    const { email, session } = await customer();
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const token = await tokenFrom(t, email, 'password_reset');
    const changed = await t.api.post('/v1/me/password', { currentPassword: password, newPassword }, { token: session.accessToken });
    expect(changed.status, changed.text).toBe(200);
    expectProblem(await t.api.post('/v1/auth/password-reset/confirm', { token, newPassword: 'yet another one' }, fromIp()), 400, 'recovery_token_invalid');
  });

  it('dies with a password set by another reset token: the older token answers 400 recovery_token_invalid', async () => {
    const { email } = await customer();
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const older = await tokenFrom(t, email, 'password_reset');
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    const newer = await tokenFrom(t, email, 'password_reset');
    expect(newer).not.toBe(older);
    expect((await t.api.post('/v1/auth/password-reset/confirm', { token: newer, newPassword }, fromIp())).status).toBe(200);
    expectProblem(await t.api.post('/v1/auth/password-reset/confirm', { token: older, newPassword: 'yet another one' }, fromIp()), 400, 'recovery_token_invalid');
    expect((await t.api.post('/v1/auth/login', { email, password: newPassword })).status).toBe(200);
  });

  it('a password change whose check preceded a reset cannot overwrite the password the reset set (403, the reset wins)', async () => {
    const { email, session } = await customer();
    const ownerPassword = 'owner after reset 1';
    const real = t.deps.passwords;
    // POST /v1/me/password from a session that knew the old password: between its check and its
    // write (while the new hash is made) the owner completes a password reset.
    t.deps.passwords = {
      ...real,
      hash: async (p: string) => {
        const hashed = await real.hash(p);
        if (p === 'intruder password 1') {
          await t.api.post('/v1/auth/password-reset', { email }, fromIp());
          const token = await tokenFrom(t, email, 'password_reset');
          expect((await t.api.post('/v1/auth/password-reset/confirm', { token, newPassword: ownerPassword }, fromIp())).status).toBe(200);
        }
        return hashed;
      },
    };
    let changed;
    try {
      changed = await t.api.post('/v1/me/password', { currentPassword: password, newPassword: 'intruder password 1' }, { token: session.accessToken });
    } finally {
      t.deps.passwords = real;
    }
    expect((await t.api.post('/v1/auth/login', { email, password: ownerPassword })).status, `the change answered ${changed.status}`).toBe(200);
    expectProblem(await t.api.post('/v1/auth/login', { email, password: 'intruder password 1' }), 401, 'invalid_credentials');
    expectProblem(changed, 403, 'current_password_incorrect');
  });

  it('the retention sweep removes tokens a day after they expired, and leaves live ones', async () => {
    const { email } = await customer();
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    await t.api.post('/v1/auth/password-reset', { email }, fromIp());
    await t.sql(
      `UPDATE account_tokens SET expires_at = now() - interval '25 hours' WHERE ctid = (SELECT ctid FROM account_tokens WHERE email = $1 AND purpose = 'password_reset' LIMIT 1)`,
      [email],
    );
    await sweepRetention(t.deps);
    expect(await countRows(email)).toMatchObject({ tokens: 1 });
  });

  it(`lets exactly ${RESET_MAX_PER_IP} of ${RESET_MAX_PER_IP + 3} parallel confirmations from one IPv6 /64 reach the token check`, async () => {
    const net = `2001:db8:${(++ipN).toString(16)}:7`;
    const answers = await Promise.all(
      Array.from({ length: RESET_MAX_PER_IP + 3 }, (_, i) =>
        t.api.post('/v1/auth/password-reset/confirm', { token: `${'B'.repeat(40)}${String(i).padStart(3, '0')}`, newPassword }, { headers: { 'x-forwarded-for': `${net}::${(i + 1).toString(16)}` } }),
      ),
    );
    expect(answers.filter((r) => r.status === 400)).toHaveLength(RESET_MAX_PER_IP);
    const refused = answers.filter((r) => r.status !== 400);
    expect(refused).toHaveLength(3);
    for (const r of refused) expectProblem(r, 429, 'too_many_attempts');
  });

  it('refuses an unknown token (400) and a malformed one (422), without touching any account', async () => {
    expectProblem(await t.api.post('/v1/auth/password-reset/confirm', { token: 'A'.repeat(43), newPassword }, fromIp()), 400, 'recovery_token_invalid');
    expectProblem(await t.api.post('/v1/auth/password-reset/confirm', { token: 'not a token!', newPassword }, fromIp()), 422, 'validation_failed');
  });
});
