/**
 * `npm run release` and `npm run rollback` end to end with the real, pinned wrangler
 * binary: wrangler talks to a stand-in Cloudflare API (CLOUDFLARE_API_BASE_URL), and the
 * "edge" is the real app behind a proxy that routes by the version-override header the way
 * Cloudflare does. This proves the argv the tool sends is what wrangler 4.86.0 accepts and
 * that its output parses; the decision logic is covered in test/unit/release.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { unstable_readConfig } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCloudflare, type FakeCloudflare } from '../../tools/release/fake-cloudflare.js';
import { address, slot } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

const SMOKE = { email: 'smoke+release@laundry.example.com', password: 'a smoke account password' };

let t: TestApp;
let edge: ServerType;
let edgeUrl: string;
let cf: FakeCloudflare;
/** Versions whose /readyz the edge answers 503 for (a broken release). */
const broken = new Set<string>();
const served: string[] = [];

beforeAll(async () => {
  t = await createTestApp({ stripe: false });
  // The synthetic customer as `npm run cli -- synthetic-setup` leaves it: a synthetic zone with
  // slots in the coming days, and the user with one address in it.
  const reg = await t.api.post('/v1/auth/register', SMOKE);
  expect(reg.status, reg.text).toBe(201);
  await t.sql('UPDATE users SET synthetic = true WHERE id = $1', [reg.body.user.id]);
  const [zone] = await t.sql<{ id: string }>(
    `INSERT INTO zones (name, postcode_prefixes, time_zone, delivery_fee, minimum_order, free_delivery_from, synthetic)
     VALUES ('Synthetic (release probes)', ARRAY['ZZ99']::text[], 'UTC', 0, 0, NULL, true) RETURNING id`,
  );
  await address(t, reg.body.user.id, 'ZZ99 9ZZ');
  const services = (await t.api.get('/v1/services')).body.data as { turnaroundHours: number }[];
  const turnaround = services[0]!.turnaroundHours;
  for (const day of [1, 2]) {
    await slot(t, zone!.id, 'pickup', { startsInHours: 24 * day });
    await slot(t, zone!.id, 'delivery', { startsInHours: 24 * day + 2 + turnaround + 1 });
  }
  edge = await new Promise<ServerType>((ready) => {
    const s = serve(
      {
        port: 0,
        hostname: '127.0.0.1',
        fetch: async (request) => {
          // Cloudflare: an override reaches a version only if it is in the current deployment.
          const current = cf.current();
          const wanted = /="([^"]+)"$/.exec(request.headers.get('cloudflare-workers-version-overrides') ?? '')?.[1];
          const version = wanted && current.some((v) => v.version_id === wanted) ? wanted : current.reduce((a, b) => (b.percentage > a.percentage ? b : a)).version_id;
          const path = new URL(request.url).pathname;
          served.push(`${version} ${path}`);
          const started = performance.now();
          const res =
            broken.has(version) && path === '/readyz'
              ? Response.json({ status: 'not_ready', checks: { database: { status: 'fail', error: 'timeout' } } }, { status: 503 })
              : await t.app.fetch(request);
          // What the Worker's METRICS binding writes for every request (src/metrics/analytics-engine.ts),
          // into the environment's dataset (the path stands in for the route pattern here).
          cf.writeDataPoint('laundry_api_staging', {
            blobs: ['http', request.method, path, String(res.status)],
            doubles: [performance.now() - started, res.status],
            indexes: [version],
          });
          const headers = new Headers(res.headers);
          headers.set('x-app-version', version);
          return new Response(res.body, { status: res.status, headers });
        },
      },
      () => ready(s),
    );
  });
  edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => edge?.close(r));
  await t?.close();
});

