/**
 * The channel clients against the notification stand-ins (test/support/stand-ins): the real wire
 * protocols over node:http, one shared clock for the app and the stand-ins, so token expiry and
 * the 24 h idempotency window are moved by the test, never waited for.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createChannelClients, type ChannelDeps } from '../../src/notifications/channels/index.js';
import type { ChannelClient, RenderedMessage } from '../../src/notifications/types.js';
import { createMemoryLogger } from '../../src/logger.js';
import { startNotifyStandIns, type NotifyStandIns } from '../support/stand-ins/notify-stand-ins.js';

/** The request bound of the clients that meet a stand-in that never answers (the others keep 10 s, so a busy machine cannot fail them). */
const SHORT = { NOTIFY_TIMEOUT_MS: '1000' };
let clock = Date.parse('2026-11-30T12:00:00Z');
const now = () => clock;
let s: NotifyStandIns;

beforeAll(async () => {
  s = await startNotifyStandIns({ now });
});
afterAll(async () => {
  await s.close();
});

function clients(extra: Record<string, string> = {}): Record<'push' | 'sms' | 'email', ChannelClient> {
  const deps: ChannelDeps = { fetch: globalThis.fetch, logger: createMemoryLogger(), now: () => new Date(clock) };
  const made = createChannelClients(loadConfig({ APP_ENV: 'test', ...s.env, NOTIFY_TIMEOUT_MS: '10000', ...extra }), deps);
  expect(made.notConfigured).toEqual([]);
  return made.clients as Record<'push' | 'sms' | 'email', ChannelClient>;
}

let n = 0;
const msg = (channel: RenderedMessage['channel'], over: Partial<RenderedMessage> = {}): RenderedMessage => ({
  channel,
  type: 'out_for_delivery',
  recipient: channel === 'push' ? `device-token-${++n}` : channel === 'sms' ? '+447700900123' : 'ada@example.com',
  title: 'On its way',
  body: 'Your laundry is out for delivery',
  data: { type: 'out_for_delivery', orderId: '42' },
  idempotencyKey: `delivery-${++n}`,
  ...over,
});

