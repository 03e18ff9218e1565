/**
 * Growth section of `npm run bench` (`--only=growth`): do the hot paths cost the same on a year
 * of a busy shop as on a few days of it?
 *
 * Two databases of its own (`<BENCH_DB_NAME>_growth_1pct` and `…_growth_100pct`, created and
 * dropped here, with db.ts's name rules), migrated and seeded as usual. The live part (zones, the
 * next 4 weeks of slots, the bench's customers and their orders, made through the app) is the
 * same in both; history is loaded behind it with set-based SQL (growth-load.ts): 1% of the large
 * size in one, all of it in the other, then ANALYZE. Full mode: 200,000 orders across 20,000
 * customers and 365 days; `--quick`: 20,000 orders, 2,000 customers, 37 days.
 *
 * Each hot path is called through the app itself (createApp with real Node Deps over a
 * node-postgres pool, in this process), one request at a time, alternating between the two
 * sizes so that a shared machine's drifting load weighs on both alike; background work a request
 * starts (waitUntil) is awaited before the next. At the large size, the SQL each one sent is
 * captured from pg and every statement is EXPLAINed (FORMAT JSON) with its own parameters: a Seq
 * Scan over a table of more than SEQ_SCAN_ROW_LIMIT rows fails the budget (report.ts).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { seedCatalog } from '../../src/db/seed.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';
import { adminSql, benchDbName, BENCH_DB_NAME, BENCH_PASSWORD, captureSql, customer, expectStatus, httpClient, sqlRows, type Call, type Customer, type Reply, type Unit } from './db.js';
import { loadHistory, loadZones, tableRows, zonePrefix } from './growth-load.js';
import { log, percentile, type BenchOptions } from './lib.js';
import { TMP, serverEnv } from './node.js';

/** A sequential scan over a table with more rows than this fails the growth budget. */
export const SEQ_SCAN_ROW_LIMIT = 10_000;
/** Orders the bench's own customer (the reader) has: a full page of 20, and of the queue's 50, at both sizes. */
const READER_ORDERS = 60;

export interface GrowthSize {
  label: string;
  orders: number;
  customers: number;
  days: number;
  /** Seconds the set-based load of this step took (ANALYZE included). */
  loadSeconds: number;
}

export interface Timing {
  p50: number;
  p95: number;
  /** Median time the request spent waiting on pg (Client#query call to answer), response path only. */
  sqlP50: number;
  samples: number;
}

export interface SeqScan {
  relation: string;
  /** pg_class.reltuples after ANALYZE at the large size. */
  rows: number;
}

export interface GrowthRow {
  path: string;
  small: Timing;
  large: Timing;
  /** Statements the app sent for one call (BEGIN/COMMIT of a batch included), at the large size. */
  statements: number;
  /** Every Seq Scan in the EXPLAIN of those statements at the large size. */
  seqScans: SeqScan[];
  /** Statements EXPLAIN could not plan (utility statements such as BEGIN are not counted). */
  unexplained: string[];
  /** Answers with another status than expected, over both sizes. */
  failures: number;
}

export interface GrowthSection {
  small: GrowthSize;
  large: GrowthSize;
  /** Rows per table at the large size, for the report. */
  tables: Record<string, number>;
  rows: GrowthRow[];
}

/** The growth databases: `<BENCH_DB_NAME>_growth_1pct` and `…_growth_100pct`, with db.ts's name rules. */
const growthDbName = (label: string) => benchDbName(`${BENCH_DB_NAME}_growth_${label}`);

const DAY = 86_400_000;
const utcDay = (offset: number) => new Date(Math.floor(Date.now() / DAY) * DAY + offset * DAY);

interface HotPath {
  path: string;
  /** Login hashes with Argon2id: fewer samples. */
  slow?: boolean;
  run: () => Promise<Reply>;
  status: number;
}

type SizeSpec = Omit<GrowthSize, 'loadSeconds'>;

/** The sizes: the large one, and the small one at 1% of it. */
function sizes(o: BenchOptions): { small: SizeSpec; large: SizeSpec } {
  const orders = o.quick ? 20_000 : 200_000;
  const customers = orders / 10;
  const days = Math.ceil((365 * orders) / 200_000);
  return {
    small: { label: '1%', orders: orders / 100, customers: customers / 100, days: Math.max(1, Math.round(days / 100)) },
    large: { label: '100%', orders, customers, days },
  };
}

