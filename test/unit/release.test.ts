/**
 * The release and rollback tools with no network: a recorded fake wrangler and a fake edge
 * that answers per version (the Cloudflare-Workers-Version-Overrides header picks which).
 */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../tools/release/args.js';
import { DEFAULT_THRESHOLDS, compareVersions, percentile } from '../../tools/release/gate.js';
import { aggregateByAlias, cloudflareObservability, telemetryQuery } from '../../tools/release/observability.js';
import { OVERRIDE_HEADER } from '../../tools/release/probes.js';
import { runRelease, validateSteps } from '../../tools/release/release.js';
import { formatReport } from '../../tools/release/report.js';
import { runRollback } from '../../tools/release/rollback.js';
import { baseUrlFromRoutes } from '../../tools/release/runtime.js';
import type { CommandResult, ObservabilitySource, ReleaseOptions, VersionStats } from '../../tools/release/types.js';
import { parseDeploymentStatus, parseUploadedVersionId, shortMessage } from '../../tools/release/wrangler.js';

const OLD = '10000000-0000-4000-8000-000000000001';
const NEW = '51e4886e-2db7-4900-8d38-fbfecfeab993';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const SHA12 = SHA.slice(0, 12);
const WORKER = 'laundry-api-production';
const BASE = 'https://api.laundry.example.com';

/**
 * `wrangler versions upload` stdout, as wrangler 4.x prints it: the snapshot in
 * cloudflare/workers-sdk packages/wrangler/src/__tests__/versions/versions.upload.test.ts
 * ("should print bindings & startup time on versions upload"), matching
 * `logger.log("Worker Version ID:", versionId)` in node_modules/wrangler/wrangler-dist/cli.js.
 */
const UPLOAD_STDOUT = `
 ⛅️ wrangler 4.86.0
──────────────────
Total Upload: 2356.98 KiB / gzip: 406.98 KiB
Worker Startup Time: 500 ms
Your Worker has access to the following bindings:
Binding                                   Resource
env.CF_VERSION_METADATA                   Worker Version Metadata
env.APP_ENV ("production")                Environment Variable

Uploaded ${WORKER} (3.21 sec)
Worker Version ID: ${NEW}
Version Preview URL: https://51e4886e-${WORKER}.example.workers.dev`;

/**
 * `wrangler deployments status --env <env> --json`: the API's deployment object, logged raw (shape from
 * the snapshot in packages/wrangler/src/__tests__/versions/deployments/deployments.status.test.ts).
 */
function statusJson(versions: [string, number][]) {
  return JSON.stringify(
    {
      id: 'Galaxy-Class-test-name',
      source: 'api',
      strategy: 'percentage',
      author_email: 'ops@laundry.example.com',
      created_on: '2026-11-20T00:00:00.000000Z',
      annotations: { 'workers/triggered_by': 'deployment' },
      versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })),
    },
    null,
    2,
  );
}

