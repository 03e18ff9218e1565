import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFcmClient, fcmMessage, fcmOutcome } from '../../src/notifications/channels/fcm.js';
import { retryAfterMs, type ProviderAnswer } from '../../src/notifications/channels/http.js';
import { createLogClient, maskRecipient } from '../../src/notifications/channels/log.js';
import { resendOutcome } from '../../src/notifications/channels/resend.js';
import { twilioOutcome } from '../../src/notifications/channels/twilio.js';
import type { RenderedMessage } from '../../src/notifications/types.js';
import { createMemoryLogger } from '../../src/logger.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const answer = (status: number, body: unknown, headers: Record<string, string> = {}): ProviderAnswer => ({
  kind: 'response',
  status,
  headers: new Headers(headers),
  text: typeof body === 'string' ? body : JSON.stringify(body),
});
const fcmErr = (code: number, status: string, errorCode?: string) => ({
  error: { code, message: 'm', status, ...(errorCode ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } : {}) },
});
const message: RenderedMessage = {
  channel: 'push',
  type: 'out_for_delivery',
  recipient: 'dKx9Qa-device-token',
  title: 'On its way',
  body: 'Your laundry is out for delivery',
  data: { type: 'out_for_delivery', orderId: '42' },
  idempotencyKey: '1001',
};

