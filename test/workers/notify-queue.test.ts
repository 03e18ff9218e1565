/**
 * Issue 17 inside workerd: the Worker's notification plumbing (src/worker.ts) and the dispatcher's
 * claim statements over the real neon-http driver (no session, each statement its own
 * transaction). The channel clients are in-memory fakes of ChannelClient: the Worker's own clients
 * come from src/notifications/clients.ts, wired to the channels' createChannelClients at merge.
 * The Node side (preferences, backoff, leases, reminders): test/node/notify-dispatch.test.ts.
 * The real clients against the providers' wire-protocol stand-ins: notify-channels-workerd.test.ts.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createNeonDatabase } from '../../src/db/neon.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import type { DispatchDeps } from '../../src/notifications/dispatch.js';
import { fanOut } from '../../src/notifications/dispatch-fanout.js';
import { consumeNotificationBatch, type NotificationMessage, type ReceivedMessage } from '../../src/notifications/queue.js';
import type { ChannelClient, RenderedMessage } from '../../src/notifications/types.js';
import worker from '../../src/worker.js';
import { uniqueEmail } from '../support/client.js';
import { actor, payOnDeliveryOrder } from '../support/fixtures.js';
import { sqlDirect, testEnv, workerHarness as h } from './support.js';

/** An execution context whose waitUntil promises the test can await. */
function context() {
  const waiting: Promise<unknown>[] = [];
  return { waiting, waitUntil: (p: Promise<unknown>) => void waiting.push(p), passThroughOnException() {}, props: {} };
}

/** A stand-in for the Queue binding: records what was sent. */
function recordingQueue() {
  const sent: Array<{ body: NotificationMessage; options?: { delaySeconds?: number } }> = [];
  return { sent, send: async (body: NotificationMessage, options?: { delaySeconds?: number }) => void sent.push({ body, ...(options ? { options } : {}) }) };
}

function message(body: unknown): ReceivedMessage & { acked: number; retried: number } {
  const m = {
    body,
    attempts: 1,
    acked: 0,
    retried: 0,
    ack: () => void m.acked++,
    retry: () => void m.retried++,
  };
  return m;
}

