/**
 * Issue 17: from the outbox to the providers (src/notifications/dispatch.ts, queue.ts, sweep.ts,
 * reminders.ts) on the suite's own database (PostgreSQL when TEST_DATABASE_URL is set, else PGlite).
 * The provider clients here are in-memory fakes of the ChannelClient interface that record what
 * they were asked to send and answer what a test scripts (the real clients and their stand-ins are
 * the channels suite's). Orders are made through the real API, so the outbox rows come from the
 * real trigger. Time is a test clock passed to every statement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.js';
import { createMemoryMetrics, type MemoryMetrics } from '../../src/metrics/memory.js';
import { dispatchCycle, measureBacklog, sendDue, type ChannelClients, type DispatchDeps } from '../../src/notifications/dispatch.js';
import { claimDue, recordResults } from '../../src/notifications/dispatch-claims.js';
import { fanOut } from '../../src/notifications/dispatch-fanout.js';
import { MAX_ATTEMPTS, resultOf, SEND_LEASE_MS } from '../../src/notifications/retry-policy.js';
import { consumeDeadLetters, consumeNotificationBatch, type NotificationMessage, type ReceivedMessage } from '../../src/notifications/queue.js';
import { writePickupReminders } from '../../src/notifications/reminders.js';
import { runNotificationSweep } from '../../src/notifications/sweep.js';
import type { NotificationChannel } from '../../src/notifications/types.js';
import { actor, address, slot, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';
import type { DeliveryRow } from '../support/notify-rows.js';
import { fakeClient as fake, testClock } from '../support/notify-fakes.js';

let t: TestApp;
let h: Harness;
let close: (() => Promise<void>) | undefined;
let serviceId: string;
beforeAll(async () => {
  ({ t, h, close } = await isolatedApp('laundry_test_notify_dispatch'));
  serviceId = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold').id;
});
afterAll(async () => {
  await close?.();
});




function dispatchDeps(clients: ChannelClients, clock = testClock()): DispatchDeps & { clock: ReturnType<typeof testClock>; metrics: MemoryMetrics } {
  return { database: t.deps.database, logger: t.logger, metrics: createMemoryMetrics(), clock, clients };
}

interface Customer extends Actor {
  zoneId: string;
  postcode: string;
  addressId: string;
}

async function customer(opts: { phone?: string; locale?: string; timeZone?: string; devices?: Array<{ token: string; locale?: string }> } = {}): Promise<Customer> {
  const who = await actor(h);
  const z = await zone(h, { timeZone: opts.timeZone ?? 'Europe/London' });
  await h.sql(`UPDATE users SET phone = $2, locale = $3 WHERE id = $1`, [who.userId, opts.phone ?? null, opts.locale ?? null]);
  // Registration's verification email (issue 18: an account email) is not what these tests count: taken as dispatched.
  await h.sql(`UPDATE notification_outbox SET dispatched_at = now() WHERE user_id = $1 AND recipient IS NOT NULL`, [who.userId]);
  for (const d of opts.devices ?? []) {
    await h.sql(`INSERT INTO devices (token, user_id, platform, locale, created_at, updated_at) VALUES ($1, $2, 'android', $3, now(), now())`, [d.token, who.userId, d.locale ?? null]);
  }
  return { ...who, zoneId: z.id, postcode: z.postcode, addressId: await address(h, who.userId, z.postcode) };
}

/** A confirmed pay-on-delivery order through the API: the trigger writes its `order_confirmed` outbox row. */
async function order(c: Customer, startsInHours = 24): Promise<{ orderId: string; outboxId: number }> {
  const pickup = await slot(h, c.zoneId, 'pickup', { startsInHours });
  const delivery = await slot(h, c.zoneId, 'delivery', { startsInHours: startsInHours + 80 });
  const res = await h.api.post(
    '/v1/orders',
    { items: [{ serviceId, estimatedWeightGrams: 5000 }], addressId: c.addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' },
    { token: c.token, headers: { 'idempotency-key': `nd-${crypto.randomUUID()}` } },
  );
  expect(res.status, res.text).toBe(201);
  const [row] = await h.sql<{ id: string }>(`SELECT id FROM notification_outbox WHERE order_id = $1 AND type = 'order_confirmed'`, [res.body.id]);
  expect(row).toBeDefined();
  return { orderId: res.body.id, outboxId: Number(row!.id) };
}

const deliveriesOf = async (outboxId: number) =>
  (
    await h.sql<DeliveryRow>(
      `SELECT d.id, d.channel::text AS channel, d.recipient, d.state::text AS state, d.attempts, d.last_error, d.provider_message_id,
              d.next_attempt_at::text AS next_attempt_at, d.locked_until::text AS locked_until
       FROM notification_deliveries d WHERE d.outbox_id = $1 ORDER BY d.channel, d.recipient`,
      [outboxId],
    )
  ).map((r) => ({ ...r, id: Number(r.id) }));

/** A queue message as the Worker's consumer receives it, recording ack/retry. */
function message(body: NotificationMessage | unknown): ReceivedMessage & { acked: number; retried: number } {
  const m = {
    body,
    attempts: 1,
    acked: 0,
    retried: 0,
    ack() {
      m.acked++;
    },
    retry() {
      m.retried++;
    },
  };
  return m;
}

describe('fan-out', () => {
  it('writes one delivery per device, phone and email, skipped with the reason where preferences or an unconfigured channel say no', async () => {
    const c = await customer({ phone: '+447700900123', devices: [{ token: `tok-a-${crypto.randomUUID()}` }, { token: `tok-b-${crypto.randomUUID()}`, locale: 'es' }] });
    // email off for confirmations (default on); sms on (default off) — but sms has no client here.
    await h.sql(
      `INSERT INTO notification_preferences (user_id, type, channel, enabled, updated_at) VALUES ($1, 'order_confirmed', 'email', false, now()), ($1, 'order_confirmed', 'sms', true, now())`,
      [c.userId],
    );
    const { outboxId } = await order(c);
    const d = dispatchDeps({ push: fake('push'), email: fake('email') });
    const result = await fanOut(d);
    expect(result.outboxRows).toBeGreaterThanOrEqual(1);
    const rows = await deliveriesOf(outboxId);
    // Ordered by the channel enum: push, sms, email.
    expect(rows.map((r) => [r.channel, r.state, r.last_error])).toEqual([
      ['push', 'pending', null],
      ['push', 'pending', null],
      ['sms', 'skipped', 'channel not configured: sms'],
      ['email', 'skipped', 'preference: order_confirmed off on email'],
    ]);
    expect(rows.find((r) => r.channel === 'sms')!.recipient).toBe('+447700900123');
    expect(rows.find((r) => r.channel === 'email')!.recipient).toBe(c.email);
    expect(result.pendingIds).toEqual(expect.arrayContaining(rows.filter((r) => r.state === 'pending').map((r) => r.id)));
    const [outbox] = await h.sql<{ dispatched: boolean }>(`SELECT dispatched_at IS NOT NULL AS dispatched FROM notification_outbox WHERE id = $1`, [outboxId]);
    expect(outbox!.dispatched).toBe(true);
  });

  it('the defaults apply without overrides: no phone means no sms row; a confirmation goes by push and email', async () => {
    const c = await customer({ devices: [{ token: `tok-${crypto.randomUUID()}` }] });
    const { outboxId } = await order(c);
    await fanOut(dispatchDeps({ push: fake('push'), sms: fake('sms'), email: fake('email') }));
    expect((await deliveriesOf(outboxId)).map((r) => [r.channel, r.state])).toEqual([
      ['push', 'pending'],
      ['email', 'pending'],
    ]);
  });

  it('a payment message whose every channel was switched off (two PATCHes racing) still goes by email', async () => {
    const c = await customer({ devices: [{ token: `tok-${crypto.randomUUID()}` }] });
    const { orderId } = await order(c);
    await h.sql(
      `INSERT INTO notification_preferences (user_id, type, channel, enabled, updated_at)
       VALUES ($1, 'refund_issued', 'push', false, now()), ($1, 'refund_issued', 'sms', false, now()), ($1, 'refund_issued', 'email', false, now())`,
      [c.userId],
    );
    const [row] = await h.sql<{ id: string }>(
      `INSERT INTO notification_outbox (user_id, order_id, type, dedupe_key, data, created_at)
       VALUES ($1, $2, 'refund_issued', $3, '{}'::jsonb, now()) RETURNING id`,
      [c.userId, orderId, `test:${crypto.randomUUID()}`],
    );
    // Other files' undispatched rows may come first in the shared database: fan out until this one is.
    const d = dispatchDeps({ push: fake('push'), sms: fake('sms'), email: fake('email') });
    const dispatched = async () => (await h.sql<{ done: boolean }>(`SELECT dispatched_at IS NOT NULL AS done FROM notification_outbox WHERE id = $1`, [row!.id]))[0]!.done;
    for (let i = 0; i < 100 && !(await dispatched()); i++) await fanOut(d);
    expect(await dispatched()).toBe(true);
    expect((await deliveriesOf(Number(row!.id))).map((r) => [r.channel, r.state])).toEqual([
      ['push', 'skipped'],
      ['email', 'pending'],
    ]);
  });

  it('writes exactly one delivery per (event, channel, recipient) when run again or concurrently', async () => {
    const c = await customer({ phone: '+447700900124', devices: [{ token: `tok-${crypto.randomUUID()}` }] });
    const orders = await Promise.all([order(c, 24), order(c, 25), order(c, 26)]);
    const clients = { push: fake('push'), sms: fake('sms'), email: fake('email') };
    // Two dispatchers at once, each claiming one row per batch, racing over the same rows.
    const results = await Promise.all([0, 1, 2, 3].map(() => fanOut(dispatchDeps(clients), { limit: 1 })));
    await fanOut(dispatchDeps(clients));
    // A crash after the insert but before dispatched_at was seen: the row is claimed again.
    await h.sql(`UPDATE notification_outbox SET dispatched_at = NULL WHERE id = ANY($1::bigint[])`, [`{${orders.map((o) => o.outboxId).join(',')}}`]);
    const again = await fanOut(dispatchDeps(clients));
    expect(again.pendingIds).toEqual([]);
    for (const o of orders) {
      const rows = await deliveriesOf(o.outboxId);
      // order_confirmed: sms off by default, so its row is there but skipped.
      expect(rows.map((r) => [r.channel, r.state])).toEqual([
        ['push', 'pending'],
        ['sms', 'skipped'],
        ['email', 'pending'],
      ]);
    }
    const claimedIds = results.flatMap((r) => r.pendingIds);
    expect(new Set(claimedIds).size).toBe(claimedIds.length);
  });
});

describe('send', () => {
  it('two dispatchers in parallel send every message exactly once and record the provider id', async () => {
    const c = await customer({ devices: [{ token: `tok-${crypto.randomUUID()}` }] });
    const mine = await Promise.all([order(c, 24), order(c, 25), order(c, 26), order(c, 27)]);
    await fanOut(dispatchDeps({ push: fake('push'), email: fake('email') }));
    const slow = (ch: NotificationChannel) => fake(ch, async (m) => (await new Promise((r) => setTimeout(r, 20)), { kind: 'sent', providerMessageId: `${ch}:${m.idempotencyKey}` }));
    const a = { push: slow('push'), email: slow('email') };
    const b = { push: slow('push'), email: slow('email') };
    const [ra, rb] = await Promise.all([sendDue(dispatchDeps(a), { limit: 3 }), sendDue(dispatchDeps(b), { limit: 3 }), sendDue(dispatchDeps(a), { limit: 3 })]);
    await Promise.all([sendDue(dispatchDeps(a)), sendDue(dispatchDeps(b))]);
    expect(ra.claimed + rb.claimed).toBeGreaterThan(0);
    const keys = [...a.push.sent, ...a.email.sent, ...b.push.sent, ...b.email.sent].map((m) => m.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const o of mine) {
      const rows = await deliveriesOf(o.outboxId);
      expect(rows.map((r) => r.state)).toEqual(['sent', 'sent']);
      for (const r of rows) {
        expect(keys.filter((k) => k === String(r.id))).toHaveLength(1);
        expect(r.provider_message_id).toBe(`${r.channel}:${r.id}`);
        expect(r.locked_until).toBeNull();
      }
    }
  });

  it('renders push in the device language with only { type, orderId } as data, and email in the customer language', async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const c = await customer({ locale: 'en-GB', devices: [{ token, locale: 'es-ES' }] });
    const { orderId, outboxId } = await order(c);
    const push = fake('push');
    const email = fake('email');
    await dispatchCycle(dispatchDeps({ push, email }));
    const p = push.sent.find((m) => m.recipient === token)!;
    expect(p.title).toBe('Pedido confirmado');
    expect(p.data).toEqual({ type: 'order_confirmed', orderId });
    const e = email.sent.find((m) => m.recipient === c.email)!;
    expect(e.title).toBe('Order confirmed');
    expect(e.body).toContain('Pickup:');
    expect((await deliveriesOf(outboxId)).every((r) => r.state === 'sent')).toBe(true);
  });

  it('a retry waits at least the Retry-After, then the backoff doubles; after MAX_ATTEMPTS the delivery is dead', async () => {
    const c = await customer();
    const { outboxId } = await order(c);
    const clock = testClock();
    const email = fake('email', (_m, n) => (n === 1 ? { kind: 'retry', error: 'HTTP 429', retryAfterMs: 600_000 } : { kind: 'retry', error: 'HTTP 503' }));
    const d = dispatchDeps({ email }, clock);
    await fanOut(d);
    const first = await sendDue(d, { random: () => 0.5 });
    expect(first.retry).toHaveLength(1);
    let [row] = await deliveriesOf(outboxId);
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_error: 'HTTP 429', locked_until: null });
    expect(Date.parse(row!.next_attempt_at) - clock.ms).toBe(600_000);

    // Not due before the Retry-After: nothing claimed.
    clock.advance(599_000);
    expect((await sendDue(d, { random: () => 0.5 })).claimed).toBe(0);
    clock.advance(1_000);
    await sendDue(d, { random: () => 0.5 });
    [row] = await deliveriesOf(outboxId);
    // attempt 2 without Retry-After: 30 s · 2 = 60 s (jitter pinned to the middle).
    expect(row).toMatchObject({ state: 'pending', attempts: 2, last_error: 'HTTP 503' });
    expect(Date.parse(row!.next_attempt_at) - clock.ms).toBe(60_000);

    for (let attempt = 3; attempt <= MAX_ATTEMPTS; attempt++) {
      clock.set(Date.parse(row!.next_attempt_at));
      await sendDue(d, { random: () => 0.5 });
      [row] = await deliveriesOf(outboxId);
    }
    expect(row).toMatchObject({ state: 'dead', attempts: MAX_ATTEMPTS });
    expect(row!.last_error).toMatch(/gave up after 8 attempts: HTTP 503/);
    expect(email.sent).toHaveLength(MAX_ATTEMPTS);
    expect(d.metrics.count('notification_delivery', { channel: 'email', provider: 'fake-email', outcome: 'dead' })).toBe(1);
    expect(d.metrics.count('notification_delivery', { channel: 'email', outcome: 'retry' })).toBe(MAX_ATTEMPTS - 1);
    // Dead is final: later sends find nothing.
    clock.advance(86_400_000);
    expect((await sendDue(d)).claimed).toBe(0);
  });

  it('a failed answer is final; an unregistered token deletes the device and skips its other pending pushes', async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const c = await customer({ devices: [{ token }] });
    const first = await order(c, 24);
    const second = await order(c, 25);
    await fanOut(dispatchDeps({ push: fake('push'), email: fake('email') }));
    const push = fake('push', () => ({ kind: 'unregistered', error: 'UNREGISTERED' }));
    const email = fake('email', () => ({ kind: 'failed', error: 'HTTP 422 invalid address' }));
    const d = dispatchDeps({ push, email });
    // Only the first order's push is sent; the second's is left pending for the unregistered rule.
    const [firstPush] = (await deliveriesOf(first.outboxId)).filter((r) => r.channel === 'push');
    const report = await sendDue(d, { ids: [firstPush!.id] });
    expect(report.unregistered).toBe(1);
    expect(await h.sql(`SELECT token FROM devices WHERE token = $1`, [token])).toEqual([]);
    expect((await deliveriesOf(first.outboxId)).find((r) => r.channel === 'push')).toMatchObject({ state: 'skipped', last_error: 'device unregistered: UNREGISTERED' });
    expect((await deliveriesOf(second.outboxId)).find((r) => r.channel === 'push')).toMatchObject({ state: 'skipped', last_error: 'device unregistered' });
    await sendDue(d);
    expect((await deliveriesOf(first.outboxId)).find((r) => r.channel === 'email')).toMatchObject({ state: 'failed', attempts: 1, last_error: 'HTTP 422 invalid address' });
    expect(push.sent).toHaveLength(1);
  });

  it('a sender whose lease expired records nothing over the claim that took the row after it', async () => {
    const c = await customer();
    const { outboxId } = await order(c);
    const clock = testClock();
    const d = dispatchDeps({ email: fake('email') }, clock);
    await fanOut(d);
    const [slowClaim] = await claimDue(d, { ids: (await deliveriesOf(outboxId)).map((r) => r.id) });
    expect(slowClaim).toMatchObject({ attempts: 1 });
    // Within the lease nobody else can claim it.
    expect(await claimDue(d, { ids: [slowClaim!.id] })).toEqual([]);
    clock.advance(SEND_LEASE_MS - 1_000);
    expect(await claimDue(d, { ids: [slowClaim!.id] })).toEqual([]);
    clock.advance(2_000);
    const [fastClaim] = await claimDue(d, { ids: [slowClaim!.id] });
    expect(fastClaim).toMatchObject({ attempts: 2 });
    expect(await recordResults(d, [resultOf(fastClaim!, { kind: 'sent', providerMessageId: 'fast' }, clock.now())])).toEqual(new Set([slowClaim!.id]));
    // The slow sender comes back with a failure: not recorded.
    expect(await recordResults(d, [resultOf(slowClaim!, { kind: 'failed', error: 'late' }, clock.now())])).toEqual(new Set());
    expect((await deliveriesOf(outboxId))[0]).toMatchObject({ state: 'sent', provider_message_id: 'fast', attempts: 2 });
  });
});

