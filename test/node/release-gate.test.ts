/**
 * The release gate on real traffic, end to end through the Analytics Engine SQL API stand-in
 * (tools/release/fake-cloudflare.ts): simulated users hit both versions in proportion to the
 * split while the release holds, each request written as the Worker's `http` data point (sampled:
 * one point stands for two requests). The release reads them back over HTTP with the real
 * `analyticsEngineSource`. Wrangler and the edge are the recorded fakes of
 * test/support/release-world.ts; the injected clock means nothing sleeps in real time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../tools/release/gate.js';
import { startFakeCloudflare, type FakeCloudflare } from '../../tools/release/fake-cloudflare.js';
import { analyticsEngineSource } from '../../tools/release/observability.js';
import { runRelease } from '../../tools/release/release.js';
import { formatReport } from '../../tools/release/report.js';
import type { GateThresholds, ReleaseOptions } from '../../tools/release/types.js';
import { NEW, OLD, options, restoreCall, world, type World } from '../support/release-world.js';

const DATASET = 'laundry_api_production';
const TOKEN = 'analytics-read-token';
let cf: FakeCloudflare;

beforeAll(async () => {
  cf = await startFakeCloudflare({ apiToken: TOKEN });
});
afterAll(() => cf.close());

/** The route mix of real users (weights out of 20), as the Worker labels routes. */
const MIX: [string, string, number][] = [
  ['GET', '/v1/services', 8],
  ['GET', '/v1/me', 4],
  ['GET', '/v1/orders', 3],
  ['POST', '/v1/orders', 3],
  ['POST', '/v1/orders/:id/cancel', 1],
  ['GET', '/v1/slots', 1],
];
const CYCLE = MIX.flatMap(([method, route, n]) => Array.from({ length: n }, () => [method, route] as const));

type Behaviour = (version: string, method: string, route: string, n: number) => { status: number; ms: number };
const healthy: Behaviour = (_v, _m, route, n) => ({ status: 200, ms: route === '/v1/orders' ? 250 + (n % 10) : 40 + (n % 20) });

/** Real users at `rps` requests per second, split by the current deployment, written as sampled data points. */
function users(behaviour: Behaviour, rps: number, cycle: (readonly [string, string])[] = CYCLE) {
  const counters = new Map<string, number>();
  return (w: World, fromMs: number, toMs: number) => {
    const seconds = (toMs - fromMs) / 1000;
    for (const [version, percent] of w.split) {
      const requests = Math.floor((rps * seconds * percent) / 100);
      for (let i = 0; i < requests; i += 2) {
        const [method, route] = cycle[(i / 2) % cycle.length]!;
        const key = `${version} ${method} ${route}`;
        const n = counters.get(key) ?? 0;
        counters.set(key, n + 1);
        const { status, ms } = behaviour(version, method, route, n);
        cf.writeDataPoint(DATASET, {
          blobs: ['http', method, route, String(status)],
          doubles: [ms, status],
          indexes: [version],
          timestampMs: fromMs + ((toMs - fromMs) * i) / requests,
          sampleInterval: 2,
        });
      }
    }
  };
}

function release(w: World, opts: Partial<ReleaseOptions> = {}, thresholds: Partial<GateThresholds> = {}) {
  const observability = analyticsEngineSource({ accountId: 'fake-account', apiToken: TOKEN, dataset: DATASET, fetch: (u, i) => fetch(u, i), apiBase: cf.apiBase });
  return runRelease(options({ holdSeconds: 120, ...opts, thresholds: { ...DEFAULT_THRESHOLDS, ...thresholds } }), {
    run: w.run,
    fetch: w.fetch,
    clock: w.clock,
    wallClock: w.wall,
    observability,
  });
}

// Each scenario's points live in their own window of the shared stand-in: a fresh dataset per test.
function fresh() {
  cf.analytics.delete(DATASET);
}