describe('retryAfterMs (RFC 9110 Retry-After)', () => {
  it('reads delay-seconds and HTTP-dates against the clock; unreadable or absent → undefined; never negative', () => {
    expect(retryAfterMs('30', NOW)).toBe(30_000);
    expect(retryAfterMs('Mon, 30 Nov 2026 12:01:00 GMT', NOW)).toBe(60_000);
    expect(retryAfterMs('Mon, 30 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
    expect(retryAfterMs(null, NOW)).toBeUndefined();
  });
});

describe('FCM answers → outcomes', () => {
  it('maps each answer the FCM error-code table names', () => {
    expect(fcmOutcome(answer(200, { name: 'projects/p/messages/1' }), NOW)).toEqual({ kind: 'sent', providerMessageId: 'projects/p/messages/1' });
    expect(fcmOutcome(answer(404, fcmErr(404, 'NOT_FOUND', 'UNREGISTERED')), NOW).kind).toBe('unregistered');
    expect(fcmOutcome(answer(404, fcmErr(404, 'NOT_FOUND')), NOW).kind).toBe('unregistered');
    expect(fcmOutcome(answer(400, fcmErr(400, 'INVALID_ARGUMENT', 'UNREGISTERED')), NOW).kind).toBe('unregistered');
    expect(fcmOutcome(answer(400, fcmErr(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT')), NOW)).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^fcm 400 INVALID_ARGUMENT/) as unknown });
    expect(fcmOutcome(answer(403, fcmErr(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH')), NOW).kind).toBe('failed');
    expect(fcmOutcome(answer(429, fcmErr(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), { 'retry-after': '12' }), NOW)).toMatchObject({ kind: 'retry', retryAfterMs: 12_000 });
    expect(fcmOutcome(answer(503, fcmErr(503, 'UNAVAILABLE'), { 'retry-after': '3' }), NOW)).toMatchObject({ kind: 'retry', retryAfterMs: 3000 });
    for (const s of [500, 502, 503, 504]) expect(fcmOutcome(answer(s, 'upstream'), NOW)).toEqual({ kind: 'retry', error: expect.any(String) as unknown });
    expect(fcmOutcome({ kind: 'timeout', timeoutMs: 250 }, NOW)).toEqual({ kind: 'retry', error: 'fcm: no answer within 250 ms' });
    expect(fcmOutcome({ kind: 'network', error: 'ECONNREFUSED' }, NOW)).toEqual({ kind: 'retry', error: 'fcm: network error: ECONNREFUSED' });
  });

  it('builds the v1 message: token, notification, string data, priority by urgency', () => {
    expect(fcmMessage(message)).toEqual({
      message: {
        token: 'dKx9Qa-device-token',
        notification: { title: 'On its way', body: 'Your laundry is out for delivery' },
        data: { type: 'out_for_delivery', orderId: '42' },
        android: { priority: 'HIGH' },
        apns: { headers: { 'apns-priority': '10' }, payload: { aps: { sound: 'default' } } },
      },
    });
    const m = fcmMessage({ ...message, type: 'picked_up' }).message as { android: unknown; apns: { headers: unknown } };
    expect(m.android).toEqual({ priority: 'NORMAL' });
    expect(m.apns.headers).toEqual({ 'apns-priority': '5' });
  });

  it('a 401 drops the token and retries once with a fresh one; a second 401 is a retry outcome, not a loop', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const calls: string[] = [];
    let tokens = 0;
    const fakeFetch = ((url: string | URL, init?: RequestInit) => {
      const u = String(url);
      if (u.endsWith('/token')) {
        tokens++;
        calls.push(`token ${tokens}`);
        return Promise.resolve(new Response(JSON.stringify({ access_token: `t${tokens}`, expires_in: 3599, token_type: 'Bearer' }), { status: 200 }));
      }
      calls.push(`send ${(init?.headers as Record<string, string>).authorization}`);
      return Promise.resolve(new Response(JSON.stringify(fcmErr(401, 'UNAUTHENTICATED')), { status: 401 }));
    }) as typeof fetch;
    const client = createFcmClient(
      {
        serviceAccount: { projectId: 'p', clientEmail: 'e@p.iam.gserviceaccount.com', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), tokenUri: 'https://oauth2.example/token' },
        apiUrl: 'https://fcm.example',
        timeoutMs: 1000,
      },
      { fetch: fakeFetch, logger: createMemoryLogger(), now: () => NOW },
    );
    const outcome = await client.send(message);
    expect(outcome).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^fcm 401 UNAUTHENTICATED/) as unknown });
    expect(calls).toEqual(['token 1', 'send Bearer t1', 'token 2', 'send Bearer t2']);
  });

  it('never throws: a fetch that throws synchronously is a retry', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const client = createFcmClient(
      {
        serviceAccount: { projectId: 'p', clientEmail: 'e@p', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), tokenUri: 'https://oauth2.example/token' },
        apiUrl: 'https://fcm.example',
        timeoutMs: 1000,
      },
      {
        fetch: (() => {
          throw new TypeError('boom');
        }) as typeof fetch,
        logger: createMemoryLogger(),
        now: () => NOW,
      },
    );
    expect(await client.send(message)).toEqual({ kind: 'retry', error: 'google_oauth: network error: boom' });
  });
});

describe('Twilio answers → outcomes', () => {
  it('201 sent; 429/5xx/no answer retry; our credentials retry; 4xx with a Twilio code failed, naming it', () => {
    expect(twilioOutcome(answer(201, { sid: 'SM1' }), NOW)).toEqual({ kind: 'sent', providerMessageId: 'SM1' });
    expect(twilioOutcome(answer(429, { code: 20429, message: 'Too Many Requests' }, { 'retry-after': '2' }), NOW)).toEqual({
      kind: 'retry',
      error: 'twilio 429 20429: Too Many Requests',
      retryAfterMs: 2000,
    });
    expect(twilioOutcome(answer(503, 'x'), NOW).kind).toBe('retry');
    expect(twilioOutcome(answer(401, { code: 20003, message: 'Authenticate' }), NOW).kind).toBe('retry');
    for (const [code, text] of [
      [21211, "Invalid 'To' Phone Number"],
      [21610, 'Attempt to send to unsubscribed recipient'],
      [21614, "'To' number is not a valid mobile number"],
    ] as const) {
      expect(twilioOutcome(answer(400, { code, message: text }), NOW)).toEqual({ kind: 'failed', error: `twilio 400 ${code}: ${text}` });
    }
    expect(twilioOutcome({ kind: 'timeout', timeoutMs: 5 }, NOW).kind).toBe('retry');
  });
});

describe('Resend answers → outcomes', () => {
  it('200 sent; 429 after Retry-After or ratelimit-reset; 409 in progress retry, 409 changed body failed; validation failed', () => {
    expect(resendOutcome(answer(200, { id: 'e1' }), NOW)).toEqual({ kind: 'sent', providerMessageId: 'e1' });
    expect(resendOutcome(answer(429, { name: 'rate_limit_exceeded' }, { 'retry-after': '4', 'ratelimit-reset': '1' }), NOW)).toMatchObject({ kind: 'retry', retryAfterMs: 4000 });
    expect(resendOutcome(answer(429, { name: 'rate_limit_exceeded' }, { 'ratelimit-reset': '1' }), NOW)).toMatchObject({ kind: 'retry', retryAfterMs: 1000 });
    expect(resendOutcome(answer(500, { name: 'internal_server_error' }), NOW).kind).toBe('retry');
    expect(resendOutcome(answer(409, { name: 'concurrent_idempotent_requests', message: 'm' }), NOW).kind).toBe('retry');
    expect(resendOutcome(answer(409, { name: 'invalid_idempotent_request', message: 'm' }), NOW)).toEqual({ kind: 'failed', error: 'resend 409 invalid_idempotent_request: m' });
    expect(resendOutcome(answer(422, { name: 'validation_error', message: 'Invalid `to` field.' }), NOW).kind).toBe('failed');
    expect(resendOutcome(answer(400, { name: 'invalid_idempotency_key', message: 'm' }), NOW).kind).toBe('failed');
    expect(resendOutcome(answer(403, { name: 'invalid_api_key', message: 'm' }), NOW).kind).toBe('retry');
    expect(resendOutcome(answer(401, { name: 'missing_api_key', message: 'm' }), NOW).kind).toBe('retry');
  });
});

describe('the log client (development)', () => {
  it('logs the channel, type and a masked recipient, and answers sent with a log: id', async () => {
    const logger = createMemoryLogger();
    const out = await createLogClient('email', { logger }).send({ ...message, channel: 'email', recipient: 'ada@example.com', idempotencyKey: '77' });
    expect(out).toEqual({ kind: 'sent', providerMessageId: 'log:77' });
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({ level: 'info', channel: 'email', type: 'out_for_delivery', recipient: 'a***@example.com' });
    expect(JSON.stringify(logger.entries)).not.toContain('ada@');
  });

  it('masks each kind of recipient', () => {
    expect(maskRecipient('sms', '+447700900123')).toBe('+44********23');
    expect(maskRecipient('push', 'dKx9Qa-device-token')).toBe('dKx9Qa…');
    expect(maskRecipient('email', 'nobody')).toBe('***');
  });
});

describe('providerRequest', () => {
  it('calls fetch unbound, as the Worker requires of its global fetch', async () => {
    const { providerRequest } = await import('../../src/notifications/channels/http.js');
    const receivers: unknown[] = [];
    const deps = {
      fetch: function (this: unknown) {
        receivers.push(this);
        return Promise.resolve(new Response('{}', { status: 200 }));
      } as unknown as typeof fetch,
    };
    expect(await providerRequest(deps, 'https://x.example', {}, 1000)).toMatchObject({ kind: 'response', status: 200, text: '{}' });
    expect(receivers).toEqual([undefined]);
  });
});
