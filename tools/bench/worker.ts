/**
 * Worker section of `npm run bench`: the real Worker in workerd (wrangler's startWorker, the
 * engine behind `wrangler dev`) with the neon-http driver → local Neon endpoint (its own
 * process) → PostgreSQL, against a hello-world Worker deployed like it (Static Assets,
 * `run_worker_first`: writeProbeWorker). The same probe Worker times
 * Argon2id inside workerd.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { unstable_startWorker } from 'wrangler';
import { BENCH_JWT_SECRET, customer, httpClient, orderBody, orderHeaders, type Fixtures } from './db.js';
import { freePort, log, median, startChild, stopChild, versus, waitForHttp, type BenchOptions } from './lib.js';
import { TMP, type LoadRow } from './node.js';

type StartedWorker = Awaited<ReturnType<typeof unstable_startWorker>>;

export interface WorkerSection {
  rows: LoadRow[];
  /** Wall time of the first request to a fresh isolate (the app is built lazily on it), ms. */
  firstRequestMs: { app: number; hello: number };
  argon2Ms: number | undefined;
}

const PROBE_WORKER = `import noSimdWasm from 'argon2id/dist/no-simd.wasm';
import simdWasm from 'argon2id/dist/simd.wasm';
import setupArgon2id from 'argon2id/lib/setup.js';
import { createPasswordHasher } from '../../../src/auth/password.ts';

const hasher = createPasswordHasher(async () =>
  setupArgon2id(
    async (imports) => ({ module: simdWasm, instance: await WebAssembly.instantiate(simdWasm, imports) }),
    async (imports) => ({ module: noSimdWasm, instance: await WebAssembly.instantiate(noSimdWasm, imports) }),
  ),
);
let phc;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/argon2') return new Response('Hello World!');
    phc ??= await hasher.hash('bench password 123');
    const n = Number(url.searchParams.get('n') ?? '1');
    for (let i = 0; i < n; i++) if (!(await hasher.verify('bench password 123', phc))) throw new Error('verify failed');
    return new Response('ok');
  },
};
`;

/**
 * A hello-world Worker that can also run the app's Argon2id verify n times (`/argon2?n=`).
 *
 * It is deployed like the app: with Static Assets and `run_worker_first = true` (wrangler.toml's
 * `[assets]`, which serves /openapi.json). Locally that puts wrangler's asset router Worker in
 * front of every request, a hop Cloudflare's edge does not bill to the Worker, and it costs about
 * 15% of a hello-world's throughput on this box (2,562 → 2,197 req/s; the app's /healthz 1,880 →
 * 2,240 without it, 1 December 2026). With the same routing on both sides the ratio compares the app
 * with an empty Worker on the same path; the router's share, paid by both, still narrows it a little
 * (about 78% with the router on neither side where this measures 81%).
 */
export function writeProbeWorker(): string {
  const dir = resolve(TMP, 'probe');
  mkdirSync(resolve(dir, 'assets'), { recursive: true });
  writeFileSync(resolve(dir, 'worker.js'), PROBE_WORKER);
  writeFileSync(resolve(dir, 'assets', 'probe.txt'), 'probe\n');
  writeFileSync(
    resolve(dir, 'wrangler.toml'),
    'name = "bench-probe"\nmain = "worker.js"\ncompatibility_date = "2026-04-20"\n\n[assets]\ndirectory = "./assets"\nbinding = "ASSETS"\nrun_worker_first = true\n',
  );
  return resolve(dir, 'wrangler.toml');
}

const plain = (value: string) => ({ type: 'plain_text' as const, value });

async function start(config: string, vars: Record<string, string>): Promise<{ worker: StartedWorker; url: string; firstMs: number }> {
  const worker = await unstable_startWorker({
    config,
    bindings: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, plain(v)])),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, persist: false, logLevel: 'warn' },
  });
  await worker.ready;
  const url = String(await worker.url).replace(/\/$/, '');
  const t = performance.now();
  const res = await fetch(`${url}/healthz`);
  await res.arrayBuffer();
  return { worker, url, firstMs: performance.now() - t };
}