describe('release gate on real traffic (Analytics Engine stand-in)', () => {
  it('a version that 500s only on POST /v1/orders (card orders; the smoke order is pay on delivery) is rolled back at 10%, naming the route and numbers', async () => {
    fresh();
    const w = world({ onSleep: users((v, m, r, n) => (v === NEW && m === 'POST' && r === '/v1/orders' ? { status: 500, ms: 30 } : healthy(v, m, r, n)), 40) });
    const report = await release(w);
    expect(report).toMatchObject({ outcome: 'rolled_back', exitCode: 1, maxTrafficPercent: 10 });
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', step: 10, check: '5xx_ratio (analytics-engine) POST /v1/orders' });
    // 40 rps × 120 s × 10% = 480 requests for the new version, 3 in 20 of them orders.
    expect(report.failure!.detail).toBe('POST /v1/orders: new 100.0% 5xx (72/72) vs old 0.0% (0/648), limit 1.0%');
    expect(report.failure!.numbers).toMatchObject({ route: 'POST /v1/orders', newRequests: 72, new5xx: 72, oldRequests: 648, old5xx: 0, limit: 0.01 });
    expect(restoreCall(w.calls)).toBeDefined();
    expect(w.split).toEqual([[OLD, 100]]);
    const text = formatReport(report);
    expect(text).toContain('check 5xx_ratio (analytics-engine) POST /v1/orders: POST /v1/orders: new 100.0% 5xx (72/72)');
    // The gate's queries were the real API's shape: POST, bearer token, SQL in the body.
    const queries = cf.requests.filter((r) => r.path === '/accounts/fake-account/analytics_engine/sql');
    expect(queries.length).toBe(2);
    expect(queries.every((q) => q.method === 'POST' && q.body.startsWith('SELECT index1 AS version'))).toBe(true);
  });

  it('a version that 500s every POST /v1/orders where orders are a rare route (1 in 300 requests) is rolled back, not hidden in the total', async () => {
    fresh();
    // Too few orders per step for the route to be judged on its ratio (< 30), and a total 5xx ratio under 1%.
    const rare: (readonly [string, string])[] = [['POST', '/v1/orders'], ...Array.from({ length: 299 }, () => ['GET', '/v1/services'] as const)];
    const w = world({ onSleep: users((v, m, r, n) => (v === NEW && m === 'POST' && r === '/v1/orders' ? { status: 500, ms: 30 } : healthy(v, m, r, n)), 40, rare) });
    const report = await release(w);
    expect(report).toMatchObject({ outcome: 'rolled_back', exitCode: 1, maxTrafficPercent: 50 });
    expect(report.failure).toMatchObject({ phase: 'gate at 50%', check: '5xx_ratio (analytics-engine) POST /v1/orders', numbers: { newRequests: 8, new5xx: 8 } });
    const gate = report.phases.find((p) => p.name === 'gate at 50%')!;
    expect(gate.checks!.find((c) => c.name === '5xx_ratio (analytics-engine) all routes')!.ok).toBe(true);
    expect(w.split).toEqual([[OLD, 100]]);
  });

  it('a version that is only slow is rolled back on p95, naming the route', async () => {
    fresh();
    const w = world({ onSleep: users((v, m, r, n) => (v === NEW ? { status: 200, ms: 1400 + (n % 50) } : healthy(v, m, r, n)), 40) });
    const report = await release(w);
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', check: 'latency_p95 (analytics-engine) GET /v1/services' });
    expect(report.failure!.detail).toMatch(/^GET \/v1\/services: new p95 14\d\d ms vs old 5\d ms over 192 requests, limit 1\d\d(\.\d)? ms$/);
    expect(report.outcome).toBe('rolled_back');
  });

  it('a version that fails 5% of everything is rolled back: every busy route and the total over 1%', async () => {
    fresh();
    const w = world({ onSleep: users((v, m, r, n) => (v === NEW && n % 20 === 7 ? { status: 503, ms: 20 } : healthy(v, m, r, n)), 40) });
    const report = await release(w);
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', check: '5xx_ratio (analytics-engine) GET /v1/services' });
    expect(report.failure!.detail).toBe('GET /v1/services: new 5.2% 5xx (10/192) vs old 0.0% (0/1728), limit 1.0%');
    const gate = report.phases.find((p) => p.name === 'gate at 10%')!;
    const total = gate.checks!.find((c) => c.name === '5xx_ratio (analytics-engine) all routes')!;
    expect(total.ok).toBe(false);
    expect(total.numbers).toMatchObject({ newRequests: 480 });
    expect(report.outcome).toBe('rolled_back');
  });

  it('a healthy version that meets a network blip and a Cloudflare 522 during probes is released; the blips are reported, not counted', async () => {
    fresh();
    let resets = 0;
    let edge522 = 0;
    const w = world({
      onSleep: users(healthy, 40),
      network: (_v, path, state) => {
        if (state.percentOf(NEW) !== 50 || path !== '/readyz' || resets >= 2) return undefined;
        resets++;
        return 'ECONNRESET';
      },
      respond: (v, path, state) => (state.percentOf(NEW) === 50 && v === NEW && path === '/healthz' && edge522++ === 0 ? { status: 522, edge: true } : undefined),
    });
    const report = await release(w);
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ outcome: 'released', exitCode: 0, maxTrafficPercent: 100 });
    expect(report.edgeErrors).toEqual([
      `gate at 50%: ${OLD.slice(0, 8)} GET /readyz: network error (fetch failed: ECONNRESET)`,
      `gate at 50%: ${OLD.slice(0, 8)} GET /readyz: network error (fetch failed: ECONNRESET)`,
      `gate at 50%: ${NEW.slice(0, 8)} GET /healthz: Cloudflare 522`,
    ]);
    for (const step of [10, 50, 100]) {
      const gate = report.phases.find((p) => p.name === `gate at ${step}%`)!;
      expect(gate.ok).toBe(true);
      expect(gate.checks!.map((c) => c.name)).toContain('5xx_ratio (analytics-engine) all routes');
    }
    // At 100% the old version serves nothing: absolute limits only, and it says so.
    const at100 = report.phases.find((p) => p.name === 'gate at 100%')!;
    expect(at100.checks!.find((c) => c.name === '5xx_ratio (analytics-engine) all routes')!.detail).toContain('(old: 0 requests, too few to compare)');
    expect(formatReport(report)).toContain('edge errors (not counted against either version): 3');
  });

  it('too few requests extends the hold in steps, then judges once there are enough', async () => {
    fresh();
    // 6 rps: at 10% that is 72 requests in 120 s, 108 after one 60 s extension.
    const w = world({ onSleep: users(healthy, 6) });
    const report = await release(w, { steps: [10, 100] });
    expect(report.outcome).toBe('released');
    expect(report.phases.find((p) => p.name === 'gate at 10%')!.detail).toBe('held 180s');
    expect(report.warnings).toContain('gate at 10%: 72 requests after 120s (need 100); hold extended by 60s');
    expect(w.slept).toBe(180_000 + 120_000);
  });

  it('still too few at the maximum hold: the step fails by default (never a pass on no evidence)', async () => {
    fresh();
    const w = world({ onSleep: users(healthy, 2) });
    const report = await release(w, {}, { maxHoldSeconds: 300 });
    expect(report).toMatchObject({ outcome: 'rolled_back', failure: { phase: 'gate at 10%', check: 'traffic (analytics-engine)' } });
    expect(report.failure!.detail).toBe(
      'the new version served 60 requests in 300s at 10% (need 100); hold already at the maximum 300s: too little traffic to judge, so the step fails (--allow-low-traffic passes it on probes)',
    );
    // 120 s, then three 60 s extensions: the hold never exceeds the maximum.
    expect(w.slept).toBe(300_000);
    expect(report.warnings.filter((x) => x.includes('hold extended'))).toHaveLength(3);
  });

  it('health checks are not traffic: a thin version hit mostly by an uptime checker on /healthz is not judged on it', async () => {
    fresh();
    // 19 in 20 requests are GET /healthz from a monitor; the one real route is too thin to judge.
    const monitor: (readonly [string, string])[] = [...Array.from({ length: 19 }, () => ['GET', '/healthz'] as const), ['GET', '/v1/services']];
    const w = world({ onSleep: users(healthy, 40, monitor) });
    const report = await release(w, {}, { maxHoldSeconds: 180 });
    expect(report).toMatchObject({ outcome: 'rolled_back', failure: { phase: 'gate at 10%', check: 'traffic (analytics-engine)' } });
    expect(report.failure!.numbers).toMatchObject({ needed: 100 });
    expect(Number(report.failure!.numbers!.requests)).toBeLessThan(100);
    const queries = cf.requests.filter((r) => r.path === '/accounts/fake-account/analytics_engine/sql');
    expect(queries.at(-1)!.body).toContain("blob3 NOT IN ('/healthz', '/readyz', '/metrics')");
  });

  it('…and passes on probes only, with a warning, with --allow-low-traffic', async () => {
    fresh();
    const w = world({ onSleep: users(healthy, 2) });
    const report = await release(w, { steps: [10, 100] }, { maxHoldSeconds: 180, allowLowTraffic: true });
    expect(report).toMatchObject({ outcome: 'released', exitCode: 0 });
    expect(report.warnings).toContain('gate at 10%: the new version served 36 requests in 180s at 10% (need 100); hold already at the maximum 180s; passed on probes only (--allow-low-traffic)');
  });
});