describe('queue consumer', () => {
  it('an outbox message fans out and sends; the same delivery message redelivered sends nothing twice', async () => {
    const c = await customer();
    const { outboxId } = await order(c);
    const email = fake('email');
    const enqueued: Array<{ body: NotificationMessage; delaySeconds?: number }> = [];
    const queue = { send: async (body: NotificationMessage, o?: { delaySeconds?: number }) => void enqueued.push({ body, ...o }) };
    const d = dispatchDeps({ push: fake('push'), sms: fake('sms'), email });
    const wake = message({ kind: 'outbox' });
    await consumeNotificationBatch(d, queue, [wake]);
    expect(wake.acked).toBe(1);
    const [row] = await deliveriesOf(outboxId);
    expect(row).toMatchObject({ state: 'sent' });
    const sentBefore = email.sent.length;
    // The queue delivers at least once: the same messages again, and a delivery message for the sent row.
    const again = [message({ kind: 'outbox' }), message({ kind: 'delivery', id: row!.id }), message({ kind: 'delivery', id: row!.id })];
    await consumeNotificationBatch(d, queue, again);
    expect(email.sent.length).toBe(sentBefore);
    expect(again.map((m) => m.acked)).toEqual([1, 1, 1]);
    expect(enqueued).toEqual([]);
  });

  it('a retry is enqueued as a delivery message delayed by its backoff; a batch that fails is left to the queue; the DLQ only logs', async () => {
    const c = await customer();
    const { outboxId } = await order(c);
    const email = fake('email', () => ({ kind: 'retry', error: 'HTTP 503', retryAfterMs: 120_000 }));
    const enqueued: Array<{ body: NotificationMessage; delaySeconds?: number }> = [];
    const queue = { send: async (body: NotificationMessage, o?: { delaySeconds?: number }) => void enqueued.push({ body, ...o }) };
    const d = dispatchDeps({ email });
    await consumeNotificationBatch(d, queue, [message({ kind: 'outbox' })]);
    const [row] = await deliveriesOf(outboxId);
    expect(enqueued).toContainEqual({ body: { kind: 'delivery', id: row!.id }, delaySeconds: 120 });

    // The database fails: every message is handed back to the queue, none acked.
    const broken: DispatchDeps = { ...d, database: { ...d.database, rows: () => Promise.reject(new Error('connection refused')) } };
    const failing = [message({ kind: 'delivery', id: row!.id }), message({ kind: 'outbox' })];
    await consumeNotificationBatch(broken, queue, failing);
    expect(failing.map((m) => [m.acked, m.retried])).toEqual([[0, 1], [0, 1]]);

    // Those messages exhausted their retries: the dead-letter consumer logs and acks them; the
    // delivery keeps its attempts and stays pending for the sweep (only MAX_ATTEMPTS make it dead).
    const before = (await deliveriesOf(outboxId))[0]!;
    const dlq = [message({ kind: 'delivery', id: row!.id }), message({ kind: 'outbox' }), message('garbage')];
    expect(await consumeDeadLetters(d, dlq)).toEqual([row!.id]);
    expect(dlq.map((m) => [m.acked, m.retried])).toEqual([[1, 0], [1, 0], [1, 0]]);
    expect((await deliveriesOf(outboxId))[0]).toEqual(before);
    expect(before).toMatchObject({ state: 'pending' });
  });

  it('a burst larger than one invocation continues through another outbox message, not the sweep', async () => {
    const c = await customer();
    await h.sql(
      `INSERT INTO notification_outbox (user_id, type, dedupe_key, created_at) SELECT $1, 'refund_issued', 'burst:' || $1 || ':' || g, now() FROM generate_series(1, 51) g`,
      [c.userId],
    );
    const email = fake('email');
    const enqueued: NotificationMessage[] = [];
    const queue = { send: async (body: NotificationMessage) => void enqueued.push(body) };
    const d = dispatchDeps({ push: fake('push'), sms: fake('sms'), email });
    const first = await consumeNotificationBatch(d, queue, [message({ kind: 'outbox' })], { maxCycles: 1 });
    expect(first.sent).toBe(50);
    expect(enqueued).toEqual([{ kind: 'outbox' }]);
    const second = await consumeNotificationBatch(d, queue, [message(enqueued[0])], { maxCycles: 1 });
    expect(second.sent).toBe(1);
    expect(enqueued).toHaveLength(1);
    expect(new Set(email.sent.filter((m) => m.recipient === c.email).map((m) => m.idempotencyKey)).size).toBe(51);
  });
});

