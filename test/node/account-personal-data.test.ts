/**
 * The personal-data registry (src/account/personal-data.ts) against the migrated database: every
 * column of every table is classified (a new column fails here until it is), nothing is classified
 * that does not exist, and after an account erasure no row of ANY table holds the user's email,
 * name, phone, address text, order notes, cancellation reason, push token or device label. Also:
 * GET /v1/me/export holds everything the account can see and nothing of another account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAL_DATA } from '../../src/account/personal-data.js';
import { actor, slot, zone, type Actor } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const tables = async () =>
  t.sql<{ table_name: string; column_name: string }>(`
    SELECT c.table_name, c.column_name FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
    WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE' ORDER BY 1, 2`);

/** A customer whose personal data is in every place the app keeps it, each value unique to this run. */
async function richCustomer(tag: string) {
  const who = await actor(t);
  const m = {
    name: `Name ${tag}`,
    phone: `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`,
    line1: `${tag} Marker Street`,
    city: `City${tag}`,
    instructions: `Gate code ${tag}`,
    notes: `Notes ${tag}`,
    reason: `Reason ${tag}`,
    device: `device-${tag}`,
    agent: `MarkerApp/${tag}`,
    credit: `Sorry about the stain ${tag}`,
  };
  expect((await t.api.patch('/v1/me', { name: m.name, phone: m.phone }, { token: who.token })).status).toBe(200);
  const login = await t.api.post('/v1/auth/login', { email: who.email, password: 'fixture password' }, { headers: { 'user-agent': m.agent } });
  expect(login.status).toBe(200);
  expect((await t.api.send('PUT', `/v1/me/devices/${m.device}`, { platform: 'ios', locale: 'en-GB' }, { token: who.token })).status).toBe(201);
  expect((await t.api.patch('/v1/me/notification-preferences', { picked_up: { sms: false } }, { token: who.token })).status).toBe(200);
  const z = await zone(t);
  const [addr] = await t.sql<{ id: string }>(
    `INSERT INTO addresses (user_id, label, line1, city, postcode, instructions) VALUES ($1, 'Home', $2, $3, $4, $5) RETURNING id`,
    [who.userId, m.line1, m.city, z.postcode, m.instructions],
  );
  const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
  const delivery = await slot(t, z.id, 'delivery', { startsInHours: 100 });
  const washFold = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
  const order = await t.api.post(
    '/v1/orders',
    { items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }], addressId: addr!.id, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery', notes: m.notes },
    { token: who.token, headers: { 'idempotency-key': `pd-${crypto.randomUUID()}` } },
  );
  expect(order.status, order.text).toBe(201);
  // A sent email: the delivery row holds the recipient's address.
  await t.sql(
    `INSERT INTO notification_deliveries (outbox_id, channel, recipient, next_attempt_at, created_at, updated_at)
     SELECT id, 'email', $2, now(), now(), now() FROM notification_outbox WHERE user_id = $1::uuid LIMIT 1`,
    [who.userId, who.email],
  );
  // An admin's goodwill credit, its note naming the customer's trouble.
  await t.sql(`INSERT INTO credit_entries (user_id, amount, currency, reason, note, created_at) VALUES ($1, 100, 'USD', 'goodwill', $2, now())`, [who.userId, m.credit]);
  await t.sql('UPDATE users SET credit_balance = credit_balance + 100 WHERE id = $1', [who.userId]);
  await t.sql(`INSERT INTO user_identities (provider, subject, user_id, email, created_at, last_used_at) VALUES ('google', $1, $2, $3, now(), now())`, [
    `sub-${tag}`,
    who.userId,
    who.email,
  ]);
  return { who, m, orderId: order.body.id as string, addressId: addr!.id, postcode: z.postcode };
}

