/**
 * tools/local-neon/index.ts behaves like Neon's real SQL-over-HTTP proxy where an app could come
 * to depend on the difference (neondatabase/neon proxy/src/serverless/sql_over_http.rs):
 * response size limit (507), client disconnect (cancel, no commit), the connection string's
 * credentials, exact header values, the error body and the one route. Driven through the REAL
 * @neondatabase/serverless driver where the driver can express the case, raw fetch otherwise.
 */
import { PGlite } from '@electric-sql/pglite';
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  NEON_MAX_RESPONSE_BYTES,
  pgBackend,
  pgliteBackend,
  startLocalNeon,
  type LocalNeonBackend,
  type LocalNeonServer,
} from '../../tools/local-neon/index.js';

const PG_URL = process.env.TEST_DATABASE_URL;
const CONN = 'postgres://shop:s3cret@ep-local.example.neon.tech/laundry';
const savedEndpoint = neonConfig.fetchEndpoint;
afterAll(() => {
  neonConfig.fetchEndpoint = savedEndpoint;
});

async function errorOf(p: Promise<unknown>): Promise<NeonDbError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NeonDbError);
    return e as NeonDbError;
  }
  throw new Error('expected the query to fail');
}

async function until(what: string, check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function suite(name: string, makeBackend: () => LocalNeonBackend, opts: { cancelsStatements: boolean }) {
  const table = `lnp_${name}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  let backend: LocalNeonBackend;
  let server: LocalNeonServer;
  /** Same backend, response limit lowered to 64 KiB. */
  let small: LocalNeonServer;
  const sql = neon(CONN);
  const post = (headers: Record<string, string>, body: unknown, url = server.url) =>
    fetch(url, { method: 'POST', headers: { 'Neon-Connection-String': CONN, ...headers }, body: JSON.stringify(body) });
  const count = async (marker: string) =>
    ((await sql.query(`SELECT count(*)::int AS n FROM ${table} WHERE marker = $1`, [marker])) as [{ n: number }])[0].n;

  beforeAll(async () => {
    backend = makeBackend();
    server = await startLocalNeon({ backend, connectionString: CONN });
    small = await startLocalNeon({ backend, connectionString: CONN, maxResponseBytes: 64 * 1024 });
    neonConfig.fetchEndpoint = server.url;
    await sql.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, marker text NOT NULL)`);
  });
  beforeEach(() => {
    neonConfig.fetchEndpoint = server.url; // global: re-point in case another suite moved it
  });
  afterAll(async () => {
    if (server) {
      neonConfig.fetchEndpoint = server.url;
      await sql.query(`DROP TABLE IF EXISTS ${table}`);
      await Promise.all([server.close(), small.close()]);
    }
    await backend?.close();
  });

  it('refuses a response over the limit with 507, which the driver raises; a batch rolls back', async () => {
    neonConfig.fetchEndpoint = small.url;
    const err = await errorOf(sql`SELECT repeat('x', 70000) AS big`);
    expect(err.message).toMatch(/^Server error \(HTTP status 507\): /);
    expect(JSON.parse(err.message.replace(/^[^{]*/, ''))).toMatchObject({ message: `response is too large (max is ${64 * 1024} bytes)`, code: '' });
    expect(await sql`SELECT length(repeat('x', 60000)) AS n`).toEqual([{ n: 60000 }]); // small answers still pass

    const marker = `507-${Math.random()}`;
    await errorOf(sql.transaction([sql.query(`INSERT INTO ${table} (marker) VALUES ($1)`, [marker]), sql`SELECT repeat('y', 70000)`]));
    neonConfig.fetchEndpoint = server.url;
    expect(await count(marker)).toBe(0);

    // The default is Neon's 10 MiB.
    expect(NEON_MAX_RESPONSE_BYTES).toBe(10 * 1024 * 1024);
    expect((await errorOf(sql`SELECT repeat('z', ${10 * 1024 * 1024}::int)`)).message).toMatch(/HTTP status 507/);
  });

  it('refuses a wrong user, password or database, and a connection string without credentials', async () => {
    const asUser = (url: string) => neon(url);
    for (const url of ['postgres://intruder:s3cret@ep-local.example.neon.tech/laundry', 'postgres://shop:guess@ep-local.example.neon.tech/laundry']) {
      const err = await errorOf(asUser(url)`SELECT 1`);
      expect(err.message).toBe(`password authentication failed for user '${new URL(url).username}'`);
      expect(err.code).toBe('');
    }
    const db = await errorOf(asUser('postgres://shop:s3cret@ep-local.example.neon.tech/other')`SELECT 1`);
    expect(db.message).toMatch(/^Server error \(HTTP status 500\): /);
    expect(JSON.parse(db.message.replace(/^[^{]*/, ''))).toMatchObject({ message: 'database "other" does not exist', code: '3D000', severity: 'FATAL' });

    const noPassword = await post({ 'Neon-Connection-String': 'postgres://shop@ep-local.example.neon.tech/laundry' }, { query: 'SELECT 1' });
    expect([noPassword.status, ((await noPassword.json()) as { message: string }).message]).toEqual([400, 'missing authentication credentials: required password']);
    const none = await fetch(server.url, { method: 'POST', body: JSON.stringify({ query: 'SELECT 1' }) });
    expect([none.status, ((await none.json()) as { message: string }).message]).toEqual([400, 'invalid header: neon-connection-string']);
    // The host is not checked: the stand-in serves one database whatever the endpoint.
    expect(await asUser('postgres://shop:s3cret@elsewhere.localtest:5432/laundry')`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it('takes header flags only when exactly "true", and refuses an empty isolation level', async () => {
    const q = { query: `SELECT 1::int4 AS i, 9007199254740993::int8 AS big, true AS b, '{"a":[1]}'::jsonb AS j, ARRAY[1,NULL,3] AS arr, 1.5::float8 AS f, 'NaN'::float8 AS nan` };
    const raw = (await (await post({ 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' }, q)).json()) as { rows: unknown[][]; rowAsArray: boolean };
    expect(raw).toMatchObject({ rowAsArray: true, rows: [['1', '9007199254740993', 't', '{"a": [1]}', '{1,NULL,3}', '1.5', 'NaN']] });
    // `TRUE`, `yes`, `1`: all false to Neon, so values become JSON and rows objects.
    const typed = (await (await post({ 'Neon-Raw-Text-Output': 'TRUE', 'Neon-Array-Mode': '1' }, q)).json()) as { rows: unknown[]; rowAsArray: boolean };
    expect(typed).toMatchObject({ rowAsArray: false, rows: [{ i: 1, big: '9007199254740993', b: true, j: { a: [1] }, arr: [1, null, 3], f: 1.5, nan: 'NaN' }] });
    // A per-query arrayMode in the body wins over the header.
    const perQuery = (await (await post({}, { ...q, arrayMode: true })).json()) as { rowAsArray: boolean };
    expect(perQuery.rowAsArray).toBe(true);

    const show = { queries: [{ query: 'SHOW transaction_read_only' }, { query: 'SHOW transaction_deferrable' }] };
    const flags = async (value: string) => {
      const res = await post({ 'Neon-Raw-Text-Output': 'true', 'Neon-Batch-Read-Only': value, 'Neon-Batch-Deferrable': value }, show);
      const body = (await res.json()) as { results: { rows: Record<string, string>[] }[] };
      return body.results.map((r) => Object.values(r.rows[0] ?? {})[0]);
    };
    expect(await flags('true')).toEqual(['on', 'on']);
    expect(await flags('True')).toEqual(['off', 'off']);
    expect(await flags('')).toEqual(['off', 'off']);

    const empty = await post({ 'Neon-Batch-Isolation-Level': '' }, show);
    expect([empty.status, ((await empty.json()) as { message: string }).message]).toEqual([400, 'invalid isolation level']);
  });

  it('puts every Postgres error field in the error body, null where absent, and code "" for its own errors', async () => {
    const res = await post({}, { query: `INSERT INTO ${table} (marker) VALUES (NULL)` });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'message', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'severity', 'where',
      'table', 'column', 'schema', 'dataType', 'constraint', 'file', 'line', 'routine',
    ]);
    expect(body).toMatchObject({ code: '23502', severity: 'ERROR', table, column: 'marker', hint: null, position: null, constraint: null });
    const syntax = (await (await post({}, { query: 'SELEC 1' })).json()) as Record<string, unknown>;
    expect(syntax).toMatchObject({ code: '42601', position: '1', detail: null });
    // The driver copies the fields onto NeonDbError.
    expect((await errorOf(sql.query(`INSERT INTO ${table} (marker) VALUES (NULL)`))).column).toBe('marker');

    const own = (await (await post({ 'Neon-Batch-Isolation-Level': 'Chaos' }, { queries: [] })).json()) as Record<string, unknown>;
    expect(own).toMatchObject({ message: 'invalid isolation level', code: '', severity: '', detail: null, routine: null });
    expect(Object.keys(own)).toHaveLength(17);
  });

  it('serves only POST /sql', async () => {
    const base = server.url.replace(/\/sql$/, '');
    for (const [method, path] of [['GET', '/sql'], ['POST', '/query'], ['PUT', '/sql'], ['POST', '/']] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: { 'Neon-Connection-String': CONN }, ...(method === 'GET' ? {} : { body: '{"query":"SELECT 1"}' }) });
      expect([method, path, res.status, await res.json()]).toEqual([method, path, 400, 'query is not supported']);
    }
    const preflight = await fetch(server.url, { method: 'OPTIONS' });
    expect([preflight.status, preflight.headers.get('allow')]).toEqual([200, 'OPTIONS, POST']);
  });

  it('never commits a batch whose client went away', async () => {
    const marker = `gone-${Math.random()}`;
    const abort = new AbortController();
    const batch = sql.transaction(
      [
        sql.query(`INSERT INTO ${table} (marker) VALUES ($1)`, [marker]),
        sql.query(`SELECT pg_sleep($1::float8) /* ${table} */`, [opts.cancelsStatements ? 30 : 0.3]),
        sql.query(`INSERT INTO ${table} (marker) VALUES ($1)`, [marker]),
      ],
      { fetchOptions: { signal: abort.signal } },
    );
    const settled = batch.catch((e: unknown) => e);
    if (opts.cancelsStatements) {
      // Disconnect while the last-but-one statement runs, after the first INSERT.
      await until('the batch to reach its sleep', async () => (await running('pg_sleep(')) === 1);
      abort.abort();
    } else {
      // PGlite blocks the event loop for the whole sleep: the abort lands after it, before the next statement.
      setTimeout(() => abort.abort(), 100);
    }
    expect(await settled).toBeInstanceOf(Error);
    if (opts.cancelsStatements) await until('the sleeping statement to be cancelled', async () => (await running('pg_sleep(')) === 0);
    // Give a batch that wrongly carried on the time to commit before looking.
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(marker)).toBe(0);
    expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]); // the endpoint and backend are fine afterwards
  });

  /** Statements in the server's pg_stat_activity whose text contains `fragment` (not this one). */
  const running = async (fragment: string) =>
    ((await sql.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND position($1 in query) > 0 AND query LIKE $2`,
      [fragment, `%${table}%`],
    )) as [{ n: number }])[0].n;

  // PGlite runs a statement on this thread and cannot cancel it (see tools/local-neon/pglite.ts).
  if (opts.cancelsStatements) it('cancels the running statement when the client disconnects', async () => {
    const abort = new AbortController();
    // The table name in a comment marks this test's statement in pg_stat_activity.
    const query = sql.query(`SELECT pg_sleep(30) /* ${table} */`, [], { fetchOptions: { signal: abort.signal } });
    const settled = query.catch((e: unknown) => e);
    await until('the statement to start', async () => (await running('pg_sleep(30)')) === 1);
    const started = Date.now();
    abort.abort();
    expect(await settled).toBeInstanceOf(Error);
    await until('the statement to be cancelled', async () => (await running('pg_sleep(30)')) === 0);
    expect(Date.now() - started).toBeLessThan(20_000); // well before the 30 s sleep would end
    expect(server.stats().errors).toBeGreaterThan(0);
  });
}

describe('local-neon matches Neon\'s proxy, over PGlite (in memory)', () => {
  suite('pglite', () => pgliteBackend(new PGlite(), { closeDb: true }), { cancelsStatements: false });
});

describe.skipIf(!PG_URL)('local-neon matches Neon\'s proxy, over PostgreSQL (pg.Pool)', () => {
  suite('pg', () => pgBackend(PG_URL as string, { max: 10 }), { cancelsStatements: true });
});
