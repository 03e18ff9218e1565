/**
 * Issue 15: the synthetic customer that release probes place and cancel real orders as. Real
 * customers and anonymous callers never see the synthetic zone, the synthetic customer sees
 * nothing else (so probes never take real capacity), staff lists leave its orders out, and
 * `npm run cli -- synthetic-setup` (src/db/synthetic-setup.ts) is idempotent and tops up slots.
 * A database of its own: the setup's zone and account have fixed identities, and counts are exact.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import {
  setupSyntheticCustomer,
  SYNTHETIC_SLOT_CAPACITY,
  SYNTHETIC_ZONE_ID,
  SyntheticSetupError,
  type SyntheticSetupSummary,
} from '../../src/db/synthetic-setup.js';
import { SYNTHETIC_POSTCODE, SYNTHETIC_ZONE_PREFIX } from '../../src/domain/postcodes.js';
import { prepare, recreateServerDatabase } from '../setup/databases.js';
import { expectProblem } from '../support/client.js';
import { actor, address, slot, zone, type Actor, type ZoneFixture } from '../support/fixtures.js';
import { operations } from '../support/openapi-walk.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

/** The PostgreSQL URL of this file's database, when it is on the server (else PGlite in memory). */
let databaseUrl: string | undefined;

async function ownDatabase(): Promise<Database> {
  const server = process.env.TEST_DATABASE_URL;
  if (inject('nodeDatabaseUrl') && server) {
    databaseUrl = await recreateServerDatabase(server, 'laundry_test_synthetic');
    return createPostgresDatabase(databaseUrl, { max: 10 });
  }
  const database = await createPgliteDatabase('memory://');
  await prepare(database);
  return database;
}

const PROBE_EMAIL = 'release-probe@synthetic.example.com';
const PROBE_PASSWORD = 'synthetic probe password 1';
const DAY = 86_400_000;

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

let t: TestApp;
let first: SyntheticSetupSummary;
let probe: Actor;
let real: Actor;
let staff: Actor;
let admin: Actor;
let realZone: ZoneFixture;
let washFoldId: string;

beforeAll(async () => {
  t = await createTestApp({ database: await ownDatabase(), stripe: false });
  first = await setupSyntheticCustomer(t.deps, { email: PROBE_EMAIL, password: PROBE_PASSWORD });
  const login = await t.api.post('/v1/auth/login', { email: PROBE_EMAIL, password: PROBE_PASSWORD });
  expect(login.status, login.text).toBe(200);
  probe = { email: PROBE_EMAIL, userId: login.body.user.id, token: login.body.accessToken };
  [real, staff, admin] = await Promise.all([actor(t), actor(t, 'staff'), actor(t, 'admin')]);
  realZone = await zone(t);
  washFoldId = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold').id;
});
afterAll(async () => {
  await t?.close();
});

/** The synthetic zone's bookable slots as the probe sees them. */
async function probeSlots(kind: 'pickup' | 'delivery') {
  const res = await t.api.get(`/v1/slots?postcode=${SYNTHETIC_POSTCODE}&kind=${kind}`, { token: probe.token });
  expect(res.status, res.text).toBe(200);
  return res.body.data as Array<{ id: string; startsAt: string }>;
}

/** A probe order on the synthetic zone: pickup tomorrow or later, delivery four days after it. */
async function placeProbeOrder() {
  const pickups = await probeSlots('pickup');
  const deliveries = await probeSlots('delivery');
  const pickup = pickups.find((s) => Date.parse(s.startsAt) > Date.now() + DAY)!;
  const delivery = deliveries.find((s) => Date.parse(s.startsAt) > Date.parse(pickup.startsAt) + 4 * DAY)!;
  const res = await t.api.post(
    '/v1/orders',
    {
      items: [{ serviceId: washFoldId, estimatedWeightGrams: 5000 }],
      addressId: first.address.id,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: 'on_delivery',
    },
    { token: probe.token, headers: { 'idempotency-key': `probe-${crypto.randomUUID()}` } },
  );
  expect(res.status, res.text).toBe(201);
  return { order: res.body, pickup, delivery };
}

