/**
 * The release and rollback tools with no network: a recorded fake wrangler and a fake edge
 * that answers per version (the Cloudflare-Workers-Version-Overrides header picks which);
 * see test/support/release-world.ts. The gate on real traffic against the Analytics Engine
 * stand-in is in test/node/release-gate.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../tools/release/args.js';
import { DEFAULT_THRESHOLDS, compareVersions, judgeRoute, percentile, trafficVerdict } from '../../tools/release/gate.js';
import { analyticsEngineSource, readJsonFormat, trafficQueries } from '../../tools/release/observability.js';
import { runRelease, validateSteps } from '../../tools/release/release.js';
import { formatReport } from '../../tools/release/report.js';
import { runRollback } from '../../tools/release/rollback.js';
import { baseUrlFromRoutes } from '../../tools/release/runtime.js';
import type { ObservabilitySource, RouteStats, VersionStats, VersionTraffic } from '../../tools/release/types.js';
import { parseDeploymentStatus, parseUploadedVersionId, shortMessage } from '../../tools/release/wrangler.js';
import {
  BASE,
  NEW,
  OLD,
  ORDER_ID,
  SHA,
  SHA12,
  STATUS,
  UPLOAD,
  UPLOAD_STDOUT,
  WORKER,
  defaultAnswer,
  deploy,
  options,
  restoreCall,
  statusJson,
  world,
} from '../support/release-world.js';


describe('release: healthy rollout', () => {
  it('uploads, stages at 0%, smoke-tests through overrides, steps 10 → 50 → 100 with gates, applies triggers', async () => {
    const w = world();
    const lines: string[] = [];
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock, log: (l) => lines.push(l) });

    expect(w.calls).toEqual([
      STATUS,
      UPLOAD,
      deploy([`${NEW}@0`, `${OLD}@100`], `release ${SHA12}: ${NEW} at 0%`),
      deploy([`${NEW}@10`, `${OLD}@90`], `release ${SHA12}: ${NEW} at 10%`),
      deploy([`${NEW}@50`, `${OLD}@50`], `release ${SHA12}: ${NEW} at 50%`),
      deploy([`${NEW}@100`, `${OLD}@0`], `release ${SHA12}: ${NEW} at 100%`),
      ['triggers', 'deploy', '--env', 'production'],
    ]);
    expect(report).toMatchObject({ outcome: 'released', exitCode: 0, oldVersion: OLD, newVersion: NEW, maxTrafficPercent: 100 });
    expect(report.failure).toBeUndefined();
    expect(report.phases.map((p) => [p.name, p.ok])).toEqual([
      ['preflight', true],
      ['upload', true],
      ['stage at 0%', true],
      ['smoke', true],
      ['gate at 10%', true],
      ['gate at 50%', true],
      ['gate at 100%', true],
      ['triggers', true],
    ]);
    // Held the configured time after each step.
    expect(w.slept).toBe(3 * 60_000);
    // Every probe named a version through the override; smoke checks went to the new one only.
    expect(w.requests.every((r) => r.version === OLD || r.version === NEW)).toBe(true);
    const smoke = report.phases.find((p) => p.name === 'smoke')!;
    expect(smoke.checks!.map((c) => c.name)).toEqual([
      'GET /healthz',
      'GET /readyz',
      'GET /v1/services',
      'POST /v1/auth/login (synthetic customer)',
      'GET /v1/me (authenticated)',
      'GET /v1/addresses (one served address)',
      'GET /v1/slots (pickup)',
      'GET /v1/slots (delivery)',
      'POST /v1/orders (pay on delivery)',
      'POST /v1/orders/{id}/cancel',
    ]);
    // The override wait, ten checks and the logout, all to the new version.
    const beforeFirstStep = w.requests.slice(0, 12);
    expect(beforeFirstStep.every((r) => r.version === NEW)).toBe(true);
    expect(beforeFirstStep.map((r) => `${r.method} ${r.path}`).slice(-3)).toEqual(['POST /v1/orders', `POST /v1/orders/${ORDER_ID}/cancel`, 'POST /v1/auth/logout']);
    expect(w.requests.some((r) => r.path === '/v1/me' && r.auth)).toBe(true);
    // Each gate compared both versions: edge errors, routing, error rate, latency.
    const gate = report.phases.find((p) => p.name === 'gate at 50%')!;
    expect(gate.checks!.map((c) => c.name)).toEqual(['edge (probes)', 'routing (probes)', 'error_rate (probes)', 'latency_p95 (probes)']);
    expect(gate.checks![2]!.numbers).toMatchObject({ newRequests: 20, oldRequests: 20, newErrorRate: 0 });
    // No Analytics Engine source here: the report says the gate used probes only.
    expect(report.warnings).toEqual([expect.stringContaining('gated on probes only')]);
    expect(formatReport(report)).toContain('RELEASED');
    // The smoke session's tokens never reach the report (it is printed in CI logs).
    expect(JSON.stringify(report)).not.toMatch(/"jwt"|r{43}/);
    expect(lines.some((l) => l.includes('holding 60s at 50%'))).toBe(true);
  });

  it('waits for the override to reach the edge before smoke-testing', async () => {
    let misses = 2;
    // The first two probes are still answered by the old version.
    const w = world({ respond: (_v, path, _w, init) => (misses-- > 0 ? { ...defaultAnswer(path, init), servedBy: OLD } : undefined) });
    const report = await runRelease(options({ steps: [100] }), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.outcome).toBe('released');
    expect(w.slept).toBe(2 * 2000 + 60_000);
  });

  it('--dry-run reads the deployment, prints the plan and changes nothing', async () => {
    const w = world();
    const report = await runRelease(options({ dryRun: true }), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(w.calls).toEqual([STATUS]);
    expect(w.requests).toEqual([]);
    expect(report).toMatchObject({ outcome: 'dry_run', exitCode: 0, oldVersion: OLD });
    expect(report.plan!.join('\n')).toContain(`<new-version>@10 ${OLD}@90`);
    expect(formatReport(report)).toContain('DRY RUN');
  });
});

describe('release: a failing smoke test', () => {
  it('never gives the new version traffic, puts the old one back at 100% and exits 1', async () => {
    const w = world({
      respond: (version, path) =>
        version === NEW && path === '/readyz'
          ? { status: 503, body: { status: 'not_ready', checks: { database: { status: 'fail', error: 'timeout' } } } }
          : undefined,
    });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });

    expect(w.calls).toEqual([
      STATUS,
      UPLOAD,
      deploy([`${NEW}@0`, `${OLD}@100`], `release ${SHA12}: ${NEW} at 0%`),
      deploy([`${OLD}@100`], `release ${SHA12} failed (smoke: GET /readyz); restored`),
    ]);
    const deployed = w.calls.filter((c) => c[1] === 'deploy').flatMap((c) => c.filter((x) => x.startsWith(`${NEW}@`)));
    expect(deployed).toEqual([`${NEW}@0`]);
    expect(w.split).toEqual([[OLD, 100]]);
    expect(report).toMatchObject({
      outcome: 'rolled_back',
      exitCode: 1,
      maxTrafficPercent: 0,
      failure: { phase: 'smoke', check: 'GET /readyz' },
      restore: { ok: true },
    });
    expect(report.failure!.detail).toContain('HTTP 503');
    expect(report.failure!.detail).toContain('timeout');
    const text = formatReport(report);
    expect(text).toContain(`FAILED, old version ${OLD} restored to 100%`);
    expect(text).toContain('check GET /readyz');
  });

  it('fails the smoke test when the synthetic customer cannot log in', async () => {
    const w = world({ respond: (version, path) => (version === NEW && path === '/v1/auth/login' ? { status: 401, body: { code: 'invalid_credentials' } } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'smoke', check: 'POST /v1/auth/login (synthetic customer)' });
    expect(restoreCall(w.calls)).toBeDefined();
  });

  it('a version that cannot place an order never gets traffic (retried first, same Idempotency-Key)', async () => {
    const keys: (string | null)[] = [];
    const w = world({
      respond: (version, path, _w, init) => {
        if (version !== NEW || path !== '/v1/orders') return undefined;
        keys.push(new Headers(init?.headers).get('idempotency-key'));
        return { status: 500, body: { code: 'internal_error' } };
      },
    });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'rolled_back', maxTrafficPercent: 0, failure: { phase: 'smoke', check: 'POST /v1/orders (pay on delivery)' } });
    expect(report.failure!.detail).toContain('HTTP 500');
    expect(report.failure!.detail).toContain('after 3 attempts');
    // Two retries, with the same key: a retried POST cannot book twice.
    expect(keys).toEqual([`release-smoke:${NEW}`, `release-smoke:${NEW}`, `release-smoke:${NEW}`]);
    expect(w.slept).toBe(500 + 1000);
    // The order step was reached with the synthetic customer's served address and a valid slot pair.
    const ordered = w.requests.filter((r) => r.path === '/v1/orders');
    expect(ordered.every((r) => r.method === 'POST' && r.auth)).toBe(true);
  });

  it('a failing cancel fails the smoke test', async () => {
    const w = world({ respond: (version, path) => (version === NEW && path.endsWith('/cancel') ? { status: 409, body: { code: 'conflict' } } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'smoke', check: 'POST /v1/orders/{id}/cancel' });
    expect(report.failure!.detail).toContain('HTTP 409');
  });

  it('a network blip during the smoke test is retried and reported, not counted against the version', async () => {
    let blips = 2;
    const w = world({ network: (version, path) => (version === NEW && path === '/v1/addresses' && blips-- > 0 ? 'ECONNRESET' : undefined) });
    const report = await runRelease(options({ steps: [100] }), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.outcome).toBe('released');
    expect(report.edgeErrors).toEqual(['smoke: GET /v1/addresses: network error (fetch failed: ECONNRESET)', 'smoke: GET /v1/addresses: network error (fetch failed: ECONNRESET)']);
    expect(formatReport(report)).toContain('edge errors (not counted against either version): 2');
  });

  it('a smoke probe that never reaches the Worker (Cloudflare 522 every time) is inconclusive: it fails, and says so', async () => {
    const w = world({ respond: (version, path) => (version === NEW && path === '/readyz' ? { status: 522, edge: true } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'rolled_back', maxTrafficPercent: 0, failure: { phase: 'smoke', check: 'GET /readyz' } });
    expect(report.failure!.detail).toBe('inconclusive: never reached the Worker after 3 attempts (GET /readyz: Cloudflare 522)');
    expect(report.edgeErrors).toHaveLength(3);
  });

  it('fails when the override never reaches the new version', async () => {
    const w = world({ respond: (_v, path, _w, init) => ({ ...defaultAnswer(path, init), servedBy: OLD }) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'smoke', check: 'override' });
    expect(report.failure!.detail).toContain(`still answered by ${OLD}`);
    expect(report.maxTrafficPercent).toBe(0);
    expect(w.split).toEqual([[OLD, 100]]);
  });
});

describe('release: a gate that fails at 50%', () => {
  it('restores the old version at 100% and names the gate, the check and the numbers', async () => {
    // The new version starts failing catalog reads once it takes half the traffic.
    const w = world({
      respond: (version, path, state) =>
        version === NEW && path === '/v1/services' && state.percentOf(NEW) >= 50 ? { status: 500, body: { code: 'internal_error' } } : undefined,
    });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });

    expect(w.calls).toEqual([
      STATUS,
      UPLOAD,
      deploy([`${NEW}@0`, `${OLD}@100`], `release ${SHA12}: ${NEW} at 0%`),
      deploy([`${NEW}@10`, `${OLD}@90`], `release ${SHA12}: ${NEW} at 10%`),
      deploy([`${NEW}@50`, `${OLD}@50`], `release ${SHA12}: ${NEW} at 50%`),
      deploy([`${OLD}@100`], `release ${SHA12} failed (gate at 50%: error_rate (probes)); restored`),
    ]);
    expect(w.split).toEqual([[OLD, 100]]);
    expect(report).toMatchObject({
      outcome: 'rolled_back',
      exitCode: 1,
      maxTrafficPercent: 50,
      failure: { phase: 'gate at 50%', step: 50, check: 'error_rate (probes)' },
      restore: { ok: true },
    });
    // 5 rounds × 4 probes; one in four (the catalog) failed on the new version.
    expect(report.failure!.numbers).toMatchObject({ newErrorRate: 0.25, oldErrorRate: 0, newRequests: 20, oldRequests: 20 });
    expect(report.failure!.detail).toBe('new 25.0% (5/20) vs old 0.0% (0/20), limit 2.0%');
    const text = formatReport(report);
    expect(text).toContain('failed at gate at 50% (step 50%), check error_rate (probes): new 25.0% (5/20)');
    expect(text).toContain('FAIL gate at 50%');
    expect(text).toContain('ok   gate at 10%');
  });

  it('fails a gate on latency: the new version much slower than the old', async () => {
    const w = world({ respond: (version, path, _w, init) => ({ ...defaultAnswer(path, init), ms: version === NEW ? 900 : 50 }) });
    const report = await runRelease(options({ steps: [10, 100] }), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', check: 'latency_p95 (probes)' });
    expect(report.failure!.numbers).toMatchObject({ newP95Ms: 900, oldP95Ms: 50, limitMs: 175 });
    expect(restoreCall(w.calls)).toBeDefined();
  });

  it('gates on real traffic per route when a source is configured, and names the route and numbers', async () => {
    const w = world();
    const route = (r: string, requests: number, errors5xx: number, p95Ms: number): RouteStats => ({ route: r, requests, errors5xx, errorRatio: errors5xx / requests, p95Ms });
    const traffic: Record<string, VersionTraffic> = {
      [OLD]: { versionId: OLD, overall: route('all', 5000, 5, 80), routes: [route('GET /v1/services', 4000, 4, 60), route('POST /v1/orders', 1000, 1, 300)] },
      [NEW]: { versionId: NEW, overall: route('all', 600, 60, 85), routes: [route('GET /v1/services', 480, 0, 60), route('POST /v1/orders', 120, 60, 310)] },
    };
    const windows: [number, number][] = [];
    const observability: ObservabilitySource = {
      name: 'analytics-engine',
      traffic: async ({ versionIds, fromMs, toMs }) => {
        windows.push([fromMs, toMs]);
        return new Map(versionIds.map((v) => [v, traffic[v]!]));
      },
    };
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock, wallClock: w.wall, observability });
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', check: '5xx_ratio (analytics-engine) POST /v1/orders' });
    expect(report.failure!.detail).toBe('POST /v1/orders: new 50.0% 5xx (60/120) vs old 0.1% (1/1000), limit 1.0%');
    expect(report.failure!.numbers).toMatchObject({ route: 'POST /v1/orders', newRequests: 120, new5xx: 60, limit: 0.01 });
    // The window is the hold: from the step to the gate, on the wall clock.
    expect(windows[0]![1] - windows[0]![0]).toBeGreaterThanOrEqual(60_000);
    expect(w.split).toEqual([[OLD, 100]]);
  });

  it('an Analytics Engine query that fails is inconclusive: the step fails (fail safe), the old version is restored', async () => {
    const w = world();
    const observability: ObservabilitySource = {
      name: 'analytics-engine',
      traffic: async () => {
        throw new Error('Analytics Engine SQL API: HTTP 403: Authentication error');
      },
    };
    const report = await runRelease(options({ steps: [100] }), { run: w.run, fetch: w.fetch, clock: w.clock, wallClock: w.wall, observability });
    expect(report).toMatchObject({ outcome: 'rolled_back', failure: { phase: 'gate at 100%', check: 'query (analytics-engine)' } });
    expect(report.failure!.detail).toBe('inconclusive, so the step fails: Analytics Engine SQL API: HTTP 403: Authentication error');
  });

  it("Cloudflare's page for a Worker that threw (1101) carries no app headers but counts against the version, not as an edge error", async () => {
    // The first three /v1/me probes of the new version at 10% (every attempt) crash: 3 of 40
    // probes, under the 10% edge allowance, so as "edge" they were forgiven and it was released.
    let crashes = 9;
    const w = world({
      respond: (v, path, state) =>
        v === NEW && path === '/v1/me' && state.percentOf(NEW) === 10 && crashes-- > 0 ? { status: 500, body: 'error code: 1101', edge: true } : undefined,
    });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'rolled_back', failure: { phase: 'gate at 10%', check: 'error_rate (probes)' } });
    expect(report.failure!.numbers).toMatchObject({ newErrorRate: 3 / 20, oldErrorRate: 0 });
    expect(report.edgeErrors ?? []).toEqual([]);
    const gate = report.phases.find((p) => p.name === 'gate at 10%')!;
    expect(gate.checks!.find((c) => c.name === 'edge (probes)')).toMatchObject({ ok: true, numbers: { edgeOnly: 0 } });
  });

  it("a smoke probe answered by Cloudflare's 1102 page (the Worker exceeded its limits) fails as the version's answer, not as inconclusive", async () => {
    const w = world({ respond: (v, path) => (v === NEW && path === '/v1/addresses' ? { status: 503, body: 'error code: 1102', edge: true } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'smoke', check: 'GET /v1/addresses (one served address)' });
    expect(report.failure!.detail).toMatch(/^HTTP 503: error code: 1102 in \d+ ms after 3 attempts$/);
  });

  it('probes that keep failing at the edge make the gate inconclusive; a few are retried and pass', async () => {
    // Every /v1/services probe to either version meets a Cloudflare 522: 25% of probes never reach the Worker.
    const w = world({ respond: (_v, path, state) => (path === '/v1/services' && state.percentOf(NEW) === 10 ? { status: 522, edge: true } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', check: 'edge (probes)' });
    expect(report.failure!.detail).toBe('10/40 probes never reached the Worker after retries (network or Cloudflare edge; not counted against either version): more than 10.0%, the gate is inconclusive');
    expect(report.edgeErrors!.length).toBe(30);
    expect(report.outcome).toBe('rolled_back');
  });
});

describe('release: wrangler itself failing', () => {
  it('upload fails: nothing deployed, nothing to restore, exit 1 with wrangler’s error', async () => {
    const w = world({
      fail: (args) =>
        args[1] === 'upload' ? { code: 1, stdout: '', stderr: '\u001b[31m✘ [ERROR]\u001b[0m A request to the Cloudflare API failed. Authentication error [code: 10000]\n' } : undefined,
    });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(w.calls).toEqual([STATUS, UPLOAD]);
    expect(w.requests).toEqual([]);
    expect(report).toMatchObject({ outcome: 'failed', exitCode: 1, maxTrafficPercent: 0, failure: { phase: 'upload', check: 'wrangler versions upload' } });
    expect(report.failure!.detail).toBe('exit code 1: ✘ [ERROR] A request to the Cloudflare API failed. Authentication error [code: 10000]');
    expect(report.restore).toBeUndefined();
    expect(formatReport(report)).toContain('FAILED before any traffic moved');
  });

  it('upload output without a version id is a failure, not a guess', async () => {
    const w = world({ uploadStdout: 'Uploaded laundry-api-production (1.00 sec)\n' });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'upload', check: 'version id' });
    expect(w.calls).toEqual([STATUS, UPLOAD]);
  });

  it('a traffic step fails to deploy: the old version goes back to 100%', async () => {
    const w = world({ fail: (args) => (args.includes(`${NEW}@50`) ? { code: 1, stdout: '', stderr: 'Deployment failed: 500 Internal Server Error' } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'rolled_back', exitCode: 1, failure: { phase: 'step 50%', step: 50, check: 'wrangler versions deploy' } });
    expect(w.calls.at(-1)).toEqual(deploy([`${OLD}@100`], `release ${SHA12} failed (step 50%: wrangler versions deploy); restored`));
  });

  it('the restore fails too: exit 2 and the report says what to run', async () => {
    const w = world({
      fail: (args) =>
        args.includes(`${NEW}@10`) || (args[2] === `${OLD}@100` && args.length === 8) ? { code: 1, stdout: '', stderr: 'API unavailable' } : undefined,
    });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'restore_failed', exitCode: 2, restore: { ok: false } });
    const text = formatReport(report);
    expect(text).toContain('THE RESTORE FAILED');
    expect(text).toContain(`npm run rollback -- --env production --to ${OLD}`);
  });

  it('refuses to start while traffic is split (an interrupted release)', async () => {
    const w = world({ initial: [[NEW, 10], [OLD, 90]] });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(w.calls).toEqual([STATUS]);
    expect(report.failure).toMatchObject({ phase: 'preflight', check: 'current deployment' });
    expect(report.failure!.detail).toContain(`${NEW}@10%, ${OLD}@90%`);
  });

  it('deployments status failing stops before anything changes', async () => {
    const w = world({ fail: (args) => (args[0] === 'deployments' ? { code: 1, stdout: '', stderr: 'The Worker laundry-api-production has no deployments.' } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(w.calls).toEqual([STATUS]);
    expect(report.failure!.detail).toContain('has no deployments');
  });

  it('triggers failing after 100% is reported, without undoing a healthy release', async () => {
    const w = world({ fail: (args) => (args[0] === 'triggers' ? { code: 1, stdout: '', stderr: 'route conflict' } : undefined) });
    const report = await runRelease(options({ steps: [100] }), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'released', exitCode: 1 });
    expect(report.warnings.at(-1)).toContain('route conflict');
    expect(restoreCall(w.calls)).toBeUndefined();
  });

  it('interrupted (SIGINT/SIGTERM) during a hold: stops and restores the old version', async () => {
    const w = world();
    const abort = new AbortController();
    const clock = {
      now: w.clock.now,
      // The operator presses Ctrl-C during the hold at 10%.
      sleep: async (ms: number) => {
        if (w.percentOf(NEW) === 10 && ms === 60_000) abort.abort();
        await w.clock.sleep(ms);
      },
    };
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock, signal: abort.signal });
    expect(report).toMatchObject({ outcome: 'rolled_back', exitCode: 1, maxTrafficPercent: 10, failure: { phase: 'gate at 10%', check: 'interrupted', step: 10 } });
    expect(w.split).toEqual([[OLD, 100]]);
    expect(w.calls.filter((c) => c.some((a) => a === `${NEW}@50`))).toEqual([]);
  });

  it('rejects bad steps before calling wrangler', async () => {
    const w = world();
    const report = await runRelease(options({ steps: [50, 10] }), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.exitCode).toBe(64);
    expect((await runRelease(options({ probeRounds: 0 }), { run: w.run, fetch: w.fetch, clock: w.clock })).failure!.detail).toMatch(/probes/);
    expect(w.calls).toEqual([]);
  });
});

describe('rollback', () => {
  const REASON = 'checkout 500s after 2026-11-28 release';

  it('wraps wrangler rollback with the reason, then verifies the deployment and the edge', async () => {
    const w = world({ initial: [[NEW, 100]] });
    const report = await runRollback(
      { target: { env: 'production', workerName: WORKER, baseUrl: BASE }, to: OLD, reason: REASON, verifyTimeoutSeconds: 30 },
      { run: w.run, fetch: w.fetch, clock: w.clock },
    );
    expect(w.calls).toEqual([STATUS, ['rollback', OLD, '-y', '--message', REASON, '--env', 'production'], STATUS]);
    expect(report).toMatchObject({ kind: 'rollback', outcome: 'rolled_back', exitCode: 0, newVersion: OLD, oldVersion: `${NEW}@100%` });
    expect(w.requests).toEqual([{ version: undefined, path: '/readyz', method: 'GET', auth: false }]);
    expect(formatReport(report)).toContain('ROLLED BACK');
  });

  it('without --to lets wrangler pick the last stable version', async () => {
    const w = world({ initial: [[NEW, 100]] });
    const report = await runRollback({ target: { env: 'staging', workerName: 'laundry-api-staging', baseUrl: BASE }, reason: REASON, verifyTimeoutSeconds: 30 }, { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(w.calls[1]).toEqual(['rollback', '-y', '--message', REASON, '--env', 'staging']);
    expect(report.newVersion).toBe(OLD);
    expect(report.exitCode).toBe(0);
  });

  it('reports wrangler failing, and refuses without a reason or with a malformed id', async () => {
    const w = world({ fail: (args) => (args[0] === 'rollback' ? { code: 1, stdout: '', stderr: 'Could not find stable Worker Version to rollback to.' } : undefined) });
    const target = { env: 'production' as const, workerName: WORKER, baseUrl: BASE };
    const failed = await runRollback({ target, reason: REASON, verifyTimeoutSeconds: 1 }, { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(failed).toMatchObject({ outcome: 'failed', exitCode: 1, failure: { phase: 'rollback', check: 'wrangler rollback' } });
    expect(failed.failure!.detail).toContain('Could not find stable Worker Version');
    expect((await runRollback({ target, reason: ' ', verifyTimeoutSeconds: 1 }, { run: w.run, fetch: w.fetch })).exitCode).toBe(64);
    expect((await runRollback({ target, to: 'v12', reason: REASON, verifyTimeoutSeconds: 1 }, { run: w.run, fetch: w.fetch })).exitCode).toBe(64);
  });

  it('fails verification when the edge keeps serving another version', async () => {
    const w = world({ initial: [[NEW, 100]] });
    const stale: typeof w.fetch = async () => new Response('{}', { status: 200, headers: { 'x-app-version': NEW } });
    const report = await runRollback({ target: { env: 'production', workerName: WORKER, baseUrl: BASE }, to: OLD, reason: REASON, verifyTimeoutSeconds: 10 }, { run: w.run, fetch: stale, clock: w.clock });
    expect(report).toMatchObject({ outcome: 'failed', exitCode: 1, failure: { phase: 'verify', check: 'GET /readyz' } });
    expect(report.failure!.detail).toContain(`from ${NEW}`);
  });

  it('warns when wrangler says secrets changed since the target version', async () => {
    const w = world({ initial: [[NEW, 100]] });
    const run = async (args: readonly string[]) => {
      const res = await w.run(args);
      return args[0] === 'rollback' ? { ...res, stdout: `? The following secrets have changed since version ${OLD} was deployed.\n${res.stdout}` } : res;
    };
    const report = await runRollback({ target: { env: 'production', workerName: WORKER, baseUrl: BASE }, to: OLD, reason: REASON, verifyTimeoutSeconds: 5 }, { run, fetch: w.fetch, clock: w.clock });
    expect(report.exitCode).toBe(0);
    expect(report.warnings[0]).toContain('secrets changed');
  });
});

describe('parsing and arithmetic', () => {
  it('reads the version id from wrangler versions upload output', () => {
    expect(parseUploadedVersionId(UPLOAD_STDOUT)).toBe(NEW);
    expect(parseUploadedVersionId('Uploaded x (1.00 sec)')).toBeUndefined();
  });

  it('reads wrangler deployments status --json, tolerating text around it', () => {
    expect(parseDeploymentStatus(`warning: something\n${statusJson([[NEW, 10], [OLD, 90]])}\n`)).toEqual([
      { version_id: NEW, percentage: 10 },
      { version_id: OLD, percentage: 90 },
    ]);
    expect(parseDeploymentStatus('not json')).toBeUndefined();
  });

  it('validates steps', () => {
    expect(validateSteps([10, 50, 100])).toBeUndefined();
    expect(validateSteps([100])).toBeUndefined();
    expect(validateSteps([10, 50])).toMatch(/last step must be 100/);
    expect(validateSteps([0, 100])).toMatch(/between 1 and 100/);
    expect(validateSteps([])).toMatch(/at least one/);
  });

  it('compares versions with the thresholds', () => {
    const ok: VersionStats = { requests: 40, errors: 0, errorRate: 0, p95Ms: 100 };
    expect(compareVersions('probes', ok, { ...ok, p95Ms: 250 }, DEFAULT_THRESHOLDS).every((c) => c.ok)).toBe(true);
    expect(compareVersions('probes', ok, { ...ok, p95Ms: 251 }, DEFAULT_THRESHOLDS)[1]!.ok).toBe(false);
    expect(compareVersions('probes', ok, { ...ok, errors: 1, errorRate: 0.025 }, DEFAULT_THRESHOLDS)[0]!.ok).toBe(false);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95)).toBe(19);
  });

  it('parses arguments and keeps messages short', () => {
    expect(parseArgs(['--env', 'staging', '--steps=10,100', '--dry-run'], ['dry-run'], ['env', 'steps'])).toEqual({ env: 'staging', steps: '10,100', 'dry-run': true });
    expect(() => parseArgs(['--nope'], [], [])).toThrow(/unknown option/);
    expect(() => parseArgs(['--env'], [], ['env'])).toThrow(/needs a value/);
    expect(shortMessage(`${SHA} ${'x'.repeat(200)}`)).toHaveLength(100);
  });

  it('derives the base URL from the environment’s route', () => {
    expect(baseUrlFromRoutes([{ pattern: 'api.laundry.example.com', custom_domain: true }])).toBe('https://api.laundry.example.com');
    expect(baseUrlFromRoutes(['api.laundry.example.com/*'])).toBe('https://api.laundry.example.com');
    expect(baseUrlFromRoutes(['*.example.com/*'])).toBeUndefined();
    expect(baseUrlFromRoutes(undefined)).toBeUndefined();
  });
});

describe('real-traffic verdicts (judgeRoute, trafficVerdict)', () => {
  const t = DEFAULT_THRESHOLDS;
  const r = (route: string, requests: number, errors5xx: number, p95Ms: number): RouteStats => ({ route, requests, errors5xx, errorRatio: errors5xx / requests, p95Ms });
  const v = (id: string, overall: RouteStats, routes: RouteStats[]): VersionTraffic => ({ versionId: id, overall, routes });

  it('too few requests for the new version is not a verdict', () => {
    expect(trafficVerdict('ae', v(OLD, r('all', 900, 0, 50), []), v(NEW, r('all', 99, 0, 50), []), t)).toEqual({ kind: 'too_few', requests: 99 });
  });

  it('absolute limits hold whatever the old version does; the stricter limit wins', () => {
    // The old version is as bad: the 1% ceiling still fails the new one.
    const [ratio] = judgeRoute('ae', r('GET /v1/services', 100, 2, 50), r('GET /v1/services', 100, 2, 50), t);
    expect(ratio).toMatchObject({ ok: false, numbers: { limit: 0.01 } });
    // p95: old 100 ms × 1.5 + 100 = 250 ms is stricter than the 1 s ceiling.
    const [, p95] = judgeRoute('ae', r('GET /v1/services', 100, 0, 251), r('GET /v1/services', 100, 0, 100), t);
    expect(p95).toMatchObject({ ok: false, detail: 'GET /v1/services: new p95 251 ms vs old 100 ms over 100 requests, limit 250 ms' });
    // Per-route ceiling, and no comparison when the old version served too few of the route.
    const [, orders] = judgeRoute('ae', r('POST /v1/orders', 40, 0, 1900), r('POST /v1/orders', 3, 0, 100), t);
    expect(orders).toMatchObject({ ok: true, numbers: { limitMs: 2000 } });
    expect(judgeRoute('ae', r('GET /v1/me', 40, 0, 1001), undefined, t)[1]!.ok).toBe(false);
  });

  it('judges routes with enough traffic, lists failing ones first, and the version overall', () => {
    const verdict = trafficVerdict(
      'ae',
      v(OLD, r('all', 2000, 0, 60), [r('GET /v1/services', 1500, 0, 50), r('POST /v1/orders', 500, 0, 300)]),
      v(NEW, r('all', 300, 20, 70), [r('GET /v1/services', 250, 0, 50), r('POST /v1/orders', 40, 20, 320), r('GET /v1/orders/:id', 10, 0, 5000)]),
      t,
    );
    expect(verdict.kind).toBe('judged');
    const checks = verdict.kind === 'judged' ? verdict.checks : [];
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['5xx_ratio (ae) POST /v1/orders', false],
      ['routes (ae)', false],
      ['5xx_ratio (ae) all routes', false],
      ['latency_p95 (ae) all routes', true],
    ]);
    expect(checks[1]!.detail).toBe('2 routes with ≥ 30 requests judged, 1 checks failed; 1 quieter routes count in the total (and fail on ≥ 3 5xx over the limit)');
  });

  it('a quiet route (fewer than minRouteRequests) that keeps answering 5xx fails on its own; one or two 5xx, or as many as the old version, do not', () => {
    const oldT = v(OLD, r('all', 5000, 0, 60), [r('GET /v1/services', 4980, 0, 50), r('POST /v1/orders', 20, 0, 300)]);
    // Card orders at 0.4% of traffic, every one a 500: 12/3000 overall is under the 1% limit.
    const bad = trafficVerdict('ae', oldT, v(NEW, r('all', 3000, 12, 60), [r('GET /v1/services', 2988, 0, 50), r('POST /v1/orders', 12, 12, 30)]), t);
    const checks = bad.kind === 'judged' ? bad.checks : [];
    expect(checks.find((c) => c.name === '5xx_ratio (ae) all routes')!.ok).toBe(true);
    expect(checks[0]).toMatchObject({ name: '5xx_ratio (ae) POST /v1/orders', ok: false, numbers: { new5xx: 12, newRequests: 12, old5xx: 0, minRouteErrors: 3 } });
    expect(checks[0]!.detail).toBe('POST /v1/orders: new 100.0% 5xx (12/12) vs old 0.0% (0/20), limit 2.0%; fewer than 30 requests, but 12 5xx (≥ 3) is not noise');
    expect(checks.find((c) => c.name === 'routes (ae)')!.ok).toBe(false);
    // Two 5xx on a quiet route are noise.
    const two = trafficVerdict('ae', oldT, v(NEW, r('all', 3000, 2, 60), [r('GET /v1/services', 2988, 0, 50), r('POST /v1/orders', 12, 2, 30)]), t);
    expect(two.kind === 'judged' && two.checks.every((c) => c.ok)).toBe(true);
    // The old version fails that quiet route as often: not the new version's doing.
    const oldBad = v(OLD, r('all', 5000, 20, 60), [r('GET /v1/services', 4980, 0, 50), r('POST /v1/orders', 20, 20, 300)]);
    const same = trafficVerdict('ae', oldBad, v(NEW, r('all', 3000, 12, 60), [r('GET /v1/services', 2988, 0, 50), r('POST /v1/orders', 12, 12, 30)]), t);
    expect(same.kind === 'judged' && same.checks.every((c) => c.ok)).toBe(true);
  });
});

describe('Analytics Engine SQL source', () => {
  it('sends the SQL as the body with the bearer token, reads FORMAT JSON (UInt64 as strings), per version and route', async () => {
    const sent: string[] = [];
    const fetchFake = async (url: string, init?: RequestInit) => {
      expect(url).toBe('https://api.cloudflare.com/client/v4/accounts/acc123/analytics_engine/sql');
      expect(init?.method).toBe('POST');
      expect(new Headers(init?.headers).get('authorization')).toBe('Bearer tok');
      const sql = String(init?.body);
      sent.push(sql);
      const byRoute = sql.includes('blob3 AS route');
      const meta = (byRoute ? ['version', 'method', 'route'] : ['version']).map((name) => ({ name, type: 'String' }));
      meta.push({ name: 'requests', type: 'UInt64' }, { name: 'errors_5xx', type: 'UInt64' }, { name: 'p95_ms', type: 'Float64' });
      const data = byRoute
        ? [
            { version: NEW, method: 'POST', route: '/v1/orders', requests: '100', errors_5xx: '3', p95_ms: 310.25 },
            { version: NEW, method: 'GET', route: '/v1/services', requests: '200', errors_5xx: '0', p95_ms: 40 },
          ]
        : [{ version: NEW, requests: '300', errors_5xx: '3', p95_ms: 120 }];
      return Response.json({ meta, data, rows: data.length, rows_before_limit_at_least: data.length });
    };
    const source = analyticsEngineSource({ accountId: 'acc123', apiToken: 'tok', dataset: 'laundry_api_production', fetch: fetchFake });
    const traffic = await source.traffic({ versionIds: [OLD, NEW], fromMs: Date.parse('2026-11-30T06:00:00.400Z'), toMs: Date.parse('2026-11-30T06:02:00.200Z') });
    expect(traffic.get(NEW)).toEqual({
      versionId: NEW,
      overall: { route: 'all', requests: 300, errors5xx: 3, errorRatio: 0.01, p95Ms: 120 },
      routes: [
        { route: 'GET /v1/services', requests: 200, errors5xx: 0, errorRatio: 0, p95Ms: 40 },
        { route: 'POST /v1/orders', requests: 100, errors5xx: 3, errorRatio: 0.03, p95Ms: 310.3 },
      ],
    });
    // No points for the old version in the window: zero requests, a reading.
    expect(traffic.get(OLD)!.overall.requests).toBe(0);
    expect(sent.sort()[0]).toBe(
      `SELECT index1 AS version, SUM(_sample_interval) AS requests, SUM(IF(double2 >= 500, _sample_interval, 0)) AS errors_5xx, quantileExactWeighted(0.95)(double1, _sample_interval) AS p95_ms FROM laundry_api_production WHERE blob1 = 'http' AND blob3 NOT IN ('/healthz', '/readyz', '/metrics') AND index1 IN ('${OLD}', '${NEW}') AND timestamp >= toDateTime('2026-11-30 06:00:00') AND timestamp < toDateTime('2026-11-30 06:02:01') GROUP BY version FORMAT JSON`,
    );
  });

  it('an unexpected answer is an error, never a guess', async () => {
    const answering = (status: number, body: unknown) =>
      analyticsEngineSource({ accountId: 'a', apiToken: 't', dataset: 'd', fetch: async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }) });
    const q = { versionIds: [NEW], fromMs: 0, toMs: 1 };
    await expect(answering(422, 'unknown column: blob99').traffic(q)).rejects.toThrow('HTTP 422: unknown column: blob99');
    await expect(answering(200, '<html>').traffic(q)).rejects.toThrow('not JSON');
    await expect(answering(200, { data: [] }).traffic(q)).rejects.toThrow('not { meta, data, rows }');
    expect(() => readJsonFormat({ meta: [{ name: 'version' }], data: [], rows: 0 }, ['version', 'requests'])).toThrow('no column requests');
    expect(() => readJsonFormat({ meta: [{ name: 'v' }], data: [{ v: 1 }], rows: 2 }, ['v'])).toThrow('rows 2 but 1 data rows');
    const row = (requests: unknown) => ({ meta: ['version', 'method', 'route', 'requests', 'errors_5xx', 'p95_ms'].map((name) => ({ name })), data: [{ version: NEW, method: 'GET', route: '/x', requests, errors_5xx: '0', p95_ms: 1 }], rows: 1 });
    await expect(answering(200, row('12 requests')).traffic(q)).rejects.toThrow('column requests is "12 requests", not a number');
    await expect(answering(200, { ...row('5'), data: [{ ...row('5').data[0], version: OLD }] }).traffic(q)).rejects.toThrow(`version ${OLD} was not asked for`);
  });

  it('refuses to build SQL from anything but UUIDs and a plain dataset name', () => {
    expect(() => trafficQueries('laundry_api_production', ["x') OR 1=1 --"], 0, 1)).toThrow('not a UUID');
    expect(() => trafficQueries('laundry; DROP', [NEW], 0, 1)).toThrow('not a plain identifier');
  });
});
