/**
 * Node section of `npm run bench`: the compiled server (what the Dockerfile runs) under load,
 * against a bare @hono/node-server hello-world, the same middleware hand-wired on node:http
 * (./handwired.ts) and the same SQL issued with pg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import {
  BENCH_JWT_SECRET,
  captureSql,
  createFixtures,
  expectStatus,
  httpClient,
  orderBody,
  orderHeaders,
  replayer,
  statementCount,
  type Fixtures,
} from './db.js';
import type { HandwiredCatalog } from './handwired.js';
import { alternate, freePort, log, procStatusKiB, runCommand, startChild, stopChild, versus, waitForHttp, type BenchOptions, type LoadResult } from './lib.js';

export const TMP = resolve('bench/tmp');
export const LIST_ORDERS = 50;
/** The second ceiling's name in the report (tools/bench/report.ts budgets the catalog against it). */
export const HANDWIRED = 'hand-wired node:http';

export interface LoadRow {
  runtime: 'Node' | 'Worker';
  route: string;
  subject: LoadResult;
  ceilingName: string;
  ceiling: LoadResult;
}

export interface NodeSection {
  rows: LoadRow[];
  /** VmHWM of the server process at the end: its peak resident memory over the whole run. */
  hwmKiB: number | undefined;
  /** The NODE_OPTIONS the server ran with (the Dockerfile's). */
  nodeOptions: string;
  statements: { list: number; create: number; createUnits: number };
  fixtures: Fixtures;
}

/** The production env the Dockerfile sets, plus what production insists on. */
export function serverEnv(databaseUrl: string, port: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    APP_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    JWT_SECRET: BENCH_JWT_SECRET,
    STRIPE_SECRET_KEY: 'sk_test_bench_0123456789',
    STRIPE_WEBHOOK_SECRET: 'whsec_bench_0123456789',
    CORS_ORIGINS: 'https://app.bench.example',
    // Production refuses to start without it (src/platform/node/config.ts).
    METRICS_TOKEN: 'bench-metrics-token-0123456789abcdef0123456789',
    LOG_LEVEL: 'info',
    // No pre-stop delay or long drain: the bench stops the server when it is done with it.
    SHUTDOWN_DELAY_MS: '0',
    SHUTDOWN_GRACE_MS: '1000',
  };
}

/** The NODE_OPTIONS the image sets (heap bounds): the bench runs the server as the Dockerfile does. */
export function dockerNodeOptions(): string {
  const match = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(resolve('Dockerfile'), 'utf8'));
  if (!match) throw new Error('Dockerfile: no ENV NODE_OPTIONS="…" line to run the server with');
  return match[1]!;
}

const HELLO_NODE = `import { serve } from '@hono/node-server';
import { Hono } from 'hono';
const app = new Hono();
app.get('/', (c) => c.text('Hello World!'));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
`;