/** The world the fakes share: what is deployed, and a clock the fake edge advances. */
function world(
  opts: {
    fail?: (args: readonly string[]) => CommandResult | undefined;
    respond?: (version: string, path: string, w: World, init?: RequestInit) => Answer | undefined;
    initial?: [string, number][];
    uploadStdout?: string;
  } = {},
) {
  const w = {
    t: 0,
    slept: 0,
    split: (opts.initial ?? [[OLD, 100]]) as [string, number][],
    calls: [] as string[][],
    requests: [] as { version: string | undefined; path: string; method: string; auth: boolean }[],
    run: async (args: readonly string[]): Promise<CommandResult> => {
      w.calls.push([...args]);
      const failed = opts.fail?.(args);
      if (failed) return failed;
      const [a, b] = args;
      if (a === 'deployments' && b === 'status') return { code: 0, stdout: statusJson(w.split), stderr: '' };
      if (a === 'versions' && b === 'upload') return { code: 0, stdout: opts.uploadStdout ?? UPLOAD_STDOUT, stderr: '' };
      if (a === 'versions' && b === 'deploy') {
        w.split = args
          .filter((x) => /@\d+$/.test(x))
          .map((x) => {
            const [id, p] = x.split('@');
            return [id!, Number(p)] as [string, number];
          });
        return { code: 0, stdout: `Deployed ${WORKER} ${w.split.map(([id, p]) => `version ${id} at ${p}%`).join(' and ')} (1.02 sec)`, stderr: '' };
      }
      if (a === 'rollback') {
        const target = args[1]?.match(/^[0-9a-f-]{36}$/) ? args[1] : OLD;
        w.split = [[target, 100]];
        return { code: 0, stdout: `Worker Version ${target} has been deployed to 100% of traffic.\n\nCurrent Version ID: ${target}`, stderr: '' };
      }
      if (a === 'triggers') return { code: 0, stdout: 'Deployed laundry-api-production triggers', stderr: '' };
      return { code: 1, stdout: '', stderr: `fake wrangler: unexpected ${args.join(' ')}` };
    },
    fetch: async (url: string, init?: RequestInit): Promise<Response> => {
      const headers = new Headers(init?.headers);
      const override = headers.get(OVERRIDE_HEADER);
      const m = override ? /^([^=]+)="([^"]+)"$/.exec(override) : null;
      if (override) expect(m?.[1]).toBe(WORKER);
      // Overrides only reach versions in the current deployment (PLATFORM.md); else the split decides.
      const inDeployment = m && w.split.some(([id]) => id === m[2]);
      const version = inDeployment ? m[2]! : w.split.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
      const path = new URL(url).pathname;
      w.requests.push({ version: m?.[2], path, method: init?.method ?? 'GET', auth: headers.has('authorization') });
      const answer = opts.respond?.(version, path, w, init) ?? defaultAnswer(path, init);
      w.t += answer.ms ?? 40;
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
        status: answer.status,
        headers: { 'content-type': 'application/json', 'x-app-version': answer.servedBy ?? version },
      });
    },
    clock: {
      now: () => w.t,
      sleep: async (ms: number) => {
        w.t += ms;
        w.slept += ms;
      },
    },
    percentOf: (id: string) => w.split.find(([v]) => v === id)?.[1] ?? 0,
  };
  return w;
}
type World = ReturnType<typeof world>;
/** What the fake edge answers; `servedBy` fakes an override that has not reached the edge yet. */
type Answer = { status: number; body?: unknown; ms?: number; servedBy?: string };

function defaultAnswer(path: string, init?: RequestInit): Answer {
  switch (path) {
    case '/healthz':
      return { status: 200, body: { status: 'ok' } };
    case '/readyz':
      return { status: 200, body: { status: 'ready', checks: { database: { status: 'ok', durationMs: 3 } } } };
    case '/v1/services':
      return { status: 200, body: { data: [{ slug: 'wash-and-fold' }] } };
    case '/v1/auth/login': {
      const { email } = JSON.parse(String(init?.body)) as { email: string };
      return { status: 200, body: { accessToken: 'jwt', refreshToken: 'r'.repeat(43), user: { email } } };
    }
    case '/v1/auth/logout':
      return { status: 204 };
    case '/v1/me':
      return new Headers(init?.headers).get('authorization') === 'Bearer jwt'
        ? { status: 200, body: { email: 'smoke@laundry.example.com' } }
        : { status: 401, body: { code: 'unauthorized' } };
    default:
      return { status: 404 };
  }
}

function options(overrides: Partial<ReleaseOptions> = {}): ReleaseOptions {
  return {
    target: { env: 'production', workerName: WORKER, baseUrl: BASE },
    steps: [10, 50, 100],
    holdSeconds: 60,
    dryRun: false,
    git: { sha: SHA, subject: 'Add express turnaround' },
    smoke: { email: 'smoke@laundry.example.com', password: 'smoke password' },
    probeRounds: 5,
    thresholds: DEFAULT_THRESHOLDS,
    overrideTimeoutSeconds: 30,
    deployTriggers: true,
    ...overrides,
  };
}