describe('the synthetic customer sees only the synthetic zone', () => {
  it('coverage, slots and its address match the synthetic zone for the synthetic user', async () => {
    const coverage = await t.api.get(`/v1/coverage?postcode=${encodeURIComponent('qq9 9qq')}`, { token: probe.token });
    expect(coverage.body).toMatchObject({ served: true, zone: { id: SYNTHETIC_ZONE_ID, name: 'Synthetic: release probes', deliveryFee: 0, minimumOrder: 0 } });
    const pickups = await probeSlots('pickup');
    expect(pickups.length).toBeGreaterThanOrEqual(3 * 12);
    const addresses = await t.api.get('/v1/addresses', { token: probe.token });
    expect(addresses.body.data).toEqual([expect.objectContaining({ id: first.address.id, postcode: SYNTHETIC_POSTCODE, served: true, zoneId: SYNTHETIC_ZONE_ID })]);
  });

  it('a real zone does not serve the synthetic user: no coverage, no slots, no order', async () => {
    const coverage = await t.api.get(`/v1/coverage?postcode=${realZone.postcode}`, { token: probe.token });
    expect(coverage.body).toMatchObject({ served: false, zone: null });
    expectProblem(await t.api.get(`/v1/slots?postcode=${realZone.postcode}&kind=pickup`, { token: probe.token }), 422, 'postcode_not_served');
    const created = await t.api.post('/v1/addresses', { line1: '1 Real Street', city: 'Realtown', postcode: realZone.postcode }, { token: probe.token });
    expect(created.body).toMatchObject({ served: false, zoneId: null });
    const pickup = await slot(t, realZone.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(t, realZone.id, 'delivery', { startsInHours: 96 });
    const refused = await t.api.post(
      '/v1/orders',
      { items: [{ serviceId: washFoldId, estimatedWeightGrams: 5000 }], addressId: created.body.id, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' },
      { token: probe.token, headers: { 'idempotency-key': `probe-${crypto.randomUUID()}` } },
    );
    expectProblem(refused, 422, 'postcode_not_served');
    const [row] = await t.sql<{ reserved: number }>('SELECT reserved FROM slots WHERE id = $1', [pickup.id]);
    expect(Number(row!.reserved)).toBe(0);
    expect((await t.api.send('DELETE', `/v1/addresses/${created.body.id}`, undefined, { token: probe.token })).status).toBe(204);
  });

  it('places and cancels a real order in the synthetic zone, taking and giving back synthetic capacity only', async () => {
    const { order, pickup } = await placeProbeOrder();
    expect(order).toMatchObject({ status: 'confirmed', paymentMethod: 'on_delivery' });
    const [held] = await t.sql<{ reserved: number; zone_id: string }>('SELECT reserved, zone_id FROM slots WHERE id = $1', [pickup.id]);
    expect({ reserved: Number(held!.reserved), zone: held!.zone_id }).toEqual({ reserved: 1, zone: SYNTHETIC_ZONE_ID });
    expect((await t.api.post(`/v1/orders/${order.id}/cancel`, {}, { token: probe.token })).status).toBe(200);
    const [freed] = await t.sql<{ reserved: number }>('SELECT reserved FROM slots WHERE id = $1', [pickup.id]);
    expect(Number(freed!.reserved)).toBe(0);
  });
});

describe('real customers and anonymous callers never see the synthetic zone', () => {
  it('anonymous: the reserved postcode is not served; real zones still are', async () => {
    expect((await t.api.get(`/v1/coverage?postcode=${SYNTHETIC_POSTCODE}`)).body).toMatchObject({ served: false, zone: null });
    expectProblem(await t.api.get(`/v1/slots?postcode=${SYNTHETIC_POSTCODE}&kind=pickup`), 422, 'postcode_not_served');
    expect((await t.api.get(`/v1/coverage?postcode=${realZone.postcode}`)).body).toMatchObject({ served: true, zone: { id: realZone.id } });
  });

  it('a forged or malformed token on a public route is an anonymous caller, not the synthetic user', async () => {
    const forged = `${probe.token.slice(0, -4)}AAAA`;
    for (const authorization of [`Bearer ${forged}`, 'Bearer', probe.token]) {
      const res = await t.api.get(`/v1/coverage?postcode=${SYNTHETIC_POSTCODE}`, { headers: { authorization } });
      expect(res.status).toBe(200);
      expect(res.body.served, authorization.slice(0, 12)).toBe(false);
    }
  });

  it('a real customer with the reserved postcode: no coverage, no slots, an unserved address, and no booking of synthetic slots', async () => {
    expect((await t.api.get(`/v1/coverage?postcode=${SYNTHETIC_POSTCODE}`, { token: real.token })).body).toMatchObject({ served: false });
    expectProblem(await t.api.get(`/v1/slots?postcode=${SYNTHETIC_POSTCODE}&kind=delivery`, { token: real.token }), 422, 'postcode_not_served');
    const created = await t.api.post('/v1/addresses', { line1: '1 Probe Lane', city: 'Nowhere', postcode: 'QQ9 9QQ' }, { token: real.token });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ served: false, zoneId: null });
    const [pickup] = await probeSlots('pickup');
    const delivery = (await probeSlots('delivery')).find((s) => Date.parse(s.startsAt) > Date.parse(pickup!.startsAt) + 4 * DAY)!;
    const refused = await t.api.post(
      '/v1/orders',
      { items: [{ serviceId: washFoldId, estimatedWeightGrams: 5000 }], addressId: created.body.id, pickupSlotId: pickup!.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' },
      { token: real.token, headers: { 'idempotency-key': `real-${crypto.randomUUID()}` } },
    );
    expectProblem(refused, 422, 'postcode_not_served');
    // And a real customer's order in a real zone still works.
    const ok = await t.api.post(
      '/v1/orders',
      {
        items: [{ serviceId: washFoldId, estimatedWeightGrams: 5000 }],
        addressId: await address(t, real.userId, realZone.postcode),
        pickupSlotId: (await slot(t, realZone.id, 'pickup', { startsInHours: 30 })).id,
        deliverySlotId: (await slot(t, realZone.id, 'delivery', { startsInHours: 102 })).id,
        paymentMethod: 'on_delivery',
      },
      { token: real.token, headers: { 'idempotency-key': `real-${crypto.randomUUID()}` } },
    );
    expect(ok.status, ok.text).toBe(201);
  });

  it('admins cannot give a real zone the reserved area, and the zone list shows which zone is synthetic', async () => {
    for (const prefixes of [[SYNTHETIC_ZONE_PREFIX], ['qq'], ['SW1', 'QQ1A']]) {
      const res = await t.api.post('/v1/admin/zones', { name: 'Sneaky', postcodePrefixes: prefixes, timeZone: 'UTC', deliveryFee: 0, minimumOrder: 0, freeDeliveryFrom: null }, { token: admin.token });
      expectProblem(res, 422, 'validation_failed');
    }
    expectProblem(await t.api.patch(`/v1/admin/zones/${realZone.id}`, { postcodePrefixes: ['QQ9'] }, { token: admin.token }), 422, 'validation_failed');
    const list = (await t.api.get('/v1/admin/zones', { token: admin.token })).body.data as Array<{ id: string; synthetic: boolean }>;
    expect(list.find((z) => z.id === SYNTHETIC_ZONE_ID)?.synthetic).toBe(true);
    expect(list.find((z) => z.id === realZone.id)?.synthetic).toBe(false);
  });
});

describe('staff lists leave synthetic orders out', () => {
  it('GET /v1/staff/orders excludes the synthetic customer by default; synthetic=true lists only its orders', async () => {
    const { order: probeOrder } = await placeProbeOrder();
    const realOrders = await t.sql<{ id: string }>('SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id WHERE NOT u.synthetic');
    expect(realOrders.length).toBeGreaterThan(0);
    const ids = async (query: string) => {
      const res = await t.api.get(`/v1/staff/orders?limit=100${query}`, { token: staff.token });
      expect(res.status, res.text).toBe(200);
      return (res.body.data as Array<{ id: string }>).map((o) => o.id);
    };
    const byDefault = await ids('');
    expect(byDefault).not.toContain(probeOrder.id);
    expect(new Set(byDefault)).toEqual(new Set(realOrders.map((o) => o.id)));
    expect(await ids(`&zone=${SYNTHETIC_ZONE_ID}`)).toEqual([]);
    expect(await ids('&synthetic=false')).toEqual(byDefault);
    const onlySynthetic = await ids('&synthetic=true');
    expect(onlySynthetic).toContain(probeOrder.id);
    expect(onlySynthetic.filter((id) => byDefault.includes(id))).toEqual([]);
    expectProblem(await t.api.get('/v1/staff/orders?synthetic=yes', { token: staff.token }), 422, 'validation_failed');
    await t.api.post(`/v1/orders/${probeOrder.id}/cancel`, {}, { token: probe.token });
  });
});

describe('every route that matches zones does so for its caller', () => {
  it('every GET with a postcode parameter hides the synthetic zone from anonymous and real callers, and shows it to the synthetic user', async () => {
    const doc = (await t.api.get('/openapi.json')).body;
    const withPostcode = operations(doc).filter((o) => o.method === 'GET' && o.parameters.some((p) => p.in === 'query' && p.name === 'postcode'));
    expect(withPostcode.map((o) => o.key).sort()).toEqual(['GET /v1/coverage', 'GET /v1/slots']);
    for (const op of withPostcode) {
      const query = op.parameters
        .filter((p) => p.in === 'query' && (p.required || p.name === 'postcode'))
        .map((p) => `${p.name}=${p.name === 'postcode' ? SYNTHETIC_POSTCODE : (p.schema.enum?.[0] ?? p.schema.example)}`)
        .join('&');
      for (const token of [undefined, real.token, staff.token, admin.token]) {
        const res = await t.api.get(`${op.path}?${query}`, token ? { token } : {});
        expect(res.text, `${op.key} as ${token ? 'a real user' : 'anonymous'}`).not.toContain(SYNTHETIC_ZONE_ID);
        // The answer depends on the token, so no cache may reuse it across callers.
        expect(res.headers.get('vary') ?? '', op.key).toMatch(/\bAuthorization\b/i);
      }
      expect((await t.api.get(`${op.path}?${query}`, { token: probe.token })).text, op.key).toContain(SYNTHETIC_ZONE_ID);
    }
  });

  it('zones are matched to postcodes only through the shared matchers, which take the viewer', () => {
    // A new route that reads zone prefixes itself would skip the synthetic rule: it must call
    // zoneForPostcode (SQL) or matchZone (code), both of which require a viewer, and be covered here.
    const root = join(__dirname, '../../src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) files.push(path);
      }
    };
    walk(root);
    const readsPrefixes = files
      .filter((f) => /postcode_prefixes|postcodePrefixes|zoneForPostcode\(|matchZone\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f))
      .sort();
    expect(readsPrefixes).toEqual([
      'account/personal-data.ts', // names the column in the personal-data registry (no query)
      'db/demo-seed.ts', // writes the demo zone
      'db/order-inputs.ts', // the remembered zones an order is matched on in code (matchZone with the viewer; its write re-checks them)
      'db/schema-scheduling.ts', // the column
      'db/synthetic-setup.ts', // writes the synthetic zone
      'domain/postcodes.ts', // matchZone: the in-code matcher (viewer required)
      'modules/addresses/shared.ts', // zoneForPostcode for the address's owner (tested above)
      'modules/orders/create-context.ts', // zones + the caller's synthetic flag for matchZone (tested above)
      'modules/orders/plan.ts', // matchZone(…, ctx.viewer)
      'modules/recurring/shared.ts', // zoneForPostcode for the schedule address's owner (as addresses do)
      'modules/scheduling/bookable-slots.ts', // zoneForPostcode (tested above)
      'modules/scheduling/coverage.ts', // zoneForPostcode (tested above)
      'modules/scheduling/zone-match.ts', // zoneForPostcode: the SQL matcher (viewer required)
      'modules/zones/routes.ts', // admin zone docs
      'modules/zones/schemas.ts', // admin zone bodies (reserved area refused)
      'modules/zones/shared.ts', // admin zone DTO
    ]);
  });
});

