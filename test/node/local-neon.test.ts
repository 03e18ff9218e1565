/**
 * tools/local-neon/index.ts against the REAL @neondatabase/serverless driver and drizzle-orm/neon-http,
 * over both backends: in-memory PGlite, and the PostgreSQL server at TEST_DATABASE_URL
 * (skipped when unset). Every run works in its own scratch schema, dropped afterwards.
 */
import { PGlite } from '@electric-sql/pglite';
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless';
import { asc, eq, sql as dsql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/neon-http';
import { integer, jsonb, pgSchema, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  pgBackend,
  pgliteBackend,
  startLocalNeon,
  type LocalNeonBackend,
  type LocalNeonServer,
} from '../../tools/local-neon/index.js';

const PG_URL = process.env.TEST_DATABASE_URL;
/** The endpoint checks its user, password and database, as Neon does; the host is not checked. */
const CONN = 'postgres://user:pass@localhost:5432/test';
const savedEndpoint = neonConfig.fetchEndpoint;
afterAll(() => {
  neonConfig.fetchEndpoint = savedEndpoint;
});
if (!PG_URL) console.warn('TEST_DATABASE_URL unset: skipping the PostgreSQL-backed local-neon tests');

async function errorOf(p: Promise<unknown>): Promise<NeonDbError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NeonDbError);
    return e as NeonDbError;
  }
  throw new Error('expected the query to fail');
}