describe('the personal-data registry', () => {
  it('classifies every column of every table, and only columns that exist', async () => {
    const columns = await tables();
    const unclassified = columns.filter((c) => PERSONAL_DATA[c.table_name]?.[c.column_name] === undefined).map((c) => `${c.table_name}.${c.column_name}`);
    expect(unclassified, 'classify these columns in src/account/personal-data.ts').toEqual([]);
    const present = new Set(columns.map((c) => `${c.table_name}.${c.column_name}`));
    const stale = Object.entries(PERSONAL_DATA).flatMap(([table, cols]) => Object.keys(cols).map((c) => `${table}.${c}`)).filter((k) => !present.has(k));
    expect(stale).toEqual([]);
  });

  it('after an erasure, no row of any table holds a trace of the user', async () => {
    const tag = crypto.randomUUID().replace(/-/g, '').slice(0, 12);
    const { who, m, orderId } = await richCustomer(tag);
    const cancelled = await t.api.post(`/v1/orders/${orderId}/cancel`, { reason: m.reason }, { token: who.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    const markers = [who.email, ...Object.values(m)];

    const traces = async () => {
      const found: string[] = [];
      for (const table of Object.keys(PERSONAL_DATA)) {
        const [row] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} x WHERE x::text ILIKE ANY ($1::text[])`, [
          `{${markers.map((v) => `"%${v.replace(/[\\"]/g, '')}%"`).join(',')}}`,
        ]);
        if (row!.n > 0) found.push(`${table}: ${row!.n}`);
      }
      return found;
    };
    // The markers are really there before: the scan would see them.
    expect((await traces()).length).toBeGreaterThanOrEqual(9);

    const res = await t.api.send('DELETE', '/v1/me', { password: 'fixture password' }, { token: who.token });
    expect(res.status, res.text).toBe(204);
    expect(await traces()).toEqual([]);
    // The order is still there, for the accounting.
    expect((await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM order_lines WHERE order_id = $1::uuid', [orderId]))[0]!.n).toBe(1);

    // What the registry says is what happened, column by column, on every row the account owns
    // (`users` by id, any other table by user_id): a column classified `deleted` or `cleared` that
    // the erasure does not handle fails here even when the markers above never reach it.
    const ownerColumn = new Map((await tables()).filter((c) => c.column_name === 'user_id').map((c) => [c.table_name, 'user_id']));
    ownerColumn.set('users', 'id');
    const unhandled: string[] = [];
    for (const [table, columns] of Object.entries(PERSONAL_DATA)) {
      const owner = ownerColumn.get(table);
      if (!owner) continue;
      for (const [column, handling] of Object.entries(columns)) {
        if (handling !== 'deleted' && handling !== 'cleared') continue;
        const [row] = await t.sql<{ n: number }>(
          handling === 'deleted'
            ? `SELECT count(*)::int AS n FROM ${table} WHERE ${owner} = $1::uuid`
            : `SELECT count(*)::int AS n FROM ${table} WHERE ${owner} = $1::uuid AND ${column} IS NOT NULL`,
          [who.userId],
        );
        if (row!.n > 0) unhandled.push(`${table}.${column} (${handling}): ${row!.n}`);
      }
    }
    expect(unhandled).toEqual([]);
  });
});

describe('GET /v1/me/export', () => {
  it('names no member of staff through a timeline entry’s evidence: an admin’s waiver is there without the admin’s user id', async () => {
    // The export leaves out who acted (`actorRole` only, never `actor.userId`); the waiver's
    // evidence names the admin too (`adminId`), so it must not bring that id back in.
    const a = await richCustomer(`w${crypto.randomUUID().slice(0, 8)}`);
    const boss = await actor(t, 'admin');
    await t.sql(`UPDATE orders SET final_total = estimated_total, weighed_at = now() WHERE id = $1::uuid`, [a.orderId]);
    const reason = `On the house ${a.m.notes}`;
    const waived = await t.api.post(`/v1/staff/orders/${a.orderId}/waive-balance`, { reason }, { token: boss.token });
    expect(waived.status, waived.text).toBe(200);
    const res = await t.api.get('/v1/me/export', { token: a.who.token });
    expect(res.status, res.text).toBe(200);
    const entry = (res.body.orders[0].timeline as Array<{ evidence: Record<string, unknown> | null }>).find((e) => e.evidence?.waived !== undefined);
    expect(entry?.evidence).toMatchObject({ waived: expect.any(Number), reason });
    expect(JSON.stringify(res.body.orders[0].timeline.map((e: { evidence: unknown }) => e.evidence))).not.toContain(boss.userId);
  });

  it('holds everything the account can see and nothing of another account', async () => {
    const a = await richCustomer(`a${crypto.randomUUID().slice(0, 8)}`);
    const b = await richCustomer(`b${crypto.randomUUID().slice(0, 8)}`);
    const res = await t.api.get('/v1/me/export', { token: a.who.token });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="account-export-\d{4}-\d{2}-\d{2}\.json"$/);
    const doc = res.body;
    expect(doc).toMatchObject({ exportVersion: 1, account: { id: a.who.userId, email: a.who.email, name: a.m.name, phone: a.m.phone } });
    expect(doc.identities).toEqual([expect.objectContaining({ provider: 'google', email: a.who.email })]);
    expect(doc.addresses).toEqual([expect.objectContaining({ id: a.addressId, line1: a.m.line1, city: a.m.city, instructions: a.m.instructions })]);
    expect(doc.orders).toHaveLength(1);
    expect(doc.orders[0]).toMatchObject({ id: a.orderId, status: 'confirmed', notes: a.m.notes, address: { line1: a.m.line1 } });
    expect(doc.orders[0].lines).toHaveLength(1);
    expect(doc.orders[0].timeline.length).toBeGreaterThanOrEqual(1);
    expect(doc.devices).toEqual([expect.objectContaining({ platform: 'ios', locale: 'en-GB' })]);
    expect(doc.notificationPreferences).toEqual([{ type: 'picked_up', channel: 'sms', enabled: false }]);
    expect(doc.inbox.length).toBeGreaterThanOrEqual(1);
    expect(doc.sessions.map((s: { deviceLabel: string | null }) => s.deviceLabel)).toContain(a.m.agent);
    expect(doc.credit).toEqual({ balance: 100, entries: [expect.objectContaining({ amount: 100, reason: 'goodwill', note: a.m.credit, orderId: null })] });
    expect(doc.orders[0]).toMatchObject({ discountAmount: 0, creditApplied: 0 });
    // What the order view shows the customer is in the export too: when the courier comes to the
    // home (the windows), the price breakdown, and what each timeline entry recorded.
    const view = (await t.api.get(`/v1/orders/${a.orderId}`, { token: a.who.token })).body;
    const window = (s: { startsAt: string; endsAt: string }) => ({ startsAt: s.startsAt, endsAt: s.endsAt });
    expect(doc.orders[0]).toMatchObject({
      pickupSlot: window(view.pickupSlot),
      deliverySlot: window(view.deliverySlot),
      estimate: view.estimate,
      final: view.final,
      weighedAt: view.weighedAt,
    });
    expect(doc.orders[0].timeline.map((e: { evidence: unknown }) => e.evidence)).toEqual(view.timeline.map((e: { evidence: unknown }) => e.evidence));
    const text = JSON.stringify(doc);
    for (const secret of [a.m.device, 'token_hash', 'password']) expect(text).not.toContain(secret);
    for (const other of [b.who.email, b.who.userId, b.orderId, b.addressId, ...Object.values(b.m)]) expect(text).not.toContain(other);
  });

  it('another customer’s export does not hold the first one', async () => {
    const a = await richCustomer(`c${crypto.randomUUID().slice(0, 8)}`);
    const other: Actor = await actor(t);
    const res = await t.api.get('/v1/me/export', { token: other.token });
    expect(res.status).toBe(200);
    expect(res.body.orders).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain(a.who.email);
  });
});
