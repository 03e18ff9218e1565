/**
 * Review 17: notification defects, each a failing test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { sendDue, type ChannelClients, type DispatchDeps } from '../../src/notifications/dispatch.js';
import { fanOut } from '../../src/notifications/dispatch-fanout.js';
import { consumeDeadLetters } from '../../src/notifications/queue.js';
import { actor, address, slot, zone } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';
import { fakeClient as fake, testClock } from '../support/notify-fakes.js';

let t: TestApp;
let h: Harness;
let close: (() => Promise<void>) | undefined;
let serviceId: string;
beforeAll(async () => {
  ({ t, h, close } = await isolatedApp('laundry_test_review17_notify'));
  serviceId = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold').id;
});
afterAll(async () => {
  await close?.();
});

const deps = (clients: ChannelClients, clock = testClock()): DispatchDeps & { clock: ReturnType<typeof testClock> } => ({
  database: t.deps.database,
  logger: t.logger,
  metrics: createMemoryMetrics(),
  clock,
  clients,
});

describe('review17: mandatory payment messages', () => {
  it('a payment_action_required message is never silently dropped: push-only preference and no device still delivers somewhere', async () => {
    const who = await actor(h);
    // Allowed by PATCH: push stays on (default), so the type is "not silenced".
    const patch = await h.api.patch('/v1/me/notification-preferences', { payment_action_required: { email: false, sms: false } }, { token: who.token });
    expect(patch.status, patch.text).toBe(200);
    // The customer has no registered device and no phone.
    const [o] = await h.sql<{ id: string }>(
      `INSERT INTO notification_outbox (user_id, type, dedupe_key, data, created_at) VALUES ($1, 'payment_action_required', $2, '{}'::jsonb, now()) RETURNING id`,
      [who.userId, `review17:${crypto.randomUUID()}`],
    );
    const d = deps({ push: fake('push'), sms: fake('sms'), email: fake('email') }, testClock(Date.now() + 1000));
    await fanOut(d);
    const rows = await h.sql<{ channel: string; state: string }>(`SELECT channel::text, state::text FROM notification_deliveries WHERE outbox_id = $1`, [o!.id]);
    // Defect: zero deliveries at all; the mandatory message vanished.
    expect(rows.filter((r) => r.state === 'pending')).not.toEqual([]);
    expect(rows).toContainEqual({ channel: 'email', state: 'pending' });
  });

  it('push-only with a device but push not configured here: the email goes; with push deliverable, email stays off', async () => {
    const who = await actor(h);
    const patch = await h.api.patch('/v1/me/notification-preferences', { refund_issued: { email: false, sms: false } }, { token: who.token });
    expect(patch.status, patch.text).toBe(200);
    await h.sql(`INSERT INTO devices (token, user_id, platform, created_at, updated_at) VALUES ($1, $2, 'android', now(), now())`, [`r17-m-${crypto.randomUUID()}`, who.userId]);
    const outbox = async () =>
      (
        await h.sql<{ id: string }>(
          `INSERT INTO notification_outbox (user_id, type, dedupe_key, data, created_at) VALUES ($1, 'refund_issued', $2, '{}'::jsonb, now()) RETURNING id`,
          [who.userId, `review17:${crypto.randomUUID()}`],
        )
      )[0]!.id;
    const states = async (id: string) =>
      h.sql<{ channel: string; state: string; last_error: string | null }>(
        `SELECT channel::text, state::text, last_error FROM notification_deliveries WHERE outbox_id = $1 ORDER BY channel`,
        [id],
      );
    const first = await outbox();
    await fanOut(deps({ email: fake('email') }, testClock(Date.now() + 1000)));
    expect(await states(first)).toEqual([
      { channel: 'email', state: 'pending', last_error: null },
      { channel: 'push', state: 'skipped', last_error: 'channel not configured: push' },
    ]);
    const second = await outbox();
    await fanOut(deps({ push: fake('push'), email: fake('email') }, testClock(Date.now() + 1000)));
    expect(await states(second)).toEqual([
      { channel: 'email', state: 'skipped', last_error: 'preference: refund_issued off on email' },
      { channel: 'push', state: 'pending', last_error: null },
    ]);
    // Leave nothing due for the other tests' sends.
    await h.sql(`UPDATE notification_deliveries SET state = 'skipped' WHERE outbox_id IN ($1, $2) AND state = 'pending'`, [first, second]);
  });
});

describe('review17: a push token that moved to another account', () => {
  it('does not send account A’s pending order notification to the phone now registered to account B', async () => {
    const a = await actor(h);
    const z = await zone(h, { timeZone: 'Europe/London' });
    const addressId = await address(h, a.userId, z.postcode);
    const token = `review17-token-${crypto.randomUUID()}`;
    const reg = await h.api.send('PUT', `/v1/me/devices/${encodeURIComponent(token)}`, { platform: 'android' }, { token: a.token });
    expect(reg.status, reg.text).toBe(201);
    const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(h, z.id, 'delivery', { startsInHours: 104 });
    const res = await h.api.post(
      '/v1/orders',
      { items: [{ serviceId, estimatedWeightGrams: 5000 }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' },
      { token: a.token, headers: { 'idempotency-key': `r17-${crypto.randomUUID()}` } },
    );
    expect(res.status, res.text).toBe(201);
    const orderId = res.body.id as string;

    const clock = testClock(Date.now() + 1000);
    // FCM is briefly down: the push is retried later.
    const push = fake('push', (_m, n) => (n === 1 ? { kind: 'retry', error: 'fcm 503' } : { kind: 'sent', providerMessageId: `p-${n}` }));
    const d = deps({ push }, clock);
    await fanOut(d);
    await sendDue(d);
    expect(push.sent.filter((m) => m.recipient === token)).toHaveLength(1);

    // Meanwhile A signs out on that phone and B signs in on it: the token moves to B.
    const b = await actor(h);
    const moved = await h.api.send('PUT', `/v1/me/devices/${encodeURIComponent(token)}`, { platform: 'android' }, { token: b.token });
    expect(moved.status, moved.text).toBe(201);

    clock.advance(60 * 60_000);
    await sendDue(d);
    const leaked = push.sent.slice(1).filter((m) => m.recipient === token && JSON.stringify(m).includes(orderId));
    // Defect: A's order notification (its id, status) reaches B's phone.
    expect(leaked).toEqual([]);
    const rows = await h.sql<{ state: string; last_error: string | null }>(
      `SELECT d.state::text, d.last_error FROM notification_deliveries d JOIN notification_outbox o ON o.id = d.outbox_id
        WHERE o.order_id = $1 AND d.channel = 'push' AND d.recipient = $2`,
      [orderId, token],
    );
    expect(rows).toEqual([{ state: 'skipped', last_error: 'recipient moved: the device token is now registered to another account' }]);
  });

  it('skips, never sends, a retry whose token was deleted, whose number or address the customer changed', async () => {
    const who = await actor(h);
    const phone = `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
    await h.sql(`UPDATE users SET phone = $2 WHERE id = $1`, [who.userId, phone]);
    const token = `review17-gone-${crypto.randomUUID()}`;
    await h.sql(`INSERT INTO devices (token, user_id, platform, created_at, updated_at) VALUES ($1, $2, 'android', now(), now())`, [token, who.userId]);
    const [o] = await h.sql<{ id: string }>(
      `INSERT INTO notification_outbox (user_id, type, dedupe_key, data, created_at) VALUES ($1, 'payment_action_required', $2, '{}'::jsonb, now()) RETURNING id`,
      [who.userId, `review17:${crypto.randomUUID()}`],
    );
    const clock = testClock(Date.now() + 1000);
    const retry = () => ({ kind: 'retry' as const, error: 'HTTP 503' });
    const clients = { push: fake('push', retry), sms: fake('sms', retry), email: fake('email', retry) };
    const d = deps(clients, clock);
    await fanOut(d);
    const ids = (await h.sql<{ id: string }>(`SELECT id FROM notification_deliveries WHERE outbox_id = $1 AND state = 'pending'`, [o!.id])).map((r) => Number(r.id));
    expect(ids).toHaveLength(3);
    expect((await sendDue(d, { ids })).retry.filter((r) => r.outcome === 'retry')).toHaveLength(3);
    await h.sql(`DELETE FROM devices WHERE token = $1`, [token]);
    await h.sql(`UPDATE users SET phone = NULL, email = $2 WHERE id = $1`, [who.userId, `moved-${crypto.randomUUID()}@example.com`]);
    clock.advance(60 * 60_000);
    const report = await sendDue(d, { ids });
    expect(report.claimed).toBe(0);
    expect([clients.push.sent.length, clients.sms.sent.length, clients.email.sent.length]).toEqual([1, 1, 1]);
    const rows = await h.sql<{ channel: string; state: string; attempts: number; last_error: string | null }>(
      `SELECT channel::text, state::text, attempts, last_error FROM notification_deliveries WHERE outbox_id = $1 ORDER BY channel`,
      [o!.id],
    );
    expect(rows).toEqual([
      { channel: 'email', state: 'skipped', attempts: 1, last_error: "recipient changed: the address is no longer the customer's email" },
      { channel: 'push', state: 'skipped', attempts: 1, last_error: 'recipient gone: the device token is no longer registered' },
      { channel: 'sms', state: 'skipped', attempts: 1, last_error: "recipient changed: the number is no longer the customer's phone" },
    ]);
  });
});

describe('review17: the dead-letter queue', () => {
  it('a retry message dead-lettered by a short database outage does not kill a delivery that has attempts left', async () => {
    const who = await actor(h);
    const token = `review17-dlq-${crypto.randomUUID()}`;
    await h.sql(`INSERT INTO devices (token, user_id, platform, created_at, updated_at) VALUES ($1, $2, 'android', now(), now())`, [token, who.userId]);
    const [o] = await h.sql<{ id: string }>(
      `INSERT INTO notification_outbox (user_id, type, dedupe_key, data, created_at) VALUES ($1, 'refund_issued', $2, '{}'::jsonb, now()) RETURNING id`,
      [who.userId, `review17:${crypto.randomUUID()}`],
    );
    const clock = testClock(Date.now() + 1000);
    const d = deps({ push: fake('push', () => ({ kind: 'retry', error: 'fcm 503' })) }, clock);
    await fanOut(d);
    const report = await sendDue(d);
    const retry = report.retry.find(() => true)!;
    expect(retry.attempts).toBe(1);
    // The retry message's consumer failed 5 times in ~2.5 min (database unreachable): it lands in the DLQ.
    clock.advance(3 * 60_000);
    await consumeDeadLetters(d, [{ body: { kind: 'delivery', id: retry.id }, attempts: 6, ack() {}, retry() {} }]);
    const [row] = await h.sql<{ state: string; attempts: number }>(`SELECT state::text, attempts FROM notification_deliveries WHERE id = $1`, [retry.id]);
    // Defect: 'dead' after one provider attempt of MAX_ATTEMPTS (8); the sweep would have sent it.
    expect({ state: row!.state, attempts: row!.attempts, outbox: o!.id }).toEqual({ state: 'pending', attempts: 1, outbox: o!.id });
  });
});