describe('sweep', () => {
  it('delivers an outbox row written before a crash that lost its enqueue, once it is a minute old', async () => {
    const c = await customer();
    const { outboxId } = await order(c); // written; no message, no fan-out
    const email = fake('email');
    const clock = testClock();
    const deps = { ...t.deps, clock, metrics: createMemoryMetrics(), notifications: { clients: { push: fake('push'), sms: fake('sms'), email }, notConfigured: [] } } as Deps;
    // After 18:00 local, reminders are due for the orders of this file's tests, and a sweep that
    // writes reminders fans out young rows too (it sends fresh reminders at once): write them
    // first, with no clients, so the sweeps below write none and keep the one-minute grace.
    await runNotificationSweep({ ...deps, metrics: createMemoryMetrics(), notifications: undefined } as Deps);
    // Younger than a minute: left to the queue consumer / worker.
    expect((await runNotificationSweep(deps)).remindersWritten).toBe(0);
    expect(await deliveriesOf(outboxId)).toEqual([]);
    clock.advance(61_000);
    const report = await runNotificationSweep(deps);
    expect(report.dispatched!.outboxRows).toBeGreaterThanOrEqual(1);
    expect((await deliveriesOf(outboxId))[0]).toMatchObject({ state: 'sent' });
    expect(email.sent.filter((m) => m.recipient === c.email)).toHaveLength(1);
    expect((deps.metrics as MemoryMetrics).count('notification_backlog')).toBe(2);
  });

  it('a pickup reminder the sweep writes is sent in the same sweep (push only, by default)', async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const c = await customer({ timeZone: 'UTC', devices: [{ token }] });
    const { orderId } = await order(c, 30);
    const [slotRow] = await h.sql<{ starts_at: string }>(`SELECT s.starts_at::text AS starts_at FROM orders o JOIN slots s ON s.id = o.pickup_slot_id WHERE o.id = $1`, [orderId]);
    const push = fake('push');
    const email = fake('email');
    // A minute before the pickup starts: long past 18:00 the evening before.
    const clock = testClock(Date.parse(slotRow!.starts_at) - 60_000);
    const report = await runNotificationSweep({ ...t.deps, clock, metrics: createMemoryMetrics(), notifications: { clients: { push, sms: fake('sms'), email }, notConfigured: [] } } as Deps);
    expect(report.remindersWritten).toBeGreaterThanOrEqual(1);
    const reminder = push.sent.filter((m) => m.type === 'pickup_reminder' && m.recipient === token);
    expect(reminder).toHaveLength(1);
    expect(reminder[0]!.data).toEqual({ type: 'pickup_reminder', orderId });
    expect(email.sent.filter((m) => m.type === 'pickup_reminder' && m.recipient === c.email)).toEqual([]);
  });

  it('without channel clients (the API server) the sweep neither fans out nor sends', async () => {
    const c = await customer();
    const { outboxId } = await order(c);
    const clock = testClock(Date.now() + 120_000);
    const report = await runNotificationSweep({ ...t.deps, clock, notifications: undefined } as Deps);
    expect(report.dispatched).toBeUndefined();
    expect(await deliveriesOf(outboxId)).toEqual([]);
    expect(report.backlog.pending).toBeGreaterThanOrEqual(1);
    expect(report.backlog.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(100);
  });

  it('measures the backlog: pending deliveries and undispatched rows, the oldest age, dead letters', async () => {
    const metrics = createMemoryMetrics();
    const backlog = await measureBacklog({ database: t.deps.database, clock: testClock(), metrics });
    const [truth] = await h.sql<{ pending: number; dead: number }>(
      `SELECT ((SELECT count(*) FROM notification_deliveries WHERE state = 'pending') + (SELECT count(*) FROM notification_outbox WHERE dispatched_at IS NULL))::int AS pending,
              (SELECT count(*)::int FROM notification_deliveries WHERE state = 'dead') AS dead`,
    );
    expect(backlog).toMatchObject({ pending: truth!.pending, dead: truth!.dead });
    expect(truth!.dead).toBeGreaterThanOrEqual(1);
    expect(metrics.count('notification_backlog', { pending: truth!.pending, dead: truth!.dead })).toBe(1);
  });
});

