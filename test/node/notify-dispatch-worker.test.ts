/**
 * Issue 17: the Node `notifications-worker` loop (src/platform/node/notifications-worker.ts) on
 * the suite's own database: it sends what the outbox holds without any message, and a graceful
 * stop lets the sends in flight finish and be recorded, and gives back rows claimed but not sent.
 * Fake ChannelClients (the real ones are the channels suite's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { sendDue, type DispatchDeps } from '../../src/notifications/dispatch.js';
import { fanOut } from '../../src/notifications/dispatch-fanout.js';
import type { ChannelClient, RenderedMessage, SendOutcome } from '../../src/notifications/types.js';
import { startNotificationsLoop } from '../../src/platform/node/notifications-worker.js';
import { uniqueEmail } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';

let t: TestApp;
let h: Harness;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ t, h, close } = await isolatedApp('laundry_test_notify_worker'));
});
afterAll(async () => {
  await close?.();
});

/** Resolves when `check` holds, polling; fails after a generous bound (not a timing assertion). */
async function until(check: () => Promise<boolean> | boolean, what: string, bound = 20_000): Promise<void> {
  const end = Date.now() + bound;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A customer with an outbox row (what the order trigger writes), as SQL. */
async function outboxFor(): Promise<{ email: string; outboxId: number }> {
  const email = uniqueEmail('worker');
  const [user] = await h.sql<{ id: string }>(`INSERT INTO users (email, password_hash, created_at, updated_at) VALUES ($1, 'x', now(), now()) RETURNING id`, [email]);
  const [row] = await h.sql<{ id: string }>(
    `INSERT INTO notification_outbox (user_id, type, dedupe_key, created_at) VALUES ($1, 'refund_issued', $2, now()) RETURNING id`,
    [user!.id, `test:${crypto.randomUUID()}`],
  );
  return { email, outboxId: Number(row!.id) };
}

const delivery = async (outboxId: number) =>
  (await h.sql<{ state: string; attempts: number; locked_until: string | null }>(
    `SELECT state::text AS state, attempts, locked_until::text AS locked_until FROM notification_deliveries WHERE outbox_id = $1`,
    [outboxId],
  ))[0];

/** An email client whose sends wait until the test lets them go. */
function gatedEmail() {
  const sent: RenderedMessage[] = [];
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const client: ChannelClient = {
    channel: 'email',
    provider: 'fake',
    async send(m): Promise<SendOutcome> {
      sent.push(m);
      await gate;
      return { kind: 'sent', providerMessageId: `re_${m.idempotencyKey}` };
    },
  };
  return { client, sent, open: () => open() };
}

const deps = (email: ChannelClient): DispatchDeps => ({ database: t.deps.database, clock: { now: () => new Date() }, logger: t.logger, metrics: createMemoryMetrics(), clients: { email } });

describe('notifications worker loop', () => {
  it('sends an outbox row by polling; a stop during a send waits for it to finish and be recorded', async () => {
    const { email, outboxId } = await outboxFor();
    const gated = gatedEmail();
    const loop = startNotificationsLoop(deps(gated.client), { idleMs: 20 });
    await until(() => gated.sent.some((m) => m.recipient === email), 'the send to start');
    const stopped = loop.stop();
    expect(await delivery(outboxId)).toMatchObject({ state: 'pending', attempts: 1 });
    gated.open();
    await stopped;
    expect(await delivery(outboxId)).toMatchObject({ state: 'sent', attempts: 1, locked_until: null });
  });

  it('rows claimed when a stop arrives are given back unsent, their attempt not counted', async () => {
    const { outboxId } = await outboxFor();
    const gated = gatedEmail();
    gated.open();
    const d = deps(gated.client);
    await fanOut(d);
    const report = await sendDue(d, { stopping: () => true });
    expect(report.claimed).toBe(0);
    expect(gated.sent).toEqual([]);
    expect(await delivery(outboxId)).toMatchObject({ state: 'pending', attempts: 0, locked_until: null });
  });

  it('keeps going after a failed cycle (database error) and stops promptly when idle', async () => {
    const gated = gatedEmail();
    gated.open();
    let failures = 0;
    const d = deps(gated.client);
    const flaky: DispatchDeps = {
      ...d,
      database: { ...d.database, rows: (schema, query) => (failures++ < 2 ? Promise.reject(new Error('connection refused')) : d.database.rows(schema, query)) },
    };
    const loop = startNotificationsLoop(flaky, { idleMs: 10 });
    await until(() => loop.cycles >= 4, 'cycles after the failures');
    await loop.stop();
    expect(t.logger.entries.filter((e) => e.msg === 'notification dispatch cycle failed; retrying').length).toBeGreaterThanOrEqual(1);
  });
});