describe('npm run cli -- synthetic-setup (setupSyntheticCustomer)', () => {
  it('first run creates everything; a re-run changes nothing; a later day tops up slots', async () => {
    expect(first).toMatchObject({
      zone: { id: SYNTHETIC_ZONE_ID, postcodePrefixes: ['QQ9'], created: true },
      slots: { created: 14 * 6, capacity: SYNTHETIC_SLOT_CAPACITY },
      user: { email: PROBE_EMAIL, created: true, passwordChanged: true },
      address: { postcode: SYNTHETIC_POSTCODE, created: true, removed: 0 },
    });
    const again = await setupSyntheticCustomer(t.deps, { email: PROBE_EMAIL, password: PROBE_PASSWORD });
    expect(again).toEqual({
      ...first,
      zone: { ...first.zone, created: false },
      slots: { ...first.slots, created: 0 },
      user: { ...first.user, created: false, passwordChanged: false },
      address: { ...first.address, created: false },
    });
    const [{ n } = { n: 0 }] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM slots WHERE zone_id = $1', [SYNTHETIC_ZONE_ID]);
    expect(Number(n)).toBe(14 * 6);
    const tomorrow = { ...t.deps, clock: { now: () => new Date(Date.now() + DAY) } };
    const later = await setupSyntheticCustomer(tomorrow, { email: PROBE_EMAIL, password: PROBE_PASSWORD });
    expect(later.slots).toMatchObject({ from: addDays(first.slots.from, 1), to: addDays(first.slots.to, 1), created: 6 });
    const [{ n: after } = { n: 0 }] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM slots WHERE zone_id = $1', [SYNTHETIC_ZONE_ID]);
    expect(Number(after)).toBe(15 * 6);
  });

  it('restores the zone and the account, keeps exactly one address, and updates a changed password', async () => {
    await t.sql(`UPDATE zones SET active = false, name = 'renamed', postcode_prefixes = ARRAY['QQ1'] WHERE id = $1`, [SYNTHETIC_ZONE_ID]);
    await t.sql(`UPDATE users SET disabled_at = now() WHERE id = $1`, [probe.userId]);
    await address(t, probe.userId, SYNTHETIC_POSTCODE);
    await address(t, probe.userId, realZone.postcode);
    const changed = await setupSyntheticCustomer(t.deps, { email: PROBE_EMAIL, password: 'a new probe password 2' });
    expect(changed.user).toMatchObject({ id: probe.userId, created: false, passwordChanged: true });
    expect(changed.address).toMatchObject({ id: first.address.id, created: false, removed: 2 });
    const [z] = await t.sql<{ active: boolean; name: string; postcode_prefixes: string[]; synthetic: boolean }>('SELECT active, name, postcode_prefixes, synthetic FROM zones WHERE id = $1', [SYNTHETIC_ZONE_ID]);
    expect(z).toEqual({ active: true, name: 'Synthetic: release probes', postcode_prefixes: ['QQ9'], synthetic: true });
    expect((await t.api.post('/v1/auth/login', { email: PROBE_EMAIL, password: PROBE_PASSWORD })).status).toBe(401);
    const login = await t.api.post('/v1/auth/login', { email: PROBE_EMAIL, password: 'a new probe password 2' });
    expect(login.status, login.text).toBe(200);
    expect(login.body.user).toMatchObject({ role: 'customer' });
    const addresses = await t.sql<{ id: string }>('SELECT id FROM addresses WHERE user_id = $1', [probe.userId]);
    expect(addresses.map((a) => a.id)).toEqual([first.address.id]);
    // Back to the password the other tests log in with.
    await setupSyntheticCustomer(t.deps, { email: PROBE_EMAIL, password: PROBE_PASSWORD });
  });

  it('never touches non-synthetic data: a real account with the email is refused, and real rows are unchanged', async () => {
    const snapshot = () =>
      t.sql(`SELECT (SELECT json_agg(z ORDER BY z.id) FROM zones z WHERE NOT z.synthetic)::text AS zones,
                    (SELECT json_agg(u ORDER BY u.id) FROM users u WHERE NOT u.synthetic)::text AS users,
                    (SELECT json_agg(a ORDER BY a.id) FROM addresses a JOIN users u ON u.id = a.user_id WHERE NOT u.synthetic)::text AS addresses,
                    (SELECT json_agg(s ORDER BY s.id) FROM slots s JOIN zones z ON z.id = s.zone_id WHERE NOT z.synthetic)::text AS slots`);
    const before = await snapshot();
    await setupSyntheticCustomer(t.deps, { email: PROBE_EMAIL, password: PROBE_PASSWORD });
    await expect(setupSyntheticCustomer(t.deps, { email: real.email, password: PROBE_PASSWORD })).rejects.toThrow(SyntheticSetupError);
    expect(await snapshot()).toEqual(before);
    const [row] = await t.sql<{ synthetic: boolean }>('SELECT synthetic FROM users WHERE id = $1', [real.userId]);
    expect(row!.synthetic).toBe(false);
  });
});