describe('pickup reminder', () => {
  /** An order whose pickup slot is moved to `startsAt` (the API only books future slots). */
  async function orderPickingUpAt(timeZone: string, startsAt: string) {
    const c = await customer({ timeZone });
    const o = await order(c);
    await h.sql(`UPDATE slots SET starts_at = $2::timestamptz, ends_at = $2::timestamptz + interval '2 hours' WHERE id = (SELECT pickup_slot_id FROM orders WHERE id = $1)`, [o.orderId, startsAt]);
    return o;
  }
  const reminders = (orderId: string) => h.sql<{ id: string; created_at: string }>(`SELECT id, created_at::text FROM notification_outbox WHERE dedupe_key = $1`, [`pickup_reminder:${orderId}`]);
  const deps = () => ({ database: t.deps.database, clock: testClock() });

  it('is due at 18:00 local the evening before, across the spring-forward change (Europe/London)', async () => {
    // Pickup Sunday 28 March 2027 10:00 BST (09:00Z); clocks went forward at 01:00Z that night.
    // The evening before is still GMT: 18:00 local = 18:00Z (a fixed "16 h before" would say 17:00Z).
    const o = await orderPickingUpAt('Europe/London', '2027-03-28T09:00:00Z');
    await writePickupReminders(deps(), new Date('2027-03-27T17:59:59Z'));
    expect(await reminders(o.orderId)).toEqual([]);
    await writePickupReminders(deps(), new Date('2027-03-27T18:00:00Z'));
    expect(await reminders(o.orderId)).toHaveLength(1);
  });

  it('is due at 18:00 local the evening before, across the fall-back change (America/New_York)', async () => {
    // Pickup Sunday 7 November 2027 09:00 EST (14:00Z); the evening before is EDT: 18:00 = 22:00Z.
    const o = await orderPickingUpAt('America/New_York', '2027-11-07T14:00:00Z');
    await writePickupReminders(deps(), new Date('2027-11-06T21:59:00Z'));
    expect(await reminders(o.orderId)).toEqual([]);
    await writePickupReminders(deps(), new Date('2027-11-06T22:00:00Z'));
    expect(await reminders(o.orderId)).toHaveLength(1);
  });

  it('is written once when the job runs twice at once and again later; late runs still remind until the slot starts', async () => {
    const o = await orderPickingUpAt('Europe/Madrid', '2027-06-10T07:00:00Z'); // 09:00 CEST; evening before 18:00 CEST = 16:00Z
    const late = new Date('2027-06-10T06:59:00Z');
    const written = await Promise.all([writePickupReminders(deps(), late), writePickupReminders(deps(), late), writePickupReminders(deps(), late)]);
    expect(written.reduce((a, b) => a + b, 0)).toBe(1);
    await writePickupReminders(deps(), late);
    expect(await reminders(o.orderId)).toHaveLength(1);
    const [row] = await h.sql<{ type: string; data: { orderId: string } }>(`SELECT type::text, data FROM notification_outbox WHERE dedupe_key = $1`, [`pickup_reminder:${o.orderId}`]);
    expect(row).toEqual({ type: 'pickup_reminder', data: { orderId: o.orderId } });
  });

  it('is never written once the pickup slot has started, nor for an order that is not confirmed', async () => {
    const started = await orderPickingUpAt('UTC', '2027-07-01T09:00:00Z');
    await writePickupReminders(deps(), new Date('2027-07-01T09:00:00Z'));
    expect(await reminders(started.orderId)).toEqual([]);
    const picked = await orderPickingUpAt('UTC', '2027-07-02T09:00:00Z');
    await h.sql(`UPDATE orders SET status = 'picked_up' WHERE id = $1`, [picked.orderId]);
    await writePickupReminders(deps(), new Date('2027-07-01T20:00:00Z'));
    expect(await reminders(picked.orderId)).toEqual([]);
  });
});