describe('push: FCM HTTP v1 with a service-account token', () => {
  let push: ChannelClient;
  beforeEach(() => {
    push = clients().push;
  });

  it('gets a token with a valid RS256 assertion and sends the v1 message', async () => {
    const before = s.google.tokenRequests.length;
    const m = msg('push');
    const out = await push.send(m);
    expect(out).toMatchObject({ kind: 'sent', providerMessageId: expect.stringMatching(/^projects\/laundry-standin\/messages\//) as unknown });
    const tokenRequest = s.google.tokenRequests.at(-1)!;
    expect(s.google.tokenRequests.length).toBe(before + 1);
    expect(tokenRequest.status).toBe(200);
    expect(tokenRequest.header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: s.google.serviceAccount.private_key_id });
    const claims = tokenRequest.claims!;
    expect(claims).toMatchObject({ iss: s.google.serviceAccount.client_email, aud: s.google.tokenUri, scope: 'https://www.googleapis.com/auth/firebase.messaging' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
    expect(Number(claims.iat)).toBe(Math.floor(clock / 1000));
    const sent = s.fcm.delivered.find((d) => d.name === (out as { providerMessageId: string }).providerMessageId)!;
    expect(sent.message).toEqual((await import('../../src/notifications/channels/fcm.js')).fcmMessage(m).message);
  });

  it('many sends, one token request: cached, and concurrent callers share the one in flight', async () => {
    const before = s.google.tokenRequests.length;
    const outs = await Promise.all(Array.from({ length: 8 }, () => push.send(msg('push'))));
    expect(outs.every((o) => o.kind === 'sent')).toBe(true);
    for (let i = 0; i < 3; i++) expect((await push.send(msg('push'))).kind).toBe('sent');
    expect(s.google.tokenRequests.length).toBe(before + 1);
  });

  it('replaces the token shortly before expires_in ends, not after', async () => {
    const before = s.google.tokenRequests.length;
    expect((await push.send(msg('push'))).kind).toBe('sent');
    clock += (3599 - 6 * 60) * 1000; // 6 min before expiry: still cached
    expect((await push.send(msg('push'))).kind).toBe('sent');
    expect(s.google.tokenRequests.length).toBe(before + 1);
    clock += 2 * 60 * 1000; // 4 min before expiry: inside the 5 min margin
    expect((await push.send(msg('push'))).kind).toBe('sent');
    expect(s.google.tokenRequests.length).toBe(before + 2);
  });

  it('a 401 from FCM (the token was revoked) drops it, fetches one new token, and the send goes out once', async () => {
    expect((await push.send(msg('push'))).kind).toBe('sent');
    const tokensBefore = s.google.tokenRequests.length;
    const sendsBefore = s.fcm.requests.length;
    const deliveredBefore = s.fcm.delivered.length;
    s.google.revokeAll();
    expect((await push.send(msg('push'))).kind).toBe('sent');
    expect(s.google.tokenRequests.length).toBe(tokensBefore + 1);
    expect(s.fcm.requests.slice(sendsBefore).map((r) => r.status)).toEqual([401, 200]);
    expect(s.fcm.delivered.length).toBe(deliveredBefore + 1);
  });

  it('UNREGISTERED (404, or 400 with the FcmError) → unregistered; an invalid token → failed', async () => {
    const dead = msg('push');
    s.fcm.unregister(dead.recipient);
    expect(await push.send(dead)).toMatchObject({ kind: 'unregistered', error: expect.stringMatching(/^fcm 404 UNREGISTERED/) as unknown });
    const dead400 = msg('push');
    s.fcm.failFor(dead400.recipient, 'unregistered-400');
    expect((await push.send(dead400)).kind).toBe('unregistered');
    const bad = msg('push');
    s.fcm.failFor(bad.recipient, 'invalid');
    expect(await push.send(bad)).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^fcm 400 INVALID_ARGUMENT/) as unknown });
  });

  it('429 and 503 with Retry-After → retry after it; 500 → retry; nothing delivered', async () => {
    const delivered = s.fcm.delivered.length;
    s.fcm.failNext({ status: 429, retryAfter: '30' });
    expect(await push.send(msg('push'))).toMatchObject({ kind: 'retry', retryAfterMs: 30_000 });
    s.fcm.failNext({ status: 503, retryAfter: '5' });
    expect(await push.send(msg('push'))).toMatchObject({ kind: 'retry', retryAfterMs: 5000 });
    s.fcm.failNext({ status: 500 });
    const out = await push.send(msg('push'));
    expect(out.kind).toBe('retry');
    expect(out).not.toHaveProperty('retryAfterMs');
    expect(s.fcm.delivered.length).toBe(delivered);
  });

  it('no answer within NOTIFY_TIMEOUT_MS → retry naming the timeout', async () => {
    const short = clients(SHORT).push;
    expect((await short.send(msg('push'))).kind).toBe('sent');
    s.fcm.failNext({ hang: true });
    expect(await short.send(msg('push'))).toEqual({ kind: 'retry', error: 'fcm: no answer within 1000 ms' });
  });

  it('an unreachable FCM → retry (network error)', async () => {
    const out = await clients({ FCM_API_URL: 'http://127.0.0.1:9' }).push.send(msg('push'));
    expect(out).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^fcm: network error/) as unknown });
  });

  it('a key Google does not know: invalid_grant → retry naming google_oauth, nothing sent', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const sends = s.fcm.requests.length;
    const out = await clients({ FCM_SERVICE_ACCOUNT_JSON: JSON.stringify({ ...s.google.serviceAccount, private_key: other }) }).push.send(msg('push'));
    expect(out).toEqual({ kind: 'retry', error: 'google_oauth 400: invalid_grant: Invalid JWT Signature.' });
    expect(s.fcm.requests.length).toBe(sends);
  });

  it('the token endpoint down (503, then no answer) → retry', async () => {
    const fresh = clients(SHORT).push;
    s.google.failNext({ status: 503 });
    expect(await fresh.send(msg('push'))).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^google_oauth 503/) as unknown });
    s.google.failNext({ hang: true });
    expect(await fresh.send(msg('push'))).toEqual({ kind: 'retry', error: 'google_oauth: no answer within 1000 ms' });
    expect((await fresh.send(msg('push'))).kind).toBe('sent');
  });
});

