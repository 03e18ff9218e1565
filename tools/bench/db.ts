/**
 * The bench's own database (created, migrated and seeded with the project's functions, and
 * dropped at the end), its fixtures, and the capture/replay of the exact SQL the app sends.
 */
import pg from 'pg';
import { seedCatalog } from '../../src/db/seed.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';

export const BENCH_DB_NAME = process.env.BENCH_DB_NAME ?? 'laundry_bench';
export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
export const BENCH_PASSWORD = 'bench password 123';

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * `name` when the bench may create and drop it: a plain identifier (it goes into DDL unquoted),
 * at most 63 bytes (PostgreSQL's limit, past which it would silently truncate to another name),
 * and never a test suite's database (`laundry_test…`).
 */
export function benchDbName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || name.startsWith('laundry_test') || name.length > 63) {
    throw new Error(`refusing to touch database ${name}`);
  }
  return name;
}

/** One statement on the server's maintenance connection (CREATE/DROP DATABASE). */
export async function adminSql(serverUrl: string, statement: string): Promise<void> {
  benchDbName(BENCH_DB_NAME);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Drops and recreates the bench database, then migrates and seeds it as `npm run db:migrate -- --seed` does. */
export async function createBenchDatabase(serverUrl: string, name = BENCH_DB_NAME): Promise<string> {
  benchDbName(name);
  await adminSql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminSql(serverUrl, `CREATE DATABASE ${name}`);
  const url = databaseUrl(serverUrl, name);
  const database = createPostgresDatabase(url, { max: 1 });
  try {
    await migrateDatabase(database);
    await seedCatalog(database, 'USD');
  } finally {
    await database.close();
  }
  return url;
}

export async function dropBenchDatabase(serverUrl: string, name = BENCH_DB_NAME): Promise<void> {
  benchDbName(name);
  await adminSql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

// ------------------------------------------------------------------------- a tiny client

export interface Reply {
  status: number;
  body: any;
}
export type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;

export function httpClient(fetcher: (req: Request) => Promise<Response>, base = 'http://bench.local'): Call {
  return async (method, path, body, headers = {}) => {
    const h = new Headers(headers);
    if (body !== undefined && !h.has('content-type')) h.set('content-type', 'application/json');
    const res = await fetcher(new Request(new URL(path, base), { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }));
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed };
  };
}

export function expectStatus(r: Reply, status: number, what: string): any {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

// ------------------------------------------------------------------------------ fixtures

export interface Customer {
  userId: string;
  token: string;
  addressId: string;
}

export interface Fixtures {
  zoneId: string;
  postcode: string;
  pickupSlotId: string;
  deliverySlotId: string;
  washFoldId: string;
  /** The customer who owns exactly `listOrders` orders (for GET /v1/orders). */
  reader: Customer;
  /** The customer whose orders the POST load creates. */
  writer: Customer;
  /** An admin's access token (GET /v1/admin/services: the catalog query, never cached). */
  adminToken: string;
}

const HOUR = 3_600_000;

/** Straight SQL on the bench database, for what an admin would otherwise click together. */
export async function sqlRows<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function customer(call: Call, url: string, postcode: string, tag: string): Promise<Customer> {
  const email = `${tag}-${crypto.randomUUID().slice(0, 8)}@bench.test`;
  const reg = expectStatus(await call('POST', '/v1/auth/register', { email, password: BENCH_PASSWORD }), 201, 'register');
  const [addr] = await sqlRows<{ id: string }>(
    url,
    `INSERT INTO addresses (user_id, label, line1, city, postcode) VALUES ($1, 'Home', '1 Bench Street', 'Benchville', $2) RETURNING id`,
    [reg.user.id, postcode],
  );
  return { userId: reg.user.id, token: reg.accessToken, addressId: addr!.id };
}

async function admin(call: Call, url: string): Promise<string> {
  const email = `admin-${crypto.randomUUID().slice(0, 8)}@bench.test`;
  expectStatus(await call('POST', '/v1/auth/register', { email, password: BENCH_PASSWORD }), 201, 'register admin');
  await sqlRows(url, `UPDATE users SET role = 'admin' WHERE email = $1`, [email]);
  return expectStatus(await call('POST', '/v1/auth/login', { email, password: BENCH_PASSWORD }), 200, 'admin login').accessToken;
}

/** A zone, one pickup and one delivery slot with room for millions, two customers, and `listOrders` orders. */
export async function createFixtures(call: Call, url: string, listOrders: number): Promise<Fixtures> {
  // A UK-shaped district (area ZZ is not in use), so matching takes its usual path.
  const prefix = 'ZZ9';
  const [zone] = await sqlRows<{ id: string }>(
    url,
    `INSERT INTO zones (name, postcode_prefixes, time_zone, delivery_fee, minimum_order, free_delivery_from)
     VALUES ('Bench', ARRAY[$1]::text[], 'UTC', 499, 1500, 5000) RETURNING id`,
    [prefix],
  );
  const slotAt = async (kind: string, hours: number) => {
    const startsAt = new Date(Math.floor((Date.now() + hours * HOUR) / 60_000) * 60_000);
    const [row] = await sqlRows<{ id: string }>(
      url,
      `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, reserved, cutoff_minutes, closed)
       VALUES ($1, $2, $3, $4, 100000000, 0, 120, false) RETURNING id`,
      [zone!.id, kind, startsAt.toISOString(), new Date(startsAt.getTime() + 2 * HOUR).toISOString()],
    );
    return row!.id;
  };
  const postcode = `${prefix}1AA`; // ZZ9 1AA
  const services = expectStatus(await call('GET', '/v1/services'), 200, 'services').data as Array<{ id: string; slug: string }>;
  const fixtures: Fixtures = {
    zoneId: zone!.id,
    postcode,
    pickupSlotId: await slotAt('pickup', 24),
    deliverySlotId: await slotAt('delivery', 80),
    washFoldId: services.find((s) => s.slug === 'wash-and-fold')!.id,
    reader: await customer(call, url, postcode, 'reader'),
    writer: await customer(call, url, postcode, 'writer'),
    adminToken: await admin(call, url),
  };
  for (let i = 0; i < listOrders; i++) {
    const r = await call('POST', '/v1/orders', orderBody(fixtures, fixtures.reader), orderHeaders(fixtures.reader));
    expectStatus(r, 201, 'seeding an order');
  }
  return fixtures;
}

export function orderBody(f: Fixtures, who: Customer) {
  return {
    items: [{ serviceId: f.washFoldId, estimatedWeightGrams: 5000 }],
    addressId: who.addressId,
    pickupSlotId: f.pickupSlotId,
    deliverySlotId: f.deliverySlotId,
    paymentMethod: 'on_delivery',
  };
}

export const orderHeaders = (who: Customer, key: string = crypto.randomUUID()) => ({
  authorization: `Bearer ${who.token}`,
  'idempotency-key': key,
  'content-type': 'application/json',
});

// ------------------------------------------------------------------ SQL capture and replay

interface Captured {
  /** What the app passed to pg's Client#query: a config object ({text, rowMode, types}) or a string. */
  config: unknown;
  values: unknown[] | undefined;
  text: string;
}

/** A statement on its own (pool.query), or BEGIN … COMMIT on one checked-out client (a batch). */
export type Unit = { single: Captured } | { transaction: Captured[] };

/**
 * Records every statement pg sends while `work` runs (node-postgres is what the Node app
 * uses), grouped the way the app sent them: a batch is BEGIN … COMMIT on one connection.
 */
export async function captureSql(work: () => Promise<void>): Promise<Unit[]> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const calls: Captured[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [config, values] = args;
    const text = typeof config === 'string' ? config : String((config as { text?: unknown }).text ?? '');
    const vals = Array.isArray(values) ? values : (config as { values?: unknown[] } | null)?.values;
    calls.push({ config, values: vals, text });
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  const units: Unit[] = [];
  let open: Captured[] | undefined;
  for (const c of calls) {
    const t = c.text.trim().toLowerCase();
    if (t.startsWith('begin')) open = [c];
    else if (open) {
      open.push(c);
      if (t === 'commit' || t === 'rollback') {
        units.push({ transaction: open });
        open = undefined;
      }
    } else units.push({ single: c });
  }
  return units;
}

export const statementCount = (units: Unit[]) => units.reduce((n, u) => n + ('single' in u ? 1 : u.transaction.length), 0);

/** Replays captured units on `pool`, with every string parameter passed through `rewrite`. */
export function replayer(pool: pg.Pool, units: Unit[], rewrite?: () => (s: string) => string): () => Promise<void> {
  const withValues = (c: Captured, fix?: (s: string) => string) => {
    if (!c.values) return c.values;
    return fix ? c.values.map((v) => (typeof v === 'string' ? fix(v) : v)) : c.values;
  };
  const q = (client: pg.Pool | pg.PoolClient, c: Captured, fix?: (s: string) => string) =>
    client.query(c.config as pg.QueryConfig, withValues(c, fix) as unknown[]);
  return async () => {
    const fix = rewrite?.();
    for (const unit of units) {
      if ('single' in unit) {
        await q(pool, unit.single, fix);
        continue;
      }
      const client = await pool.connect();
      try {
        for (const c of unit.transaction) await q(client, c, fix);
      } finally {
        client.release();
      }
    }
  };
}