async function registered(): Promise<{ userId: string; email: string }> {
  const email = uniqueEmail('notify');
  const res = await worker.fetch(
    new Request('https://api.test/v1/auth/register', { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.9' }, body: JSON.stringify({ email, password: 'fixture password' }) }),
    env as never,
    context() as never,
  );
  expect(res.status).toBe(201);
  const userId = ((await res.json()) as { user: { id: string } }).user.id;
  // Registration's verification email (issue 18: an account email) is not what these tests count: taken as dispatched.
  await sqlDirect().query(`UPDATE notification_outbox SET dispatched_at = now() WHERE user_id = $1 AND recipient IS NOT NULL`, [userId]);
  return { userId, email };
}

/** An outbox row for the user (what the trigger or the reminder job writes), not yet dispatched. */
async function outboxRow(userId: string): Promise<number> {
  const rows = (await sqlDirect().query(
    `INSERT INTO notification_outbox (user_id, type, dedupe_key, data, created_at) VALUES ($1, 'refund_issued', $2, '{}'::jsonb, now()) RETURNING id`,
    [userId, `test:${crypto.randomUUID()}`],
  )) as Array<{ id: string | number }>;
  return Number(rows[0]!.id);
}

describe('the Worker enqueues after successful writes', () => {
  it('one { kind: outbox } message per 2xx write on a path that can write an outbox row (registration’s verification email included), through waitUntil; none for sign-in, reads or refused writes', async () => {
    const queue = recordingQueue();
    const envQ = { ...(env as Record<string, unknown>), NOTIFICATIONS_QUEUE: queue };
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const ctx = context();
      const headers: Record<string, string> = { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.10', ...(token ? { authorization: `Bearer ${token}` } : {}) };
      const res = await worker.fetch(
        new Request(`https://api.test${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) }),
        envQ as never,
        ctx as never,
      );
      await Promise.all(ctx.waiting);
      return res.status;
    };
    // Registration writes its verification email (issue 18: an account email): one message.
    expect(await call('POST', '/v1/auth/register', { email: uniqueEmail('q'), password: 'fixture password' })).toBe(201);
    expect(queue.sent).toEqual([{ body: { kind: 'outbox' } }]);
    queue.sent.length = 0;
    expect(await call('GET', '/v1/services')).toBe(200);
    expect(await call('POST', '/v1/auth/login', { email: 'nobody@example.test', password: 'wrong password' })).toBe(401);
    expect(queue.sent).toEqual([]);
    // A customer cancels an order (a timeline entry, so an outbox row): one message.
    const who = await actor(h);
    const orderId = await payOnDeliveryOrder(h, who);
    expect(await call('POST', `/v1/orders/${orderId}/cancel`, {}, who.token)).toBe(200);
    expect(queue.sent).toEqual([{ body: { kind: 'outbox' } }]);
    expect(await call('POST', `/v1/orders/${orderId}/cancel`, {}, who.token)).toBe(409);
    expect(queue.sent).toHaveLength(1);
  });
});

describe('the queue consumers', () => {
  it('the dead-letter queue only logs and acks: the deliveries stay pending for the sweep (only the attempt limit makes one dead)', async () => {
    const { userId, email } = await registered();
    const outboxId = await outboxRow(userId);
    const [delivery] = (await sqlDirect().query(
      `INSERT INTO notification_deliveries (outbox_id, channel, recipient, state, attempts, next_attempt_at, created_at, updated_at)
       VALUES ($1, 'email', $2, 'pending', 3, now() + interval '1 hour', now(), now()) RETURNING id`,
      [outboxId, email],
    )) as Array<{ id: string | number }>;
    const id = Number(delivery!.id);
    const messages = [message({ kind: 'delivery', id }), message({ kind: 'outbox' })];
    await worker.queue({ queue: 'laundry-notifications-dlq', messages }, env as never, context() as never);
    expect(messages.map((m) => m.acked)).toEqual([1, 1]);
    expect(await sqlDirect().query(`SELECT state::text AS state, last_error FROM notification_deliveries WHERE id = $1`, [id])).toEqual([
      { state: 'pending', last_error: null },
    ]);
  });

  it('over neon-http: an outbox message fans out and sends once; the same messages redelivered send nothing again', async () => {
    const { userId, email } = await registered();
    const outboxId = await outboxRow(userId);
    const sent: RenderedMessage[] = [];
    const emailClient: ChannelClient = { channel: 'email', provider: 'fake', send: async (m) => (sent.push(m), { kind: 'sent', providerMessageId: `re_${m.idempotencyKey}` }) };
    const deps: DispatchDeps = {
      database: createNeonDatabase(testEnv.DATABASE_URL, { localEndpoint: testEnv.NEON_LOCAL_ENDPOINT }),
      clock: { now: () => new Date() },
      logger: createMemoryLogger(),
      metrics: createMemoryMetrics(),
      accountMail: { secret: testEnv.JWT_SECRET, appLinkBase: 'laundry://app' },
      clients: { email: emailClient, push: { channel: 'push', provider: 'fake', send: async () => ({ kind: 'sent', providerMessageId: 'p' }) }, sms: { channel: 'sms', provider: 'fake', send: async () => ({ kind: 'sent', providerMessageId: 's' }) } },
    };
    const queue = recordingQueue();
    const first = [message({ kind: 'outbox' })];
    // Two consumers at once (two isolates receiving redelivered copies): each row is claimed once.
    await Promise.all([consumeNotificationBatch(deps, queue, first), consumeNotificationBatch(deps, queue, [message({ kind: 'outbox' })])]);
    expect(first[0]!.acked).toBe(1);
    const mine = sent.filter((m) => m.recipient === email);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.title).toBe('Refund issued');
    const rows = (await sqlDirect().query(`SELECT id, state::text AS state, provider_message_id FROM notification_deliveries WHERE outbox_id = $1`, [outboxId])) as Array<{
      id: string | number;
      state: string;
      provider_message_id: string;
    }>;
    expect(rows.map((r) => [r.state, r.provider_message_id])).toEqual([['sent', `re_${rows[0]!.id}`]]);
    await consumeNotificationBatch(deps, queue, [message({ kind: 'outbox' }), message({ kind: 'delivery', id: Number(rows[0]!.id) })]);
    expect(sent.filter((m) => m.recipient === email)).toHaveLength(1);
    expect((await fanOut(deps)).pendingIds).toEqual([]);
    expect(queue.sent).toEqual([]);
  });
});