describe('the Google and FCM stand-ins are as strict as the real services', () => {
  const key = () => importPKCS8(s.google.serviceAccount.private_key!, 'RS256');
  const post = (assertion: string, grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer') =>
    fetch(s.google.tokenUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: grant, assertion }) });
  const assertion = async (iat: number, exp: number, over: Record<string, unknown> = {}) =>
    new SignJWT({ scope: 'https://www.googleapis.com/auth/firebase.messaging', ...over })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(String(over.iss ?? s.google.serviceAccount.client_email))
      .setAudience(String(over.aud ?? s.google.tokenUri))
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(await key());

  it('refuses an expired assertion, one valid for more than an hour, a wrong audience or issuer, another grant type', async () => {
    const t = Math.floor(clock / 1000);
    const short = /Token must be a short-lived token/;
    for (const [iat, exp] of [
      [t - 7200, t - 3600],
      [t, t + 3601],
    ] as const) {
      const res = await post(await assertion(iat, exp));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_grant');
      expect(body.error_description).toMatch(short);
    }
    expect(((await (await post(await assertion(t, t + 3600, { aud: 'https://elsewhere/token' }))).json()) as { error: string }).error).toBe('invalid_grant');
    expect(((await (await post(await assertion(t, t + 3600, { iss: 'someone@else' }))).json()) as { error: string }).error).toBe('invalid_grant');
    expect(((await (await post(await assertion(t, t + 3600), 'client_credentials')).json()) as { error: string }).error).toBe('unsupported_grant_type');
    expect((await post(await assertion(t, t + 3600))).status).toBe(200);
  });

  it('FCM refuses unknown fields, non-string data values and a missing token, and a token without the messaging scope', async () => {
    const t = Math.floor(clock / 1000);
    const token = ((await (await post(await assertion(t, t + 3600))).json()) as { access_token: string }).access_token;
    const send = (body: unknown, bearer = token) =>
      fetch(`${s.fcm.url}/v1/projects/laundry-standin/messages:send`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const unknown = await send({ message: { token: 'x', notification: { title: 't', body: 'b', colour: 'red' } } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('Unknown name \\"colour\\" at \'message.notification\'');
    const numeric = await send({ message: { token: 'x', data: { orderId: 42 } } });
    expect(numeric.status).toBe(400);
    expect(JSON.stringify(await numeric.json())).toContain("message.data[0].value");
    expect((await send({ message: { notification: { title: 't' } } })).status).toBe(400);
    expect((await send({ message: { token: 'x' } }, 'ya29.forged')).status).toBe(401);
    const otherScope = ((await (await post(await assertion(t, t + 3600, { scope: 'https://www.googleapis.com/auth/cloud-platform.read-only' }))).json()) as { access_token: string })
      .access_token;
    expect((await send({ message: { token: 'x' } }, otherScope)).status).toBe(403);
    expect((await send({ message: { token: 'x' } })).status).toBe(200);
  });
});

describe('sms: Twilio Messages', () => {
  let sms: ChannelClient;
  beforeEach(() => {
    sms = clients().sms;
  });

  it('201 → sent with the SM sid; Basic auth with the account SID; To, From and Body form-encoded', async () => {
    const out = await sms.send(msg('sms'));
    expect(out).toMatchObject({ kind: 'sent', providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) as unknown });
    const r = s.twilio.requests.at(-1)!;
    expect(r).toMatchObject({ auth: s.twilio.accountSid, status: 201, form: { To: '+447700900123', From: s.twilio.from, Body: 'Your laundry is out for delivery' } });
    expect(s.twilio.messages.at(-1)!.sid).toBe((out as { providerMessageId: string }).providerMessageId);
  });

  it('an API key and a Messaging Service instead of the auth token and From', async () => {
    const c = clients({ TWILIO_AUTH_TOKEN: '', TWILIO_FROM: '', TWILIO_API_KEY_SID: s.twilio.apiKeySid, TWILIO_API_KEY_SECRET: s.twilio.apiKeySecret, TWILIO_MESSAGING_SERVICE_SID: s.twilio.messagingServiceSid });
    expect((await c.sms.send(msg('sms'))).kind).toBe('sent');
    const r = s.twilio.requests.at(-1)!;
    expect(r.auth).toBe(s.twilio.apiKeySid);
    expect(r.form).toEqual({ To: '+447700900123', Body: 'Your laundry is out for delivery', MessagingServiceSid: s.twilio.messagingServiceSid });
  });

  it('21211 invalid To, 21610 replied STOP, 21614 not a mobile, 21617 over 1600 characters → failed, nothing sent', async () => {
    const sent = s.twilio.messages.length;
    expect(await sms.send(msg('sms', { recipient: '07700900123' }))).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^twilio 400 21211/) as unknown });
    s.twilio.optOut('+447700900001');
    expect(await sms.send(msg('sms', { recipient: '+447700900001' }))).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^twilio 400 21610/) as unknown });
    s.twilio.landline('+442079460000');
    expect(await sms.send(msg('sms', { recipient: '+442079460000' }))).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^twilio 400 21614/) as unknown });
    expect(await sms.send(msg('sms', { body: 'x'.repeat(1601) }))).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^twilio 400 21617/) as unknown });
    expect((await sms.send(msg('sms', { body: 'x'.repeat(1600) }))).kind).toBe('sent');
    expect(s.twilio.messages.length).toBe(sent + 1);
  });

  it('429 (Retry-After) and 5xx → retry; no answer → retry; a wrong auth token → retry (ours to fix), nothing sent', async () => {
    const sent = s.twilio.messages.length;
    s.twilio.failNext({ status: 429, retryAfter: '2' });
    expect(await sms.send(msg('sms'))).toEqual({ kind: 'retry', error: 'twilio 429 20429: Too Many Requests', retryAfterMs: 2000 });
    s.twilio.failNext({ status: 503 });
    expect((await sms.send(msg('sms'))).kind).toBe('retry');
    s.twilio.failNext({ hang: true });
    expect(await clients(SHORT).sms.send(msg('sms'))).toEqual({ kind: 'retry', error: 'twilio: no answer within 1000 ms' });
    expect(await clients({ TWILIO_AUTH_TOKEN: 'wrong' }).sms.send(msg('sms'))).toEqual({ kind: 'retry', error: 'twilio 401 20003: Authenticate' });
    expect(s.twilio.messages.length).toBe(sent);
  });
});

