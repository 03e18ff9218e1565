/**
 * `npm run release` and `npm run rollback` end to end with the real, pinned wrangler
 * binary: wrangler talks to a stand-in Cloudflare API (CLOUDFLARE_API_BASE_URL), and the
 * "edge" is the real app behind a proxy that routes by the version-override header the way
 * Cloudflare does. This proves the argv the tool sends is what wrangler 4.86.0 accepts and
 * that its output parses; the decision logic is covered in test/unit/release.test.ts.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCloudflare, type FakeCloudflare } from '../../tools/release/fake-cloudflare.js';
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
  const reg = await t.api.post('/v1/auth/register', SMOKE);
  expect([201, 409]).toContain(reg.status);
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
          const res =
            broken.has(version) && path === '/readyz'
              ? Response.json({ status: 'not_ready', checks: { database: { status: 'fail', error: 'timeout' } } }, { status: 503 })
              : await t.app.fetch(request);
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

const splits = () =>
  [...cf.deployments]
    .reverse()
    .slice(1)
    .map((d) => d.versions.map((v) => `${v.version_id === initial ? 'old' : 'new'}@${v.percentage}`).join(' '));
let initial: string;

describe('release with the real wrangler against a stand-in Cloudflare API', () => {
  beforeAll(async () => {
    cf = await startFakeCloudflare();
    initial = cf.current()[0]!.version_id;
  });
  afterAll(() => cf.close());

  it('healthy: uploads with the git sha, stages at 0%, smoke-tests, goes to 100%, applies triggers', async () => {
    // One traffic step keeps this quick (each wrangler run costs ~2 s of start-up); the
    // step arithmetic and gates are covered by the unit tests.
    const run = await cli('release', ['--env', 'staging', '--steps', '100', '--hold-seconds', '0', '--probes', '2', '--base-url', edgeUrl]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('release laundry-api-staging (staging)');
    expect(run.stdout).toContain('RELEASED');
    expect(splits()).toEqual(['new@0 old@100', 'new@100 old@0']);
    const uploaded = [...cf.versions.values()].at(-1)!;
    expect(uploaded.annotations['workers/tag']).toMatch(/^[0-9a-f]{40}$/);
    expect(uploaded.annotations['workers/message']).toContain(uploaded.annotations['workers/tag']!);
    expect(cf.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/schedules') && r.body.includes('*/15 * * * *'))).toBe(true);
    // The /docs viewer's files (wrangler.toml [assets]) went through Cloudflare's direct-upload flow,
    // and the version names the completion token (the stand-in refuses any other).
    expect(cf.requests.filter((r) => r.path.endsWith('/assets-upload-session')).length).toBe(1);
    expect(cf.requests.some((r) => r.path.startsWith('/accounts/fake-account/workers/assets/upload?base64=true'))).toBe(true);
    expect(cf.requests.find((r) => r.method === 'POST' && /\/workers\/scripts\/[^/]+\/versions(\?|$)/.test(r.path))?.body).toMatch(/"assets":\{"jwt":"[0-9a-f-]{36}"/);
    // The smoke checks reached the new version while it had 0% of the traffic.
    expect(served).toContain(`${uploaded.id} /v1/me`);
    // No token configured for the observability API here: the stand-in answers 404, which is a warning.
    expect(run.stdout).toContain('warning: workers-observability: query failed');
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
