/**
 * Edge section of `npm run bench` (`--only=edge`): the Worker in workerd, as in worker.ts, but
 * with a delaying proxy between it and the local Neon endpoint, so that every database round trip
 * costs what it costs at the edge (20 ms by default, `--edge-delay-ms=N`). Sequential requests at
 * the main endpoints; per endpoint the p50/p95 latency, the round trips counted through the proxy
 * for each request (measured, not assumed), the floor (round trips on the response path × delay)
 * and the residual (p50 − floor): what the Worker itself, workerd and the local network add.
 *
 * A bench tool only: nothing here is part of the shipped Worker (src/).
 */
import { resolve } from 'node:path';
import { unstable_startWorker } from 'wrangler';
import { BENCH_JWT_SECRET, BENCH_PASSWORD, createFixtures, customer, expectStatus, httpClient, orderBody, orderHeaders, sqlRows } from './db.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';
import { freePort, log, median, percentile, startChild, stopChild, waitForHttp, type BenchOptions } from './lib.js';

export interface EdgeRow {
  endpoint: string;
  /** The round-trip table's case this row is compared with (e.g. "cached"). */
  variant?: string;
  samples: number;
  p50: number;
  p95: number;
  /** Median round trips per request as counted by the proxy, including background work. */
  roundTrips: number;
  /** Smallest and largest count seen over the samples (a row whose counts vary is flagged). */
  roundTripsRange: [number, number];
  /** Median round trips that started before the response arrived (the rest ran in the background). */
  responsePathRoundTrips: number;
  /** responsePathRoundTrips × delay, ms. */
  floor: number;
  /** p50 − floor, ms. */
  residual: number;
  /** Median time the local Neon endpoint and PostgreSQL took for the response path's requests, ms (part of the residual; at Neon it hides in the real round trip). */
  dbMs: number;
  /** Median time the proxy held the response path's requests beyond the delay (timer lateness on a loaded machine), ms: part of the residual, not the Worker's. */
  proxyLateMs: number;
  /** Non-2xx answers (the row's figures are then suspect). */
  failures: number;
  /** Round trips of the notification queue consumer seen during this endpoint's samples, in all (not the request's own). */
  consumerRoundTrips: number;
  /** The first unexpected answer, `status code` (for the report's warning). */
  firstFailure?: string;
}

export interface EdgeSection {
  delayMs: number;
  rows: EdgeRow[];
}

// --------------------------------------------------------------------------------- the section

type Probe = { endpoint: string; variant?: string; status: number; samples: number; request: () => Promise<{ url: string; init: RequestInit }> };

const plain = (value: string) => ({ type: 'plain_text' as const, value });

/**
 * Runs the section on `databaseUrl`, a database of its own (migrated and seeded): fixtures are
 * made through the Worker, with the delay off while they are.
 */