describe('email: Resend with Idempotency-Key', () => {
  let email: ChannelClient;
  beforeEach(() => {
    email = clients().email;
  });

  it('200 → sent with the id; from, to, subject, text and the delivery key as Idempotency-Key', async () => {
    const m = msg('email');
    const out = await email.send(m);
    expect(out).toMatchObject({ kind: 'sent' });
    const r = s.resend.requests.at(-1)!;
    expect(r.idempotencyKey).toBe(m.idempotencyKey);
    expect(r.body).toEqual({ from: 'Laundry <orders@laundry.example>', to: ['ada@example.com'], subject: 'On its way', text: 'Your laundry is out for delivery' });
    expect(s.resend.emails.at(-1)!.id).toBe((out as { providerMessageId: string }).providerMessageId);
  });

  it('exactly once: the answer is lost after Resend sent it (timeout → retry); the retry with the same key replays the same id, no second email', async () => {
    const m = msg('email');
    const before = s.resend.emails.length;
    s.resend.failNext({ sendThenHang: true });
    expect(await clients(SHORT).email.send(m)).toEqual({ kind: 'retry', error: 'resend: no answer within 1000 ms' });
    expect(s.resend.emails.length).toBe(before + 1);
    const again = await email.send(m);
    expect(again).toEqual({ kind: 'sent', providerMessageId: s.resend.emails.at(-1)!.id });
    expect(s.resend.requests.at(-1)!.outcome).toBe('replayed');
    expect(s.resend.emails.length).toBe(before + 1);
  });

  it('the same key with a changed body → 409 invalid_idempotent_request → failed; after 24 h the key is free again', async () => {
    const m = msg('email');
    expect((await email.send(m)).kind).toBe('sent');
    expect(await email.send({ ...m, body: 'changed' })).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^resend 409 invalid_idempotent_request/) as unknown });
    const before = s.resend.emails.length;
    clock += 24 * 60 * 60 * 1000 + 1000;
    expect((await email.send({ ...m, body: 'changed' })).kind).toBe('sent');
    expect(s.resend.emails.length).toBe(before + 1);
  });

  it('429 after Retry-After (or ratelimit-reset), 5xx, no answer → retry; a bad address → failed; a wrong key → retry', async () => {
    s.resend.failNext({ status: 429, retryAfter: '3' });
    expect(await email.send(msg('email'))).toMatchObject({ kind: 'retry', retryAfterMs: 3000 });
    s.resend.failNext({ status: 429 });
    expect(await email.send(msg('email'))).toMatchObject({ kind: 'retry', retryAfterMs: 1000 });
    s.resend.failNext({ status: 500 });
    expect((await email.send(msg('email'))).kind).toBe('retry');
    s.resend.failNext({ hang: true });
    expect(await clients(SHORT).email.send(msg('email'))).toEqual({ kind: 'retry', error: 'resend: no answer within 1000 ms' });
    expect(await email.send(msg('email', { recipient: 'not-an-address' }))).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^resend 422 validation_error/) as unknown });
    expect(await clients({ RESEND_API_KEY: 're_wrong' }).email.send(msg('email'))).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^resend 403 invalid_api_key/) as unknown });
  });
});