function cli(script: 'release' | 'rollback', args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        CI: 'true',
        CLOUDFLARE_API_BASE_URL: cf.apiBase,
        CLOUDFLARE_API_TOKEN: 'fake-token',
        CLOUDFLARE_ACCOUNT_ID: 'fake-account',
        WRANGLER_SEND_METRICS: 'false',
        SMOKE_EMAIL: SMOKE.email,
        SMOKE_PASSWORD: SMOKE.password,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The queues staging's wrangler.toml names (producers, consumers, dead-letter queues): created
 * once per environment with `wrangler queues create` (docs/runbook.md), never by a release.
 */
const stagingConfig = unstable_readConfig({ config: 'wrangler.toml', env: 'staging' }, { hideWarnings: true });
const STAGING_QUEUES = [
  ...new Set([
    ...(stagingConfig.queues.producers ?? []).map((p: { queue: string }) => p.queue),
    ...(stagingConfig.queues.consumers ?? []).flatMap((c: { queue: string; dead_letter_queue?: string }) => [c.queue, ...(c.dead_letter_queue ? [c.dead_letter_queue] : [])]),
  ]),
].sort();

const splits = () =>
  [...cf.deployments]
    .reverse()
    .slice(1)
    .map((d) => d.versions.map((v) => `${v.version_id === initial ? 'old' : 'new'}@${v.percentage}`).join(' '));
let initial: string;

describe('release with the real wrangler against a stand-in Cloudflare API', () => {
  beforeAll(async () => {
    expect(STAGING_QUEUES).toEqual(['laundry-notifications-staging', 'laundry-notifications-staging-dlq']);
    cf = await startFakeCloudflare({ apiToken: 'fake-token', queues: STAGING_QUEUES });
    initial = cf.current()[0]!.version_id;
  });
  afterAll(() => cf.close());

  it('healthy: uploads with the git sha, stages at 0%, smoke-tests, goes to 100%, applies triggers', async () => {
    // One traffic step keeps this quick (each wrangler run costs ~2 s of start-up); the
    // step arithmetic and gates are covered by the unit tests.
    // No real users here and a 0 s hold: too little traffic to judge, passed on probes with --allow-low-traffic.
    const run = await cli('release', ['--env', 'staging', '--steps', '100', '--hold-seconds', '0', '--max-hold-seconds', '0', '--allow-low-traffic', '--probes', '2', '--base-url', edgeUrl]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('release laundry-api-staging (staging)');
    expect(run.stdout).toContain('RELEASED');
    expect(splits()).toEqual(['new@0 old@100', 'new@100 old@0']);
    const uploaded = [...cf.versions.values()].at(-1)!;
    expect(uploaded.annotations['workers/tag']).toMatch(/^[0-9a-f]{40}$/);
    expect(uploaded.annotations['workers/message']).toContain(uploaded.annotations['workers/tag']!);
    expect(cf.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/schedules') && r.body.includes('*/15 * * * *'))).toBe(true);
    // The upload checked that the configured queues exist; `triggers deploy` made the Worker their consumer, as wrangler.toml says.
    expect(cf.requests.some((r) => r.method === 'GET' && r.path.startsWith('/accounts/fake-account/queues?') && r.path.includes('name=laundry-notifications-staging-dlq'))).toBe(true);
    const consumer = (name: string) => cf.queues.get(name)!.consumers;
    expect(consumer('laundry-notifications-staging')).toEqual([
      expect.objectContaining({
        type: 'worker',
        script: 'laundry-api-staging',
        dead_letter_queue: 'laundry-notifications-staging-dlq',
        settings: expect.objectContaining({ batch_size: 10, max_retries: 5, max_wait_time_ms: 1000, retry_delay: 30 }),
      }),
    ]);
    expect(consumer('laundry-notifications-staging-dlq')).toEqual([
      expect.objectContaining({ type: 'worker', script: 'laundry-api-staging', settings: expect.objectContaining({ batch_size: 50, max_retries: 10 }) }),
    ]);
    expect(consumer('laundry-notifications-staging-dlq')[0]).not.toHaveProperty('dead_letter_queue');
    // The /docs viewer's files (wrangler.toml [assets]) went through Cloudflare's direct-upload flow,
    // and the version names the completion token (the stand-in refuses any other).
    expect(cf.requests.filter((r) => r.path.endsWith('/assets-upload-session')).length).toBe(1);
    expect(cf.requests.some((r) => r.path.startsWith('/accounts/fake-account/workers/assets/upload?base64=true'))).toBe(true);
    expect(cf.requests.find((r) => r.method === 'POST' && /\/workers\/scripts\/[^/]+\/versions(\?|$)/.test(r.path))?.body).toMatch(/"assets":\{"jwt":"[0-9a-f-]{36}"/);
    // The smoke checks reached the new version while it had 0% of the traffic, through an order and its cancellation.
    expect(served).toContain(`${uploaded.id} /v1/me`);
    expect(served).toContain(`${uploaded.id} /v1/orders`);
    expect(served.some((s) => s.startsWith(uploaded.id) && /\/v1\/orders\/[0-9a-f-]{36}\/cancel$/.test(s))).toBe(true);
    const [cancelled] = await t.sql<{ status: string }>(`SELECT o.status FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = $1`, [SMOKE.email]);
    expect(cancelled!.status).toBe('cancelled');
    // The gate asked the Analytics Engine SQL API about the staging dataset (wrangler.toml), with the token.
    const sql = cf.requests.filter((r) => r.path === '/accounts/fake-account/analytics_engine/sql');
    expect(sql.length).toBe(2);
    expect(sql[0]!.body).toContain('FROM laundry_api_staging WHERE');
    expect(run.stdout).toMatch(/warning: gate at 100%: the new version served \d+ requests in 0s at 100% \(need 100\); hold already at the maximum 0s; passed on probes only \(--allow-low-traffic\)/);
  }, 120_000);

  it('a version that fails its smoke test never gets traffic, and the previous one is back at 100%', async () => {
    const before = cf.current()[0]!.version_id;
    initial = before;
    const countBefore = cf.deployments.length;
    const versionsBefore = new Set(cf.versions.keys());
    // Whatever the next upload is, its /readyz fails.
    const watcher = setInterval(() => {
      for (const id of cf.versions.keys()) if (!versionsBefore.has(id)) broken.add(id);
    }, 5);
    try {
      const run = await cli('release', ['--env', 'staging', '--hold-seconds', '0', '--probes', '1', '--base-url', edgeUrl, '--override-timeout-seconds', '5']);
      expect(run.code, run.stderr + run.stdout).toBe(1);
      expect(run.stdout).toContain(`FAILED, old version ${before} restored to 100%`);
      expect(run.stdout).toContain('check GET /readyz');
      expect(run.stdout).toContain('HTTP 503');
    } finally {
      clearInterval(watcher);
    }
    const newDeployments = cf.deployments.slice(0, cf.deployments.length - countBefore).reverse();
    expect(newDeployments.map((d) => d.versions.map((v) => `${v.version_id === before ? 'old' : 'new'}@${v.percentage}`).join(' '))).toEqual([
      'new@0 old@100',
      'old@100',
    ]);
  }, 120_000);

  it('npm run rollback: wrangler rollback with the reason, verified at the edge', async () => {
    const target = [...cf.versions.keys()][0]!;
    const run = await cli('rollback', ['--env', 'staging', '--to', target, '--reason', 'rehearsal: checkout errors', '--base-url', edgeUrl]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('ROLLED BACK');
    expect(cf.current()).toEqual([{ version_id: target, percentage: 100 }]);
    expect(cf.deployments[0]!.annotations['workers/message']).toBe('rehearsal: checkout errors');
  }, 60_000);
});

describe('release against an account where a queue wrangler.toml names was never created', () => {
  beforeAll(async () => {
    // The main queue exists, its dead-letter queue does not (`wrangler queues create` skipped for it).
    cf = await startFakeCloudflare({ apiToken: 'fake-token', queues: STAGING_QUEUES.filter((q) => !q.endsWith('-dlq')) });
  });
  afterAll(() => cf.close());

  it('the upload fails naming the missing queue and the command that creates it; no version, no traffic moved, no consumer', async () => {
    const before = cf.current();
    const versionsBefore = cf.versions.size;
    const run = await cli('release', ['--env', 'staging', '--hold-seconds', '0', '--probes', '1', '--base-url', edgeUrl]);
    expect(run.code, run.stderr + run.stdout).toBe(1);
    expect(run.stdout).toContain('FAILED before any traffic moved');
    expect(run.stdout).toContain('failed at upload');
    expect(run.stdout).toContain('Queue "laundry-notifications-staging-dlq" does not exist. To create it, run: wrangler queues create laundry-notifications-staging-dlq');
    expect(cf.versions.size).toBe(versionsBefore);
    expect(cf.current()).toEqual(before);
    expect(cf.deployments).toHaveLength(1);
    expect(cf.queues.get('laundry-notifications-staging')!.consumers).toEqual([]);
    expect(cf.requests.some((r) => r.method === 'POST' && /\/workers\/scripts\/[^/]+\/versions(\?|$)/.test(r.path))).toBe(false);
  }, 60_000);

  it('the runbook creates every queue each deployed environment’s wrangler.toml names, by its exact name', () => {
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    for (const env of ['staging', 'production']) {
      const c = unstable_readConfig({ config: 'wrangler.toml', env }, { hideWarnings: true });
      const names = [
        ...(c.queues.producers ?? []).map((p: { queue: string }) => p.queue),
        ...(c.queues.consumers ?? []).flatMap((q: { queue: string; dead_letter_queue?: string }) => [q.queue, ...(q.dead_letter_queue ? [q.dead_letter_queue] : [])]),
      ];
      expect(new Set(names)).toEqual(new Set([`laundry-notifications-${env}`, `laundry-notifications-${env}-dlq`]));
      for (const name of names) expect(runbook).toMatch(new RegExp(`^npx wrangler queues create ${name}$`, 'm'));
    }
  });
});