const deploy = (split: string[], message: string) => ['versions', 'deploy', ...split, '-y', '--message', message, '--env', 'production'];
const STATUS = ['deployments', 'status', '--env', 'production', '--json'];
const UPLOAD = ['versions', 'upload', '--env', 'production', '--tag', SHA, '--message', `${SHA} Add express turnaround`];
const restoreCall = (calls: string[][]) => calls.find((c) => c[1] === 'deploy' && c[2] === `${OLD}@100` && c.length === 8);

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
      'POST /v1/auth/login (smoke account)',
      'GET /v1/me (authenticated)',
    ]);
    const beforeFirstStep = w.requests.slice(0, 7);
    expect(beforeFirstStep.every((r) => r.version === NEW)).toBe(true);
    expect(w.requests.some((r) => r.path === '/v1/me' && r.auth)).toBe(true);
    // Each gate compared both versions: routing, error rate, latency.
    const gate = report.phases.find((p) => p.name === 'gate at 50%')!;
    expect(gate.checks!.map((c) => c.name)).toEqual(['routing (probes)', 'error_rate (probes)', 'latency_p95 (probes)']);
    expect(gate.checks![1]!.numbers).toMatchObject({ newRequests: 20, oldRequests: 20, newErrorRate: 0 });
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

  it('fails the smoke test when the smoke account cannot log in', async () => {
    const w = world({ respond: (version, path) => (version === NEW && path === '/v1/auth/login' ? { status: 401, body: { code: 'invalid_credentials' } } : undefined) });
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock });
    expect(report.failure).toMatchObject({ phase: 'smoke', check: 'POST /v1/auth/login (smoke account)' });
    expect(restoreCall(w.calls)).toBeDefined();
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

  it('also gates on Workers observability numbers when a source is configured', async () => {
    const w = world();
    const stats: Record<string, VersionStats> = {
      [OLD]: { requests: 5000, errors: 5, errorRate: 0.001, p95Ms: 80 },
      [NEW]: { requests: 600, errors: 60, errorRate: 0.1, p95Ms: 85 },
    };
    const queried: string[] = [];
    const observability: ObservabilitySource = {
      name: 'workers-observability',
      stats: async ({ versionId, workerName }) => {
        queried.push(`${workerName}:${versionId}`);
        return stats[versionId];
      },
    };
    const report = await runRelease(options(), { run: w.run, fetch: w.fetch, clock: w.clock, observability });
    expect(report.failure).toMatchObject({ phase: 'gate at 10%', check: 'error_rate (workers-observability)' });
    expect(report.failure!.detail).toBe('new 10.0% (60/600) vs old 0.1% (5/5000), limit 2.1%');
    expect(queried).toEqual([`${WORKER}:${OLD}`, `${WORKER}:${NEW}`]);
    expect(w.split).toEqual([[OLD, 100]]);
  });

  it('an observability outage is a warning, not a rollback', async () => {
    const w = world();
    const observability: ObservabilitySource = {
      name: 'workers-observability',
      stats: async () => {
        throw new Error('HTTP 403');
      },
    };
    const report = await runRelease(options({ steps: [100] }), { run: w.run, fetch: w.fetch, clock: w.clock, observability });
    expect(report.outcome).toBe('released');
    expect(report.warnings).toEqual(['workers-observability: query failed (HTTP 403); gated on probes only']);
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
    expect(report.warnings[0]).toContain('route conflict');
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

describe('Workers observability source', () => {
  it('queries per version and reads the calculations', async () => {
    const bodies: unknown[] = [];
    const fetchFake = async (url: string, init?: RequestInit) => {
      expect(url).toBe('https://api.cloudflare.com/client/v4/accounts/acc123/workers/observability/telemetry/query');
      expect(new Headers(init?.headers).get('authorization')).toBe('Bearer tok');
      const body = JSON.parse(String(init?.body)) as ReturnType<typeof telemetryQuery>;
      bodies.push(body);
      const errorsOnly = body.parameters.filters.length === 4;
      return Response.json({
        success: true,
        result: {
          calculations: [
            { alias: 'requests', aggregates: [{ value: errorsOnly ? 3 : 300 }] },
            { alias: 'p95', aggregates: [{ value: 120 }] },
          ],
        },
      });
    };
    const source = cloudflareObservability({ accountId: 'acc123', apiToken: 'tok', fetch: fetchFake });
    expect(await source.stats({ workerName: WORKER, versionId: NEW, fromMs: 1000, toMs: 2000 })).toEqual({ requests: 300, errors: 3, errorRate: 0.01, p95Ms: 120 });
    expect(bodies[0]).toMatchObject({ view: 'calculations', timeframe: { from: 1000, to: 2000 } });
    expect(JSON.stringify(bodies[0])).toContain(NEW);
  });

  it('throws on an API error or an unknown shape (the gate turns that into a warning)', async () => {
    const denied = cloudflareObservability({ accountId: 'a', apiToken: 't', fetch: async () => Response.json({ success: false, errors: [{ message: 'forbidden' }] }, { status: 403 }) });
    await expect(denied.stats({ workerName: WORKER, versionId: NEW, fromMs: 0, toMs: 1 })).rejects.toThrow('HTTP 403 forbidden');
    expect(aggregateByAlias({ result: {} }, 'requests')).toBeUndefined();
    expect(aggregateByAlias({ result: { calculations: [{ alias: 'requests', aggregates: [] }] } }, 'requests')).toBe(0);
  });
});
