/**
 * Issue 17 inside workerd with the REAL channel clients (src/notifications/channels: FCM HTTP v1
 * with the OAuth 2.0 JWT bearer grant, Twilio, Resend) talking to the wire-protocol stand-ins
 * (test/support/stand-ins/notify-*.ts). vitest.workers.config.ts starts the stand-ins in its Node
 * process and binds their settings as TEST_NOTIFY_* (the shared harness stays unconfigured); this
 * file maps them back to the app's names, reads what each provider received and injects faults
 * over the control server (test/support/stand-ins/notify-control.ts).
 *
 * The customers, devices and orders are made through the API (SELF.fetch); the consumer is the
 * Worker's own queue() handler (first test) or consumeNotificationBatch, the function it calls,
 * with dependencies built the same way (loadConfig → createNotificationClients) but an app clock
 * the test can move, so a Retry-After can pass without waiting.
 * The in-memory fakes of the same path: test/workers/notify-queue.test.ts.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createNeonDatabase } from '../../src/db/neon.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { createNotificationClients } from '../../src/notifications/clients.js';
import { FCM_SCOPE } from '../../src/notifications/google-oauth.js';
import { dispatchCycle, type DispatchDeps } from '../../src/notifications/dispatch.js';
import { consumeNotificationBatch, type NotificationMessage, type ReceivedMessage } from '../../src/notifications/queue.js';
import worker from '../../src/worker.js';
import { actor, payOnDeliveryOrder, type Actor } from '../support/fixtures.js';
import { notifyControl, providerEnvFromBindings } from '../support/stand-ins/notify-control.js';
import { STAND_IN_EMAIL_FROM } from '../support/stand-ins/notify-stand-ins.js';
import { sqlDirect, testEnv, workerHarness as h } from './support.js';
import type { DeliveryRow } from '../support/notify-rows.js';

const bindings = env as unknown as Record<string, unknown>;
const control = notifyControl(bindings);
const providerEnv = providerEnvFromBindings(bindings);

/** Generous on a loaded machine: one provider request's bound (NOTIFY_TIMEOUT_MS). */
const NOTIFY_TIMEOUT_MS = '30000';

/** A stand-in for the Queue binding: records what was sent (retries, continuations). */
function recordingQueue() {
  const sent: Array<{ body: NotificationMessage; options?: { delaySeconds?: number } }> = [];
  return { sent, send: async (body: NotificationMessage, options?: { delaySeconds?: number }) => void sent.push({ body, ...(options ? { options } : {}) }) };
}

function message(body: NotificationMessage): ReceivedMessage & { acked: number; retried: number } {
  const m = { body, attempts: 1, acked: 0, retried: 0, ack: () => void m.acked++, retry: () => void m.retried++ };
  return m;
}

/** The Worker's bindings with the providers configured: one object, so the Worker builds its deps once. */
const workerQueue = recordingQueue();
const notifyEnv = { ...bindings, ...providerEnv, NOTIFY_TIMEOUT_MS, NOTIFICATIONS_QUEUE: workerQueue };

/** The same settings through loadConfig, as src/worker.ts build() reads them. */
function stringEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(notifyEnv)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** An app clock the test moves forward (Retry-After passing); the channel clients read it too. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const logger = createMemoryLogger();
const config = loadConfig(stringEnv());
const channels = createNotificationClients(config, { fetch: (input, init) => fetch(input, init), logger, now: () => clock.now() });
const deps: DispatchDeps = {
  database: createNeonDatabase(testEnv.DATABASE_URL, { localEndpoint: testEnv.NEON_LOCAL_ENDPOINT }),
  clock,
  logger,
  metrics: createMemoryMetrics(),
  clients: channels.clients,
};