/** Compiles the server exactly as `npm run build` does, into a private folder (dist/ may be in use). */
export async function buildNodeServer(): Promise<string> {
  const outDir = resolve(TMP, 'dist');
  await runCommand('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir]);
  return resolve(outDir, 'src/node.js');
}

/** The app's own GET /v1/services answer, as the hand-wired ceiling serves it. */
async function readCatalog(base: string, env: Record<string, string>): Promise<HandwiredCatalog> {
  const res = await fetch(`${base}/v1/services`);
  const header = (name: string) => {
    const value = res.headers.get(name);
    if (value === null) throw new Error(`GET /v1/services: no ${name} header to copy into the hand-wired ceiling`);
    return value;
  };
  if (res.status !== 200) throw new Error(`GET /v1/services: ${res.status}`);
  return {
    body: await res.text(),
    etag: header('etag'),
    cacheControl: header('cache-control'),
    appVersion: header('x-app-version'),
    corsOrigins: env.CORS_ORIGINS!.split(','),
    exposeHeaders: header('access-control-expose-headers'),
  };
}

/** Runs one GET /v1/orders and one POST /v1/orders in-process and records the SQL pg sends for each. */
async function captureOrderSql(databaseUrl: string, f: Fixtures) {
  const database = createPostgresDatabase(databaseUrl);
  const deps = createNodeDeps(loadConfig(serverEnv(databaseUrl, 0)), { database, logger: createMemoryLogger() });
  const call = httpClient((req) => Promise.resolve(createApp(deps).fetch(req)));
  try {
    const list = await captureSql(async () => {
      expectStatus(await call('GET', '/v1/orders', undefined, { authorization: `Bearer ${f.reader.token}` }), 200, 'GET /v1/orders');
    });
    // The server has seen orders before the load starts, so it plans on remembered rows (one statement):
    // capture that path, not the first order's read + write.
    expectStatus(await call('POST', '/v1/orders', orderBody(f, f.writer), orderHeaders(f.writer, `warm-${crypto.randomUUID()}`)), 201, 'POST /v1/orders (warm-up)');
    const key = `capture-${crypto.randomUUID()}`;
    let orderId = '';
    const create = await captureSql(async () => {
      const r = await call('POST', '/v1/orders', orderBody(f, f.writer), orderHeaders(f.writer, key));
      orderId = expectStatus(r, 201, 'POST /v1/orders').id;
    });
    return { list, create, key, orderId };
  } finally {
    await database.close();
  }
}

/** Every request gets its own idempotency key and order id, in every parameter that carried them. */
function freshIds(key: string, orderId: string) {
  return () => {
    const k = `raw-${crypto.randomUUID()}`;
    const id = crypto.randomUUID();
    return (s: string) => (s.includes(key) || s.includes(orderId) ? s.replaceAll(key, k).replaceAll(orderId, id) : s);
  };
}

export async function nodeSection(o: BenchOptions, databaseUrl: string, serverJs: string): Promise<NodeSection> {
  const [appPort, helloPort, handPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(resolve(TMP, 'hello-node.mjs'), HELLO_NODE);
  const env = serverEnv(databaseUrl, appPort);
  // BENCH_SERVER_FLAGS, e.g. '--cpu-prof --cpu-prof-dir=bench/tmp/prof', profiles the app server.
  const flags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  const server = startChild('node', [...flags, serverJs], { ...env, NODE_OPTIONS: dockerNodeOptions() });
  const hello = startChild('node', [resolve(TMP, 'hello-node.mjs')], { PORT: String(helloPort) });
  let handwired: ReturnType<typeof startChild> | undefined;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  try {
    const base = `http://127.0.0.1:${appPort}`;
    await waitForHttp(`${base}/healthz`, 30_000, server);
    await waitForHttp(`http://127.0.0.1:${helloPort}/`, 30_000, hello);
    log(`node: server pid ${server.pid} on ${base}; seeding ${LIST_ORDERS} orders`);
    const f = await createFixtures(httpClient(fetch, base), databaseUrl, LIST_ORDERS);
    const captured = await captureOrderSql(databaseUrl, f);
    const rows: LoadRow[] = [];
    const pid = server.pid!;

    const catalogFile = resolve(TMP, 'handwired-catalog.json');
    writeFileSync(catalogFile, JSON.stringify(await readCatalog(base, env)));
    handwired = startChild('node', ['--import', 'tsx', resolve('tools/bench/handwired.ts')], {
      PORT: String(handPort),
      HANDWIRED_CATALOG: catalogFile,
      NODE_OPTIONS: dockerNodeOptions(),
    });
    const handUrl = `http://127.0.0.1:${handPort}/v1/services`;
    await waitForHttp(handUrl, 30_000, handwired);

    log('node: GET /v1/services vs the hand-wired node:http server vs hello-world');
    const [helloRun, handRun, appRun] = await alternate(o, [
      { load: { http: { url: `http://127.0.0.1:${helloPort}/` } }, pid: hello.pid! },
      { load: { http: { url: handUrl } }, pid: handwired.pid! },
      { load: { http: { url: `${base}/v1/services` } }, pid },
    ]);
    rows.push({ runtime: 'Node', route: 'GET /v1/services', subject: appRun!, ceilingName: HANDWIRED, ceiling: handRun! });
    rows.push({ runtime: 'Node', route: 'GET /v1/services (the same run, against hello-world)', subject: appRun!, ceilingName: 'hello-world', ceiling: helloRun! });
    rows.push({ runtime: 'Node', route: `${HANDWIRED}: GET /v1/services (the ceiling itself, same run)`, subject: handRun!, ceilingName: 'hello-world', ceiling: helloRun! });
    const helloLoad = { load: { http: { url: `http://127.0.0.1:${helloPort}/` } }, pid: hello.pid! };
    // The app's floor: the same middleware stack and response path, no work at all.
    const floor = await versus(
      o,
      helloLoad,
      { load: { http: { url: `${base}/healthz` } }, pid },
    );
    rows.push({ runtime: 'Node', route: 'GET /healthz (the middleware stack alone, for reference)', subject: floor.subject, ceilingName: 'hello-world', ceiling: floor.ceiling });
    // The same catalog query and JSON, never cached: what GET /v1/services costs on a miss.
    const uncached = await versus(
      o,
      helloLoad,
      { load: { http: { url: `${base}/v1/admin/services`, headers: { authorization: `Bearer ${f.adminToken}` } } }, pid },
    );
    rows.push({ runtime: 'Node', route: 'GET /v1/admin/services (the catalog uncached, for reference)', subject: uncached.subject, ceilingName: 'hello-world', ceiling: uncached.ceiling });

    log('node: GET /v1/orders vs raw SQL');
    const auth = { authorization: `Bearer ${f.reader.token}` };
    const list = await versus(
      o,
      { load: { call: replayer(pool, captured.list) } },
      { load: { http: { url: `${base}/v1/orders`, headers: auth } }, pid },
    );
    rows.push({ runtime: 'Node', route: `GET /v1/orders (${LIST_ORDERS} orders, page of 20)`, subject: list.subject, ceilingName: 'raw SQL (pg)', ceiling: list.ceiling });

    log('node: POST /v1/orders vs raw SQL');
    const headers = orderHeaders(f.writer, 'x');
    const create = await versus(
      o,
      { load: { call: replayer(pool, captured.create, freshIds(captured.key, captured.orderId)) } },
      {
        load: {
          http: {
            url: `${base}/v1/orders`,
            method: 'POST',
            headers,
            body: JSON.stringify(orderBody(f, f.writer)),
            setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': crypto.randomUUID() } }),
          },
        },
        pid,
      },
    );
    rows.push({ runtime: 'Node', route: 'POST /v1/orders (pay on delivery)', subject: create.subject, ceilingName: 'raw SQL (pg)', ceiling: create.ceiling });

    return {
      rows,
      hwmKiB: procStatusKiB(pid, 'VmHWM'),
      nodeOptions: dockerNodeOptions(),
      statements: { list: statementCount(captured.list), create: statementCount(captured.create), createUnits: captured.create.length },
      fixtures: f,
    };
  } finally {
    await pool.end();
    await stopChild(server);
    await stopChild(hello);
    await stopChild(handwired);
  }
}