/** (time of n verifies − time of none) / n, measured from outside: workerd's clocks stand still while code runs. */
async function argon2InWorkerd(url: string, quick: boolean): Promise<number> {
  const time = async (n: number) => {
    const t = performance.now();
    const res = await fetch(`${url}/argon2?n=${n}`);
    if (!res.ok) throw new Error(`probe /argon2: ${res.status} ${await res.text()}`);
    return performance.now() - t;
  };
  await time(1); // instantiates the wasm and makes the hash
  const n = 5;
  const base: number[] = [];
  const work: number[] = [];
  for (let i = 0; i < (quick ? 2 : 4); i++) {
    base.push(await time(0));
    work.push(await time(n));
  }
  return (median(work) - median(base)) / n;
}

export async function workerSection(o: BenchOptions, databaseUrl: string, f: Fixtures): Promise<WorkerSection> {
  const neonPort = await freePort();
  // The endpoint checks the Worker's DATABASE_URL (user, password, database) as Neon does.
  const connectionString = 'postgres://bench:bench@db.localtest:5432/laundry';
  const neon = startChild(
    'node',
    ['--import', 'tsx', 'tools/local-neon/index.ts', '--port', String(neonPort), '--database-url', databaseUrl, '--pool-size', '10', '--connection-string', connectionString],
    {},
  );
  let app: Awaited<ReturnType<typeof start>> | undefined;
  let probe: Awaited<ReturnType<typeof start>> | undefined;
  try {
    await waitForHttp(`http://127.0.0.1:${neonPort}/__stats`, 30_000, neon);
    app = await start(resolve('wrangler.toml'), {
      APP_ENV: 'development',
      DATABASE_URL: connectionString,
      NEON_LOCAL_ENDPOINT: `http://127.0.0.1:${neonPort}/sql`,
      JWT_SECRET: BENCH_JWT_SECRET,
      // Worker logs travel through wrangler, i.e. this process, which also drives the load.
      LOG_LEVEL: 'warn',
    });
    probe = await start(writeProbeWorker(), {});
    log(`worker: app on ${app.url}, hello-world on ${probe.url}`);
    const hello = { load: { http: { url: `${probe.url}/` } } };
    const rows: LoadRow[] = [];

    log('worker: GET /v1/services vs hello-world');
    const services = await versus(o, hello, { load: { http: { url: `${app.url}/v1/services` } } });
    rows.push({ runtime: 'Worker', route: 'GET /v1/services', subject: services.subject, ceilingName: 'hello-world Worker', ceiling: services.ceiling });
    const floor = await versus(o, hello, { load: { http: { url: `${app.url}/healthz` } } });
    rows.push({ runtime: 'Worker', route: 'GET /healthz (the middleware stack alone, for reference)', subject: floor.subject, ceilingName: 'hello-world Worker', ceiling: floor.ceiling });

    log('worker: GET /v1/orders vs hello-world');
    const auth = { authorization: `Bearer ${f.reader.token}` };
    const list = await versus(o, hello, { load: { http: { url: `${app.url}/v1/orders`, headers: auth } } });
    rows.push({ runtime: 'Worker', route: 'GET /v1/orders (50 orders, page of 20)', subject: list.subject, ceilingName: 'hello-world Worker', ceiling: list.ceiling });

    log('worker: POST /v1/orders vs hello-world');
    const writer = await customer(httpClient(fetch, app.url), databaseUrl, f.postcode, 'edge-writer');
    const create = await versus(o, hello, {
      load: {
        http: {
          url: `${app.url}/v1/orders`,
          method: 'POST',
          headers: orderHeaders(writer, 'x'),
          body: JSON.stringify(orderBody(f, writer)),
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': crypto.randomUUID() } }),
        },
      },
    });
    rows.push({ runtime: 'Worker', route: 'POST /v1/orders (pay on delivery)', subject: create.subject, ceilingName: 'hello-world Worker', ceiling: create.ceiling });

    log('worker: Argon2id in workerd');
    const argon2Ms = await argon2InWorkerd(probe.url, o.quick).catch((e: unknown) => {
      log(`argon2 in workerd failed: ${String(e)}`);
      return undefined;
    });
    return { rows, firstRequestMs: { app: app.firstMs, hello: probe.firstMs }, argon2Ms };
  } finally {
    await app?.worker.dispose();
    await probe?.worker.dispose();
    await stopChild(neon);
  }
}