/** One database at one size, its app, and the hot paths on it. */
interface World {
  size: GrowthSize;
  paths: HotPath[];
  /** Background work (waitUntil) of the requests so far, awaited. */
  settle: () => Promise<void>;
  /** A connection of its own for ANALYZE, row counts and EXPLAIN. */
  loader: pg.Client;
  /** Makes the order the replay path replays (once per measurement). */
  prepareReplay: () => Promise<void>;
  close: () => Promise<void>;
}

/**
 * Creates the database, makes the live part through the app (the same in every world), then
 * loads `size` of history behind it with set-based SQL and runs ANALYZE.
 */
async function createWorld(serverUrl: string, name: string, size: SizeSpec): Promise<World> {
  await adminSql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminSql(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const database = createPostgresDatabase(databaseUrl);
  const loader = new pg.Client({ connectionString: databaseUrl });
  await loader.connect();
  const close = async () => {
    await loader.end().catch(() => {});
    await database.close().catch(() => {});
  };
  try {
    await migrateDatabase(database);
    await seedCatalog(database, 'USD');
    await loadZones(loader);

    // The app, in this process, with real Node Deps; background work is collected per request.
    const pending: Array<Promise<unknown>> = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException: () => {}, props: {} };
    const deps = createNodeDeps(loadConfig(serverEnv(databaseUrl, 0)), { database, logger: createMemoryLogger() });
    const app = createApp(deps);
    const call: Call = httpClient((req) => Promise.resolve(app.fetch(req, undefined, ctx as never)));
    const settle = async () => {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    };

    // The live part: zone 0's customers and slots.
    const postcode = `${zonePrefix(0)}1AA`;
    const slotId = async (kind: string, day: number, hour: number) => {
      const [row] = await sqlRows<{ id: string }>(
        databaseUrl,
        `UPDATE slots SET capacity = 100000000 WHERE zone_id = (SELECT id FROM zones WHERE name = 'Growth 00') AND kind = $1 AND starts_at = $2 RETURNING id`,
        [kind, new Date(utcDay(day).getTime() + hour * 3_600_000).toISOString()],
      );
      if (!row) throw new Error(`growth: no ${kind} slot on day ${day} at ${hour}:00`);
      return row.id;
    };
    const [zone] = await sqlRows<{ id: string }>(databaseUrl, `SELECT id FROM zones WHERE name = 'Growth 00'`);
    const readerSlots = { pickup: await slotId('pickup', 1, 10), delivery: await slotId('delivery', 4, 10) };
    const writerSlots = { pickup: await slotId('pickup', 2, 12), delivery: await slotId('delivery', 5, 12) };
    const services = expectStatus(await call('GET', '/v1/services'), 200, 'services').data as Array<{ id: string; slug: string }>;
    const washFold = services.find((s) => s.slug === 'wash-and-fold')!.id;
    const reader = await customer(call, databaseUrl, postcode, 'reader');
    const writer = await customer(call, databaseUrl, postcode, 'writer');
    const staff = await customer(call, databaseUrl, postcode, 'staff');
    await sqlRows(databaseUrl, `UPDATE users SET role = 'staff' WHERE id = $1`, [staff.userId]);
    const [staffUser] = await sqlRows<{ email: string }>(databaseUrl, `SELECT email FROM users WHERE id = $1`, [staff.userId]);
    const staffToken = expectStatus(await call('POST', '/v1/auth/login', { email: staffUser!.email, password: BENCH_PASSWORD }), 200, 'staff login').accessToken as string;
    await settle();
    const body = (who: Customer, s: { pickup: string; delivery: string }) => ({
      items: [{ serviceId: washFold, estimatedWeightGrams: 5000 }],
      addressId: who.addressId,
      pickupSlotId: s.pickup,
      deliverySlotId: s.delivery,
      paymentMethod: 'on_delivery',
    });
    const headers = (who: Customer, key: string) => ({ authorization: `Bearer ${who.token}`, 'idempotency-key': key });
    const readerOrders: string[] = [];
    for (let i = 0; i < READER_ORDERS; i++) {
      readerOrders.push(expectStatus(await call('POST', '/v1/orders', body(reader, readerSlots), headers(reader, crypto.randomUUID())), 201, 'reader order').id);
    }
    await settle();
    const [readerUser] = await sqlRows<{ email: string; password_hash: string }>(databaseUrl, `SELECT email, password_hash FROM users WHERE id = $1`, [reader.userId]);

    const t0 = performance.now();
    await loadHistory(loader, { customers: [0, size.customers], orders: [0, size.orders], days: [0, size.days] }, { orderId: readerOrders[0]!, passwordHash: readerUser!.password_hash });
    await loader.query('ANALYZE');
    const loadSeconds = (performance.now() - t0) / 1000;
    log(`growth: ${size.label}: ${size.orders} orders, ${size.customers} customers, ${size.days} days loaded in ${loadSeconds.toFixed(1)} s`);

    const tomorrow = utcDay(1);
    let replayKey = '';
    const paths: HotPath[] = [
      { path: 'GET /v1/orders (a customer’s list, page of 20)', status: 200, run: () => call('GET', '/v1/orders', undefined, { authorization: `Bearer ${reader.token}` }) },
      { path: 'GET /v1/orders/{id} (one order)', status: 200, run: () => call('GET', `/v1/orders/${readerOrders[7]}`, undefined, { authorization: `Bearer ${reader.token}` }) },
      {
        path: 'GET /v1/staff/orders (zone and date, page of 50)',
        status: 200,
        run: () => call('GET', `/v1/staff/orders?zone=${zone!.id}&date=${tomorrow.toISOString().slice(0, 10)}`, undefined, { authorization: `Bearer ${staffToken}` }),
      },
      {
        path: 'GET /v1/slots (a postcode, a week)',
        status: 200,
        run: () => call('GET', `/v1/slots?postcode=${encodeURIComponent(postcode)}&kind=pickup&from=${tomorrow.toISOString()}&to=${utcDay(8).toISOString()}`),
      },
      { path: 'POST /v1/orders (pay on delivery)', status: 201, run: () => call('POST', '/v1/orders', body(writer, writerSlots), headers(writer, crypto.randomUUID())) },
      { path: 'POST /v1/orders (idempotency replay)', status: 201, run: () => call('POST', '/v1/orders', body(writer, writerSlots), headers(writer, replayKey)) },
      { path: 'POST /v1/auth/login', status: 200, slow: true, run: () => call('POST', '/v1/auth/login', { email: readerUser!.email, password: BENCH_PASSWORD }) },
      {
        // A new address each time (so no lock-out): the throttle's upsert and its prune of day-old rows.
        path: 'POST /v1/auth/login (unknown email: a failure counted)',
        status: 401,
        slow: true,
        run: () => call('POST', '/v1/auth/login', { email: `nobody-${crypto.randomUUID()}@growth.test`, password: BENCH_PASSWORD }),
      },
    ];
    const prepareReplay = async () => {
      replayKey = `replay-${crypto.randomUUID()}`;
      expectStatus(await call('POST', '/v1/orders', body(writer, writerSlots), headers(writer, replayKey)), 201, 'the order to replay');
      await settle();
    };
    return { size: { ...size, loadSeconds }, paths, settle, loader, prepareReplay, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export async function growthSection(o: BenchOptions, serverUrl: string, keepDb: boolean): Promise<GrowthSection> {
  const plan = sizes(o);
  const names = { small: growthDbName('1pct'), large: growthDbName('100pct') };
  const worlds: World[] = [];
  try {
    const small = await createWorld(serverUrl, names.small, plan.small);
    worlds.push(small);
    const large = await createWorld(serverUrl, names.large, plan.large);
    worlds.push(large);
    const tables = await tableRows(large.loader);

    // Samples alternate between the sizes (small, large, small, …), so the load of a shared
    // machine, which drifts, weighs on both alike; 3 warm-up calls of each first.
    await small.prepareReplay();
    await large.prepareReplay();
    const failures = new Map<string, number>();
    const rows: GrowthRow[] = [];
    const plans: Array<{ path: string; statements: ExplainedStatement[] }> = [];
    for (let i = 0; i < small.paths.length; i++) {
      const [ps, pl] = [small.paths[i]!, large.paths[i]!];
      const n = ps.slow ? (o.quick ? 4 : 10) : o.quick ? 15 : 60;
      const latencies: [number[], number[]] = [[], []];
      const sql: [number[], number[]] = [[], []];
      const clock = sqlClock();
      try {
        for (let k = 0; k < n + 3; k++) {
          for (const [w, world, p] of [[0, small, ps], [1, large, pl]] as const) {
            clock.reset();
            const t0 = performance.now();
            const r = await p.run();
            const ms = performance.now() - t0;
            const sqlMs = clock.read();
            await world.settle();
            if (r.status !== p.status) failures.set(p.path, (failures.get(p.path) ?? 0) + 1);
            if (k >= 3) {
              latencies[w].push(ms);
              sql[w].push(sqlMs);
            }
          }
        }
      } finally {
        clock.restore();
      }
      const timing = (w: 0 | 1): Timing => {
        const xs = latencies[w].sort((a, b) => a - b);
        return { p50: percentile(xs, 50), p95: percentile(xs, 95), sqlP50: percentile(sql[w].sort((a, b) => a - b), 50), samples: xs.length };
      };
      // The exact SQL the path sends at the large size, and its plans.
      const units = await captureSql(async () => {
        expectStatus(await pl.run(), pl.status, pl.path);
        await large.settle();
      });
      const { explained, ...row } = await explainUnits(large.loader, units, tables);
      rows.push({ path: ps.path, small: timing(0), large: timing(1), ...row, failures: failures.get(ps.path) ?? 0 });
      plans.push({ path: ps.path, statements: explained });
    }
    // For whoever reads a failure: each statement, its parameters and its plan.
    writeFileSync(resolve(TMP, 'growth-plans.json'), JSON.stringify(plans, null, 1));
    return { small: small.size, large: large.size, tables: Object.fromEntries(tables), rows };
  } finally {
    for (const w of worlds) await w.close();
    if (!keepDb) {
      for (const name of Object.values(names)) {
        await adminSql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((e: unknown) => log(`growth: dropping ${name} failed: ${String(e)}`));
      }
    }
  }
}

/**
 * Sums the time pg's Client#query calls take (call to answer; overlapping calls each count),
 * while installed: how much of a request was the database's.
 */
function sqlClock(): { reset: () => void; read: () => number; restore: () => void } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let total = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const done = () => {
      total += performance.now() - t0;
    };
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      // pg.Pool#query passes a callback.
      args[last] = (...cbArgs: unknown[]) => {
        done();
        return (callback as (...a: unknown[]) => unknown)(...cbArgs);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
    return result;
  };
  return {
    reset: () => {
      total = 0;
    },
    read: () => total,
    restore: () => {
      proto.query = original;
    },
  };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function seqScansOf(node: PlanNode, out: string[]): void {
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) out.push(node['Relation Name']);
  for (const child of node.Plans ?? []) seqScansOf(child, out);
}

interface ExplainedStatement {
  text: string;
  values: unknown[] | undefined;
  plan: unknown;
}

/** EXPLAIN (FORMAT JSON) of every plannable statement in `units`, with the parameters it ran with. */
async function explainUnits(
  client: pg.ClientBase,
  units: Unit[],
  tables: Map<string, number>,
): Promise<Pick<GrowthRow, 'statements' | 'seqScans' | 'unexplained'> & { explained: ExplainedStatement[] }> {
  const statements = units.flatMap((u) => ('single' in u ? [u.single] : u.transaction));
  const scans = new Map<string, number>();
  const unexplained: string[] = [];
  const explained: ExplainedStatement[] = [];
  for (const s of statements) {
    if (!/^\s*(select|insert|update|delete|with|values)\b/i.test(s.text)) continue;
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${s.text}`, s.values);
      const plan = rows[0]!['QUERY PLAN'];
      const found: string[] = [];
      for (const r of plan) seqScansOf(r.Plan, found);
      for (const rel of found) scans.set(rel, tables.get(rel) ?? 0);
      explained.push({ text: s.text, values: s.values, plan });
    } catch (e) {
      unexplained.push(`${s.text.replace(/\s+/g, ' ').slice(0, 120)}… (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return { statements: statements.length, seqScans: [...scans].map(([relation, rows]) => ({ relation, rows })), unexplained, explained };
}