describe('the Twilio and Resend stand-ins refuse what the real APIs refuse', () => {
  const twilio = (form: Record<string, string>, user = s.twilio.accountSid, pass = s.twilio.authToken) =>
    fetch(`${s.twilio.url}/2010-04-01/Accounts/${s.twilio.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
  const code = async (res: Response) => ((await res.json()) as { code: number }).code;

  it('Twilio: a sender is required and must be the account’s; a wrong secret is 20003', async () => {
    expect(await code(await twilio({ To: '+447700900123', Body: 'x' }))).toBe(21603);
    expect(await code(await twilio({ To: '+447700900123', Body: 'x', From: '+15550000000' }))).toBe(21606);
    expect(await code(await twilio({ To: '+447700900123', From: s.twilio.from }))).toBe(21602);
    expect(await code(await twilio({ To: '+447700900123', Body: 'x', From: s.twilio.from }, s.twilio.accountSid, 'nope'))).toBe(20003);
    expect((await twilio({ To: '+447700900123', Body: 'x', From: s.twilio.from })).status).toBe(201);
  });

  it('Resend: a bearer is required, fields are checked, unknown fields and over-long idempotency keys refused', async () => {
    const send = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${s.resend.apiKey}` }) =>
      fetch(`${s.resend.url}/emails`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const name = async (res: Response) => `${res.status} ${((await res.json()) as { name: string }).name}`;
    const ok = { from: 'a@b.example', to: ['c@d.example'], subject: 's', text: 't' };
    expect(await name(await send(ok, {}))).toBe('401 missing_api_key');
    expect(await name(await send({ ...ok, subject: undefined }))).toBe('422 missing_required_field');
    expect(await name(await send({ ...ok, text: undefined }))).toBe('422 missing_required_field');
    expect(await name(await send({ ...ok, priority: 'high' }))).toBe('422 validation_error');
    expect(await name(await send(ok, { authorization: `Bearer ${s.resend.apiKey}`, 'idempotency-key': 'k'.repeat(257) }))).toBe('400 invalid_idempotency_key');
    expect((await send(ok)).status).toBe(200);
  });
});