function suite(name: string, makeBackend: () => LocalNeonBackend, opts: { concurrent: boolean }) {
  const schema = `ln_${name}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  let backend: LocalNeonBackend;
  let server: LocalNeonServer;
  const sql = neon(CONN);

  beforeAll(async () => {
    backend = makeBackend();
    server = await startLocalNeon({ backend, connectionString: CONN });
    neonConfig.fetchEndpoint = server.url;
    await sql.query(`CREATE SCHEMA ${schema}`);
    await sql.query(`CREATE TABLE ${schema}.users (id serial PRIMARY KEY, email text NOT NULL CONSTRAINT users_email_key UNIQUE)`);
    await sql.query(`CREATE TABLE ${schema}.counter (id int PRIMARY KEY, n int NOT NULL)`);
  });
  beforeEach(() => {
    neonConfig.fetchEndpoint = server.url; // global: re-point in case another suite moved it
  });
  afterEach(() => server.resetStats());
  afterAll(async () => {
    if (server) {
      neonConfig.fetchEndpoint = server.url;
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await server.close();
    }
    await backend?.close();
  });

  it('returns raw Postgres text with real type OIDs on the wire', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'Neon-Connection-String': CONN, 'Neon-Raw-Text-Output': 'true', ...headers },
        body: JSON.stringify({
          query: `SELECT $1::timestamptz AS ts, 9007199254740993::int8 AS big, true AS yes, '{"a":1}'::jsonb AS j,
                  ARRAY[1,NULL]::int[] AS arr, '\\xdead'::bytea AS bin, 1.50::numeric AS num, NULL::text AS nothing`,
          params: ['2024-05-06T07:08:09.123Z'],
        }),
      });
    const res = await post({ 'Neon-Array-Mode': 'true' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { command: string; rowCount: number; rowAsArray: boolean; fields: { name: string; dataTypeID: number; format: string }[]; rows: unknown[][] };
    expect(body).toMatchObject({ command: 'SELECT', rowCount: 1, rowAsArray: true });
    expect(body.fields.map((f) => [f.name, f.dataTypeID, f.format])).toEqual([
      ['ts', 1184, 'text'], ['big', 20, 'text'], ['yes', 16, 'text'], ['j', 3802, 'text'],
      ['arr', 1007, 'text'], ['bin', 17, 'text'], ['num', 1700, 'text'], ['nothing', 25, 'text'],
    ]);
    expect(body.rows).toEqual([['2024-05-06 07:08:09.123+00', '9007199254740993', 't', '{"a": 1}', '{1,NULL}', '\\xdead', '1.50', null]]);

    const objects = (await (await post({})).json()) as { rows: Record<string, unknown>[]; rowAsArray: boolean };
    expect(objects.rowAsArray).toBe(false);
    expect(objects.rows[0]).toMatchObject({ big: '9007199254740993', yes: 't', nothing: null });
  });

  it('round-trips types through the driver parsers', async () => {
    const when = new Date('2024-05-06T07:08:09.123Z');
    const [row] = await sql`
      SELECT ${when}::timestamptz AS ts, 9007199254740993::int8 AS big, ${true}::bool AS yes, false AS no,
             ${{ a: [1, 2], b: null }}::jsonb AS j, ${[1, 2, 3]}::int[] AS arr, ARRAY[]::int[] AS empty,
             ${null}::int AS nothing, ${Buffer.from([0xde, 0xad, 0xbe, 0xef])}::bytea AS bin,
             12345.678900::numeric AS num, ${'it\'s "quoted" ünïcode'}::text AS txt`;
    // The driver parses timestamptz to a Date, until any drizzle-orm/neon-http drizzle() call
    // globally switches the driver's timestamp/date/interval parsers to return the raw text.
    const ts = row?.ts as Date | string;
    expect(ts instanceof Date || ts === '2024-05-06 07:08:09.123+00').toBe(true);
    expect(new Date(ts).getTime()).toBe(when.getTime());
    expect(row).toEqual({
      ts,
      big: '9007199254740993',
      yes: true,
      no: false,
      j: { a: [1, 2], b: null },
      arr: [1, 2, 3],
      empty: [],
      nothing: null,
      bin: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      num: '12345.678900',
      txt: 'it\'s "quoted" ünïcode',
    });
  });

  it('raises a unique violation as NeonDbError with SQLSTATE and constraint', async () => {
    await sql.query(`INSERT INTO ${schema}.users (email) VALUES ($1)`, ['dup@example.com']);
    const err = await errorOf(sql.query(`INSERT INTO ${schema}.users (email) VALUES ($1)`, ['dup@example.com']));
    expect(err.code).toBe('23505');
    expect(err.constraint).toBe('users_email_key');
    expect(err.table).toBe('users');
    expect(err.schema).toBe(schema);
    expect(err.severity).toBe('ERROR');
    expect(err.detail).toContain('already exists');

    const syntax = await errorOf(sql.query('SELEC 1'));
    expect(syntax.code).toBe('42601');
    expect(syntax.position).toBe('1');
    // Like Neon, every query uses the extended protocol: one statement per query.
    expect((await errorOf(sql.query('SELECT 1; SELECT 2'))).code).toBe('42601');
  });

  it('runs a batch as one transaction: all or nothing', async () => {
    const ok = await sql.transaction((tx) => [
      tx`INSERT INTO ${sql.unsafe(schema)}.users (email) VALUES ('a@example.com') RETURNING email`,
      tx`INSERT INTO ${sql.unsafe(schema)}.users (email) VALUES ('b@example.com') RETURNING email`,
      tx`SELECT count(*)::int AS n FROM ${sql.unsafe(schema)}.users WHERE email IN ('a@example.com', 'b@example.com')`,
    ]);
    expect(ok).toEqual([[{ email: 'a@example.com' }], [{ email: 'b@example.com' }], [{ n: 2 }]]);

    const err = await errorOf(
      sql.transaction([
        sql`INSERT INTO ${sql.unsafe(schema)}.users (email) VALUES ('c@example.com')`,
        sql`INSERT INTO ${sql.unsafe(schema)}.users (email) VALUES ('a@example.com')`, // duplicate
      ]),
    );
    expect(err.code).toBe('23505');
    const [{ n }] = (await sql.query(`SELECT count(*)::int AS n FROM ${schema}.users WHERE email = 'c@example.com'`)) as [{ n: number }];
    expect(n).toBe(0);
    expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]); // the connection is usable afterwards
  });

  it('never lets another query see a batch in flight', async () => {
    const batch = sql.transaction([
      sql`INSERT INTO ${sql.unsafe(schema)}.users (email) VALUES ('in-flight@example.com')`,
      sql`SELECT pg_sleep(0.2)`,
      sql`SELECT 1 / 0`,
    ]);
    await new Promise((r) => setTimeout(r, 50));
    const seen = sql.query(`SELECT count(*)::int AS n FROM ${schema}.users WHERE email = 'in-flight@example.com'`);
    expect((await errorOf(batch)).code).toBe('22012');
    expect(await seen).toEqual([{ n: 0 }]);
  });

  it('honours batch isolation level, read-only and deferrable headers', async () => {
    const [[iso], [ro], [def]] = (await sql.transaction(
      [sql`SHOW transaction_isolation`, sql`SHOW transaction_read_only`, sql`SHOW transaction_deferrable`],
      { isolationLevel: 'Serializable', readOnly: true, deferrable: true },
    )) as [Record<string, string>[], Record<string, string>[], Record<string, string>[]];
    expect([iso?.transaction_isolation, ro?.transaction_read_only, def?.transaction_deferrable]).toEqual(['serializable', 'on', 'on']);

    const [[plain]] = (await sql.transaction([sql`SHOW transaction_isolation`])) as [Record<string, string>[]];
    expect(plain?.transaction_isolation).toBe('read committed');
    const [[rr]] = (await sql.transaction([sql`SHOW transaction_isolation`], { isolationLevel: 'RepeatableRead' })) as [Record<string, string>[]];
    expect(rr?.transaction_isolation).toBe('repeatable read');

    const err = await errorOf(
      sql.transaction([sql`INSERT INTO ${sql.unsafe(schema)}.users (email) VALUES ('ro@example.com')`], { readOnly: true }),
    );
    expect(err.code).toBe('25006');
  });

  it('counts round trips in-process and over HTTP', async () => {
    server.resetStats();
    await sql`SELECT 1`;
    expect(server.stats()).toEqual({ requests: 1, queries: 1, batches: 0, batchStatements: 0, errors: 0, responseBytes: expect.any(Number) });
    const one = server.stats().responseBytes;
    expect(one).toBeGreaterThan(50);
    await sql.transaction([sql`SELECT 1`, sql`SELECT 2`, sql`SELECT 3`]);
    await errorOf(sql.query('SELECT nope'));
    expect(server.stats()).toMatchObject({ requests: 3, queries: 2, batches: 1, batchStatements: 3, errors: 1 });
    expect(server.stats().responseBytes).toBeGreaterThan(3 * one);

    const statsUrl = server.url.replace(/\/sql$/, '/__stats');
    expect(await (await fetch(statsUrl)).json()).toEqual(server.stats());
    expect((await fetch(`${statsUrl}/reset`, { method: 'POST' })).status).toBe(200);
    expect(server.stats()).toEqual({ requests: 0, queries: 0, batches: 0, batchStatements: 0, errors: 0, responseBytes: 0 });
  });

  it('rejects malformed and oversized requests as Neon does', async () => {
    const headers = { 'Neon-Connection-String': CONN };
    const bad = await fetch(server.url, { method: 'POST', headers, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^could not parse the HTTP request body/);
    const badHeader = await fetch(server.url, {
      method: 'POST',
      headers: { ...headers, 'Neon-Batch-Isolation-Level': 'Chaos' },
      body: JSON.stringify({ queries: [{ query: 'SELECT 1', params: [] }] }),
    });
    expect(badHeader.status).toBe(400);
    expect(((await badHeader.json()) as { message: string }).message).toBe('invalid isolation level');
    // Neon's limit is 10 MiB: 9 MiB passes, 11 MiB is refused before any SQL runs.
    const fits = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query: `SELECT length('${'x'.repeat(9 * 1024 * 1024)}') AS n` }) });
    expect(fits.status).toBe(200);
    const big = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query: `SELECT '${'x'.repeat(11 * 1024 * 1024)}'` }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { message: string }).message).toBe(`request is too large (max is ${10 * 1024 * 1024} bytes)`);
  });

  it(`applies 20 concurrent increment batches${opts.concurrent ? ' (really concurrent)' : ' (serialized)'}`, async () => {
    await sql.query(`INSERT INTO ${schema}.counter (id, n) VALUES (1, 0)`);
    await Promise.all(
      Array.from({ length: 20 }, () => sql.transaction([sql`UPDATE ${sql.unsafe(schema)}.counter SET n = n + 1 WHERE id = 1`])),
    );
    expect(await sql.query(`SELECT n FROM ${schema}.counter WHERE id = 1`)).toEqual([{ n: 20 }]);
    if (opts.concurrent) {
      // Overlapping queries run on separate server sessions (a pool), not queued on one.
      const pids = await Promise.all(
        Array.from({ length: 5 }, () => sql`SELECT pg_backend_pid() AS pid, pg_sleep(0.2)`),
      );
      expect(new Set(pids.map((r) => (r as Array<{ pid: number }>)[0]!.pid)).size).toBeGreaterThan(1);
    }
  });

  it('serves drizzle-orm/neon-http end to end', async () => {
    const s = pgSchema(schema);
    const orders = s.table('orders', {
      id: serial('id').primaryKey(),
      customer: text('customer').notNull(),
      totalCents: integer('total_cents').notNull(),
      meta: jsonb('meta').$type<{ express: boolean }>(),
      pickupAt: timestamp('pickup_at', { withTimezone: true, mode: 'date' }).notNull(),
      createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    });
    await sql.query(`CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, customer text NOT NULL, total_cents int NOT NULL,
                     meta jsonb, pickup_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    const db = drizzle({ client: neon(CONN) });
    const pickupAt = new Date('2025-03-04T05:06:07.890Z');

    server.resetStats();
    const [first] = await db.insert(orders).values({ customer: 'ann', totalCents: 1250, meta: { express: true }, pickupAt }).returning();
    expect(first).toMatchObject({ customer: 'ann', totalCents: 1250, meta: { express: true }, pickupAt });
    expect(first?.createdAt).toBeInstanceOf(Date);

    const [inserted, updated, all] = await db.batch([
      db.insert(orders).values({ customer: 'bob', totalCents: 900, pickupAt }).returning({ id: orders.id }),
      db.update(orders).set({ totalCents: dsql`${orders.totalCents} + 50` }).where(eq(orders.customer, 'ann')).returning(),
      db.select().from(orders).orderBy(asc(orders.id)),
    ]);
    expect(inserted).toHaveLength(1);
    expect(updated[0]?.totalCents).toBe(1300);
    expect(all.map((o) => [o.customer, o.totalCents, o.pickupAt.toISOString()])).toEqual([
      ['ann', 1300, pickupAt.toISOString()],
      ['bob', 900, pickupAt.toISOString()],
    ]);
    expect(server.stats()).toMatchObject({ queries: 1, batches: 1, batchStatements: 3 });
  });
}

describe('local-neon over PGlite (in memory)', () => {
  suite('pglite', () => pgliteBackend(new PGlite(), { closeDb: true }), { concurrent: false });
});

describe.skipIf(!PG_URL)('local-neon over PostgreSQL (pg.Pool)', () => {
  suite('pg', () => pgBackend(PG_URL as string, { max: 10 }), { concurrent: true });
});