export async function edgeSection(o: BenchOptions, databaseUrl: string): Promise<EdgeSection> {
  const delayMs = o.edgeDelayMs;
  const neonPort = await freePort();
  const connectionString = 'postgres://bench:bench@db.localtest:5432/laundry';
  const neon = startChild(
    'node',
    ['--import', 'tsx', 'tools/local-neon/index.ts', '--port', String(neonPort), '--database-url', databaseUrl, '--pool-size', '4', '--connection-string', connectionString],
    {},
  );
  let proxy: DelayProxy | undefined;
  let worker: Awaited<ReturnType<typeof unstable_startWorker>> | undefined;
  try {
    await waitForHttp(`http://127.0.0.1:${neonPort}/__stats`, 30_000, neon);
    proxy = await startDelayProxy(`http://127.0.0.1:${neonPort}`, 0);
    worker = await unstable_startWorker({
      config: resolve('wrangler.toml'),
      bindings: Object.fromEntries(
        Object.entries({ APP_ENV: 'development', DATABASE_URL: connectionString, NEON_LOCAL_ENDPOINT: `${proxy.url}/sql`, JWT_SECRET: BENCH_JWT_SECRET, LOG_LEVEL: 'warn' }).map(([k, v]) => [k, plain(v)]),
      ),
      dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, persist: false, logLevel: 'warn' },
    });
    await worker.ready;
    const base = String(await worker.url).replace(/\/$/, '');
    const call = httpClient(fetch, base);

    // Set-up with the delay off: fixtures, a staff member, orders to read and to cancel.
    const f = await createFixtures(call, databaseUrl, 50);
    const writer = await customer(call, databaseUrl, f.postcode, 'edge-writer');
    const staffEmail = `edge-staff-${crypto.randomUUID().slice(0, 8)}@bench.test`;
    expectStatus(await call('POST', '/v1/auth/register', { email: staffEmail, password: BENCH_PASSWORD }), 201, 'register staff');
    await sqlRows(databaseUrl, `UPDATE users SET role = 'staff' WHERE email = $1`, [staffEmail]);
    const staffToken = expectStatus(await call('POST', '/v1/auth/login', { email: staffEmail, password: BENCH_PASSWORD }), 200, 'staff login').accessToken as string;
    const loginEmail = `edge-login-${crypto.randomUUID().slice(0, 8)}@bench.test`;
    expectStatus(await call('POST', '/v1/auth/register', { email: loginEmail, password: BENCH_PASSWORD }), 201, 'register login user');
    const listed = expectStatus(await call('GET', '/v1/orders', undefined, { authorization: `Bearer ${f.reader.token}` }), 200, 'list orders');
    const orderId = (listed.data as Array<{ id: string }>)[0]!.id;
    const newOrder = async () =>
      expectStatus(await call('POST', '/v1/orders', orderBody(f, writer), orderHeaders(writer)), 201, 'order to cancel').id as string;

    const n = o.quick ? 8 : 40;
    const slow = o.quick ? 2 : 8; // Argon2id: ~100+ ms of CPU each
    const get = (path: string, token?: string) => async () => {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      return { url: `${base}${path}`, init: { headers } };
    };
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) => ({
      url: `${base}${path}`,
      init: { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
    });
    const postcode = encodeURIComponent(f.postcode);
    let ipSeq = 0;
    const probes: Probe[] = [
      { endpoint: 'GET /healthz', status: 200, samples: n, request: get('/healthz') },
      { endpoint: 'GET /readyz', status: 200, samples: n, request: get('/readyz') },
      { endpoint: 'GET /v1/services', variant: 'cached', status: 200, samples: n, request: get('/v1/services') },
      // From a client address (CF-Connecting-IP, as at Cloudflare), so the per-address count runs as in production; one address per sample keeps it under the window's limit.
      {
        endpoint: 'POST /v1/auth/register',
        status: 201,
        samples: slow,
        request: async () =>
          post('/v1/auth/register', { email: `edge-${crypto.randomUUID().slice(0, 8)}@bench.test`, password: BENCH_PASSWORD }, { 'cf-connecting-ip': `203.0.113.${(ipSeq++ % 200) + 1}` }),
      },
      { endpoint: 'POST /v1/auth/login', status: 200, samples: slow, request: async () => post('/v1/auth/login', { email: loginEmail, password: BENCH_PASSWORD }) },
      { endpoint: 'GET /v1/me', status: 200, samples: n, request: get('/v1/me', f.reader.token) },
      { endpoint: 'GET /v1/orders', status: 200, samples: n, request: get('/v1/orders', f.reader.token) },
      { endpoint: 'GET /v1/orders/{id}', status: 200, samples: n, request: get(`/v1/orders/${orderId}`, f.reader.token) },
      { endpoint: 'POST /v1/orders', variant: 'pay on delivery', status: 201, samples: n, request: async () => post('/v1/orders', orderBody(f, writer), orderHeaders(writer)) },
      { endpoint: 'POST /v1/orders/{id}/cancel', status: 200, samples: n, request: async () => post(`/v1/orders/${await newOrder()}/cancel`, {}, { authorization: `Bearer ${writer.token}` }) },
      { endpoint: 'GET /v1/slots', status: 200, samples: n, request: get(`/v1/slots?postcode=${postcode}&kind=pickup`) },
      { endpoint: 'GET /v1/coverage', status: 200, samples: n, request: get(`/v1/coverage?postcode=${postcode}`) },
      { endpoint: 'GET /v1/staff/orders', status: 200, samples: n, request: get('/v1/staff/orders', staffToken) },
    ];

    // Warm the isolate (lazy app build, catalog cache, Argon2id wasm) with the delay off.
    for (const p of probes) {
      const { url, init } = await p.request();
      await (await fetch(url, init)).arrayBuffer();
    }
    proxy.delayMs = delayMs;
    const quietMs = Math.max(25, delayMs + 15);
    log(`edge: ${delayMs} ms per database request; ${n} samples per endpoint (${slow} for register and login)`);

    const rows: EdgeRow[] = [];
    for (const p of probes) {
      const latencies: number[] = [];
      const total: number[] = [];
      const onPath: number[] = [];
      const consumer: number[] = [];
      const db: number[] = [];
      const late: number[] = [];
      let failures = 0;
      let firstFailure: string | undefined;
      for (let i = 0; i < p.samples; i++) {
        const { url, init } = await p.request(); // may do unmeasured set-up (an order to cancel)
        await proxy.settle(quietMs);
        proxy.reset();
        const t = performance.now();
        const res = await fetch(url, init);
        const text = await res.text();
        const answered = performance.now();
        await proxy.settle(quietMs);
        if (res.status !== p.status) {
          failures++;
          firstFailure ??= `${res.status} ${/"code":"([a-z_]+)"/.exec(text)?.[1] ?? ''}`.trim();
        }
        latencies.push(answered - t);
        // The notification consumer's round trips are another invocation's (the queue's), not this
        // request's: counted apart, never in the request's round trips or floor.
        const own = proxy.arrivals.filter((a) => !a.notification);
        consumer.push(proxy.arrivals.length - own.length);
        total.push(own.length);
        const path = own.filter((a) => a.at < answered);
        onPath.push(path.length);
        db.push(path.reduce((sum, a) => sum + (a.upstreamMs ?? 0), 0));
        late.push(path.reduce((sum, a) => sum + Math.max(0, (a.heldMs ?? delayMs) - delayMs), 0));
      }
      latencies.sort((a, b) => a - b);
      const p50 = percentile(latencies, 50);
      const path = median(onPath);
      const floor = path * delayMs;
      rows.push({
        endpoint: p.endpoint,
        ...(p.variant ? { variant: p.variant } : {}),
        samples: p.samples,
        p50,
        p95: percentile(latencies, 95),
        roundTrips: median(total),
        roundTripsRange: [Math.min(...total), Math.max(...total)],
        responsePathRoundTrips: path,
        floor,
        residual: p50 - floor,
        dbMs: median(db),
        proxyLateMs: median(late),
        failures,
        ...(firstFailure ? { firstFailure } : {}),
        consumerRoundTrips: consumer.reduce((a, b) => a + b, 0),
      });
    }
    return { delayMs, rows };
  } finally {
    await worker?.dispose();
    await proxy?.close();
    await stopChild(neon);
  }
}