const fcmToken = () => `${crypto.randomUUID().replaceAll('-', '')}:APA91b${'w'.repeat(120)}_${crypto.randomUUID().slice(0, 8)}`;
const phoneNumber = () => `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;

interface Customer {
  who: Actor;
  phone: string;
  device: string;
  orderId: string;
}

/** A customer with a phone and a registered Android device, and one pay-on-delivery order (order_confirmed in the outbox). */
async function customerWithOrder(): Promise<Customer> {
  const who = await actor(h);
  // Registration's verification email (issue 18: an account email) is not what these tests count: taken as dispatched.
  await h.sql(`UPDATE notification_outbox SET dispatched_at = now() WHERE user_id = $1 AND recipient IS NOT NULL`, [who.userId]);
  const phone = phoneNumber();
  const device = fcmToken();
  const me = await h.api.patch('/v1/me', { phone }, { token: who.token });
  expect(me.status, me.text).toBe(200);
  const put = await h.api.send('PUT', `/v1/me/devices/${device}`, { platform: 'android', appVersion: '3.12.0', locale: 'en-GB' }, { token: who.token });
  expect(put.status, put.text).toBe(201);
  return { who, phone, device, orderId: await payOnDeliveryOrder(h, who) };
}


/** The customer's deliveries of the order, by channel. */
async function deliveriesOf(c: Customer): Promise<Record<string, DeliveryRow>> {
  const rows = (await sqlDirect().query(
    `SELECT d.id::int AS id, d.channel::text AS channel, d.recipient, d.state::text AS state, d.attempts, d.last_error, d.provider_message_id,
            d.next_attempt_at::text AS next_attempt_at
     FROM notification_deliveries d JOIN notification_outbox o ON o.id = d.outbox_id
     WHERE o.user_id = $1 AND o.order_id = $2 AND o.type = 'order_confirmed'`,
    [c.who.userId, c.orderId],
  )) as DeliveryRow[];
  return Object.fromEntries(rows.map((r) => [r.channel, r]));
}

/** What the providers received for this customer (their device, phone, address). */
async function receivedFor(c: Customer) {
  const r = await control.received();
  return {
    fcm: r.requests.fcm.filter((q) => q.token === c.device),
    pushed: r.push.filter((p) => p.message.token === c.device),
    twilio: r.requests.twilio.filter((q) => q.form.To === c.phone),
    resend: r.requests.resend.filter((q) => Array.isArray(q.body?.to) && (q.body.to as string[]).includes(c.who.email)),
    emails: r.email.filter((e) => e.to.includes(c.who.email)),
    google: r.requests.google,
  };
}

beforeAll(async () => {
  // The database is shared with the other Workers test files: send whatever they left in the
  // outbox now, so the faults injected below reach this file's messages and no one else's.
  for (let i = 0; i < 200; i++) {
    const cycle = await dispatchCycle(deps);
    if (!cycle.full) break;
  }
  await control.reset();
  // A hook's default bound is 10 s; the backlog of a whole suite run can take longer on a loaded machine.
}, 300_000);

describe('the Worker sends through the real provider clients (stand-ins on the wire)', () => {
  it('every channel is configured from the TEST_NOTIFY_* settings', () => {
    expect(Object.fromEntries(Object.entries(channels.clients).map(([channel, c]) => [channel, c.provider]))).toEqual({ push: 'fcm', sms: 'twilio', email: 'resend' });
    expect(channels.notConfigured).toEqual([]);
  });

  it('worker.queue(): push once to FCM with a Google-issued token, email once to Resend with an Idempotency-Key; the same batch again sends nothing', async () => {
    const c = await customerWithOrder();
    const batch = [message({ kind: 'outbox' })];
    await worker.queue({ queue: 'laundry-notifications', messages: batch }, notifyEnv as never, { waitUntil() {}, passThroughOnException() {}, props: {} } as never);
    expect(batch.map((m) => [m.acked, m.retried])).toEqual([[1, 0]]);

    const rows = await deliveriesOf(c);
    expect(rows.push).toMatchObject({ state: 'sent', attempts: 1, recipient: c.device, last_error: null });
    expect(rows.email).toMatchObject({ state: 'sent', attempts: 1, recipient: c.who.email, last_error: null });
    // order_confirmed is push and email by default; the phone gets nothing.
    expect(rows.sms).toMatchObject({ state: 'skipped', last_error: 'preference: order_confirmed off on sms' });

    const got = await receivedFor(c);
    expect(got.fcm.map((q) => [q.status, q.outcome])).toEqual([[200, 'ok']]);
    expect(got.pushed).toHaveLength(1);
    expect(rows.push!.provider_message_id).toBe(got.pushed[0]!.name);
    expect(got.pushed[0]!.message).toMatchObject({ token: c.device, data: { orderId: c.orderId } });
    // The bearer is an access token the Google stand-in issued for the FCM scope, from a signed assertion.
    const bearer = got.fcm[0]!.bearer;
    expect(bearer).toMatch(/^ya29\.standin\./);
    expect(await control.googleToken(bearer)).toEqual({ valid: true, scopes: [FCM_SCOPE] });
    const issued = got.google.filter((t) => t.status === 200);
    expect(issued.length).toBeGreaterThanOrEqual(1);
    expect(issued[0]).toMatchObject({ header: { alg: 'RS256', typ: 'JWT' }, claims: { scope: FCM_SCOPE } });

    expect(got.resend.map((q) => [q.status, q.outcome, q.idempotencyKey])).toEqual([[200, 'ok', String(rows.email!.id)]]);
    expect(got.emails).toEqual([expect.objectContaining({ from: STAND_IN_EMAIL_FROM, to: [c.who.email], id: rows.email!.provider_message_id })]);
    expect(got.twilio).toEqual([]);

    // Redelivered (the queue is at-least-once): the same batch, plus messages naming the deliveries.
    const again = [message({ kind: 'outbox' }), message({ kind: 'delivery', id: rows.push!.id }), message({ kind: 'delivery', id: rows.email!.id })];
    await worker.queue({ queue: 'laundry-notifications', messages: again }, notifyEnv as never, { waitUntil() {}, passThroughOnException() {}, props: {} } as never);
    expect(again.map((m) => m.acked)).toEqual([1, 1, 1]);
    const after = await receivedFor(c);
    expect([after.fcm.length, after.resend.length, after.twilio.length]).toEqual([1, 1, 0]);
    expect(await deliveriesOf(c)).toEqual(rows);
    // No retry and no continuation for these deliveries (other files' rows are not this test's business).
    const mine = new Set([rows.push!.id, rows.email!.id]);
    expect(workerQueue.sent.filter((m) => m.body.kind === 'outbox' || mine.has(m.body.id))).toEqual([]);
  });

  it('FCM answers 429 with Retry-After: the push stays pending until then, with a delayed retry message; once due it is sent', async () => {
    const c = await customerWithOrder();
    await control.failNext('push', { status: 429, retryAfter: '120' });
    const queue = recordingQueue();
    const before = clock.now().getTime();
    const batch = [message({ kind: 'outbox' })];
    await consumeNotificationBatch(deps, queue, batch);
    expect(batch[0]!.acked).toBe(1);

    const rows = await deliveriesOf(c);
    expect(rows.push).toMatchObject({ state: 'pending', attempts: 1 });
    expect(rows.push!.last_error).toMatch(/^fcm 429 QUOTA_EXCEEDED/);
    expect(new Date(rows.push!.next_attempt_at).getTime()).toBeGreaterThanOrEqual(before + 120_000);
    expect(rows.email).toMatchObject({ state: 'sent' });
    const retries = queue.sent.filter((m) => m.body.kind === 'delivery' && m.body.id === rows.push!.id);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.options!.delaySeconds).toBeGreaterThanOrEqual(120);
    expect((await receivedFor(c)).fcm.map((q) => [q.status, q.outcome])).toEqual([[429, 'injected']]);

    // The retry message arriving early (or a redelivered batch) sends nothing: not due yet.
    await consumeNotificationBatch(deps, queue, [message({ kind: 'delivery', id: rows.push!.id }), message({ kind: 'outbox' })]);
    expect((await receivedFor(c)).fcm).toHaveLength(1);
    expect((await deliveriesOf(c)).push).toMatchObject({ state: 'pending', attempts: 1 });

    // After Retry-After (the app clock moved, not the test's wall time): sent on the second attempt.
    offsetMs = 125_000;
    try {
      const report = await consumeNotificationBatch(deps, queue, [message({ kind: 'delivery', id: rows.push!.id })]);
      expect(report.sent).toBe(1);
    } finally {
      offsetMs = 0;
    }
    expect((await deliveriesOf(c)).push).toMatchObject({ state: 'sent', attempts: 2, last_error: null });
    expect((await receivedFor(c)).fcm.map((q) => q.status)).toEqual([429, 200]);
  });

  it('FCM answers UNREGISTERED: the device row is deleted and the push skipped; the email still goes', async () => {
    const c = await customerWithOrder();
    await control.unregister(c.device);
    await consumeNotificationBatch(deps, recordingQueue(), [message({ kind: 'outbox' })]);

    const rows = await deliveriesOf(c);
    expect(rows.push).toMatchObject({ state: 'skipped', attempts: 1 });
    expect(rows.push!.last_error).toMatch(/^device unregistered: fcm 404 UNREGISTERED/);
    expect(rows.email).toMatchObject({ state: 'sent' });
    expect(await sqlDirect().query('SELECT token FROM devices WHERE token = $1', [c.device])).toEqual([]);
    expect((await h.api.get('/v1/me/devices', { token: c.who.token })).body.data).toEqual([]);
    expect((await receivedFor(c)).fcm.map((q) => [q.status, q.outcome])).toEqual([[404, 'UNREGISTERED']]);
  });
});