describe('the command itself', () => {
  it('npm run cli -- synthetic-setup prints the JSON summary, is idempotent, and refuses a real account with exit 2', () => {
    // The file's database on the server; else an embedded one the CLI migrates itself.
    const dir = mkdtempSync(join(tmpdir(), 'laundry-synthetic-'));
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { PGLITE_DIR: dir }) };
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'synthetic-setup', ...args], { env, encoding: 'utf8', timeout: 240_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    try {
      const args = ['--email', 'CLI-Probe@Synthetic.example.com', '--password', 'cli probe password 1'];
      const one = cli(...args);
      expect(one.code, one.stderr).toBe(0);
      const two = cli(...args);
      expect(two.code, two.stderr).toBe(0);
      const [a, b] = [JSON.parse(one.stdout), JSON.parse(two.stdout)];
      expect(a.user).toMatchObject({ email: 'cli-probe@synthetic.example.com', created: true, passwordChanged: true });
      expect(b).toMatchObject({ zone: { id: SYNTHETIC_ZONE_ID, created: false }, slots: { created: 0 }, user: { id: a.user.id, created: false, passwordChanged: false }, address: { id: a.address.id, created: false, removed: 0 } });
      if (databaseUrl) {
        const refused = cli('--email', real.email, '--password', 'cli probe password 1');
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain('is a real (non-synthetic) account');
      }
      expect(cli('--email', 'not-an-email', '--password', 'cli probe password 1').code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