describe('the Analytics Engine SQL stand-in is as strict as the API', () => {
  const url = () => `${cf.apiBase}/accounts/fake-account/analytics_engine/sql`;
  const post = (sql: string, token: string | null = TOKEN) => fetch(url(), { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {}, body: sql });
  const Q = `SELECT index1 AS version, SUM(_sample_interval) AS requests FROM ${DATASET} WHERE blob1 = 'http' GROUP BY version FORMAT JSON`;

  it('needs the token, and POST', async () => {
    fresh();
    cf.writeDataPoint(DATASET, { blobs: ['http', 'GET', '/healthz', '200'], doubles: [3, 200], indexes: [OLD], sampleInterval: 4 });
    expect((await post(Q, null)).status).toBe(403);
    const wrong = await post(Q, 'other');
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ success: false, errors: [{ code: 10000, message: 'Authentication error' }] });
    expect((await fetch(`${url()}?query=${encodeURIComponent(Q)}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    const ok = await post(Q);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      meta: [
        { name: 'version', type: 'String' },
        { name: 'requests', type: 'UInt64' },
      ],
      data: [{ version: OLD, requests: '4' }],
      rows: 1,
    });
  });

  it('refuses unknown datasets, unknown columns and SQL it does not implement', async () => {
    fresh();
    cf.writeDataPoint(DATASET, { blobs: ['http'], doubles: [1, 200], indexes: [OLD] });
    const refused = async (sql: string) => {
      const res = await post(sql);
      return [res.status, await res.text()];
    };
    expect(await refused(Q.replace(DATASET, 'laundry_api_nope'))).toEqual([422, 'unknown table: laundry_api_nope']);
    expect(await refused(Q.replace('blob1', 'blob21'))).toEqual([422, 'unknown column: blob21']);
    expect(await refused(Q.replace('index1 AS version', 'index2 AS version'))).toEqual([422, 'unknown column: index2']);
    expect(await refused(Q.replace('SUM(_sample_interval)', 'uniq(blob2)'))).toEqual([422, 'the stand-in does not implement uniq(blob2)']);
    expect((await refused('DROP TABLE x'))[0]).toBe(422);
  });
});
