/**
 * The Kubernetes rollback gate (tools/k8s-gate) against a REAL Prometheus (Debian's `prometheus`
 * binary, scrape every second) scraping REAL app processes, each on its own private PostgreSQL
 * cluster so one can be broken alone:
 * - "old": version aaaa…, healthy, in both namespaces (the baseline the new pods are compared with);
 * - "good": version bbbb…, healthy, in laundry-production;
 * - "bad": version cccc…, in laundry-staging; its cluster is stopped, so /v1 answers 503
 *   database_unavailable and /readyz 503 (a real failure, no test hook in the app).
 * Traffic is driven at all three (real routes, plus kubelet-like probes that must not count).
 *
 * Then the workflow's decision logic: the gate step and the undo step of k8s-rollout.yml run in
 * bash with `npm` and `kubectl` stand-ins that record their arguments.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GateReport } from '../../tools/k8s-gate/gate.js';
import { apiClient } from '../support/client.js';
import { createLaundryDatabase, describeFaults, registerCustomer } from '../support/faults.js';
import { freePort, startPrivateCluster, type PrivateCluster } from '../support/private-cluster.js';
import { startServer, stopServer, type ServerProcess } from '../support/server-process.js';
import { PROMETHEUS, describeWithTools } from '../support/tools.js';

const OLD = 'a'.repeat(40);
const GOOD = 'b'.repeat(40);
const BAD = 'c'.repeat(40);
const METRICS_TOKEN = 'k8s-gate-test-metrics-token-0123456789abcdef';

/** Runs the real command (`npm run gate:k8s` is `tsx tools/k8s-gate/index.ts`); resolves its exit code, output and JSON report. */
async function runGateCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; report: GateReport; summary: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-gate-run-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/k8s-gate/index.ts', ...args, '--report', join(dir, 'report.json'), '--summary', join(dir, 'summary.txt')], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(existsSync(join(dir, 'report.json')), output).toBe(true);
    return { code, output, report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as GateReport, summary: readFileSync(join(dir, 'summary.txt'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Traffic {
  v1: number;
  probes: number;
  statuses: Map<number, number>;
}

/** Sends real traffic (two /v1 routes, then three probe requests) until stopped; bounded at 10 minutes. */
function driveTraffic(url: string, token: string): { counts: Traffic; stop: () => Promise<void> } {
  const counts: Traffic = { v1: 0, probes: 0, statuses: new Map() };
  let running = true;
  const until = Date.now() + 600_000;
  const get = async (path: string, auth?: string) => {
    try {
      const res = await fetch(`${url}${path}`, { headers: auth ? { Authorization: `Bearer ${auth}` } : {}, signal: AbortSignal.timeout(15_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };
  const loop = (async () => {
    while (running && Date.now() < until) {
      for (const [path, auth] of [['/v1/orders', token], ['/v1/services', undefined]] as const) {
        const status = await get(path, auth);
        counts.v1++;
        counts.statuses.set(status, (counts.statuses.get(status) ?? 0) + 1);
      }
      for (const path of ['/healthz', '/readyz', '/healthz']) {
        await get(path);
        counts.probes++;
      }
      await new Promise((r) => setTimeout(r, 60));
    }
  })();
  return {
    counts,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function waitFor(check: () => Promise<boolean>, what: string, limitMs = 90_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describeFaults('k8s gate (needs private PostgreSQL clusters)', () => {
  describeWithTools([PROMETHEUS], 'k8s gate against a real Prometheus scraping real app processes', () => {
    const clusters: PrivateCluster[] = [];
    const apps: (ServerProcess & { url: string })[] = [];
    const traffic: { counts: Traffic; stop: () => Promise<void> }[] = [];
    let prometheus: ChildProcess | undefined;
    let promDir = '';
    let promUrl = '';
    let goodUrl = '';
    let old: Traffic;
    let bad: Traffic;
    let good: Traffic;

    const promQuery = async (query: string) => {
      const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query })}`);
      return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    };

    beforeAll(async () => {
      const [clusterOk, clusterBad] = [await startPrivateCluster(), await startPrivateCluster()];
      clusters.push(clusterOk, clusterBad);
      await createLaundryDatabase(clusterOk);
      await createLaundryDatabase(clusterBad);

      const [promPort, oldPort, goodPort, badPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
      promDir = mkdtempSync(join(tmpdir(), 'k8s-gate-prom-'));
      // What deploy/monitoring/prometheus/scrape-config.yml gives each series on Kubernetes: job
      // laundry-api, the bearer token, and the target labels namespace and pod.
      const target = (port: number, namespace: string, pod: string) => ({ targets: [`127.0.0.1:${port}`], labels: { namespace, pod } });
      const config = {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'laundry-api',
            metrics_path: '/metrics',
            authorization: { type: 'Bearer', credentials: METRICS_TOKEN },
            static_configs: [
              target(oldPort, 'laundry-production', 'laundry-api-5f7d9-old01'),
              target(oldPort, 'laundry-staging', 'laundry-api-5f7d9-old01'),
              target(goodPort, 'laundry-production', 'laundry-api-7c4b2-good1'),
              target(badPort, 'laundry-staging', 'laundry-api-9e1a3-bad01'),
            ],
          },
        ],
      };
      writeFileSync(join(promDir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(promDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(promDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let promLog = '';
      prometheus.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));
      promUrl = `http://127.0.0.1:${promPort}`;
      await waitFor(async () => (await fetch(`${promUrl}/-/ready`)).ok, `Prometheus to be ready:\n${promLog}`);

      const common = { APP_ENV: 'test', LOG_LEVEL: 'error', METRICS_TOKEN, DATABASE_TIMEOUT_MS: '3000', PAYMENTS_JOB_INTERVAL_MS: '0' };
      const start = (port: number, version: string, cluster: PrivateCluster) =>
        startServer({ ...common, PORT: String(port), APP_VERSION: version, DATABASE_URL: cluster.url('laundry') });
      const [oldApp, goodApp, badApp] = [await start(oldPort, OLD, clusterOk), await start(goodPort, GOOD, clusterOk), await start(badPort, BAD, clusterBad)];
      apps.push(oldApp, goodApp, badApp);
      goodUrl = goodApp.url;
      const tokens = [] as string[];
      for (const app of apps) tokens.push((await registerCustomer(apiClient((request) => fetch(request), app.url), 'k8s-gate')).token);
      // The bad version's database goes away: a real failure, nothing in the app is told.
      clusterBad.stop();
      for (const [i, app] of apps.entries()) traffic.push(driveTraffic(app.url, tokens[i]!));
      [old, good, bad] = traffic.map((t) => t.counts) as [Traffic, Traffic, Traffic];
      // Every target is up and its app_info is in.
      await waitFor(async () => (await promQuery('count(app_info{job="laundry-api"})'))[0]?.value[1] === '4', 'four targets with app_info');
      // And each of the three pods' real traffic is in a 1-minute increase() (which needs two
      // scrapes of a series): otherwise the first gate run may see the old pods with 0 requests.
      await waitFor(
        async () =>
          (await promQuery('count(sum by (pod) (increase(http_requests_total{job="laundry-api", route!~"/healthz|/readyz|/metrics"}[1m])) > 0)'))[0]?.value[1] === '3',
        'real traffic from the three pods in Prometheus',
      );
    }, 300_000);

    afterAll(async () => {
      await Promise.all(traffic.map((t) => t.stop()));
      for (const app of apps) await stopServer(app).catch(() => {});
      if (prometheus && prometheus.exitCode === null) {
        prometheus.kill('SIGTERM');
        await new Promise((r) => prometheus!.once('exit', r));
      }
      for (const c of clusters) c.destroy();
      if (promDir) rmSync(promDir, { recursive: true, force: true });
    }, 120_000);

    it('the route label values the gate leaves out are the ones the app really writes', async () => {
      await waitFor(async () => (await promQuery('http_requests_total{route="/readyz"}')).length > 0, 'probe series');
      const res = await fetch(`${promUrl}/api/v1/label/route/values`);
      const routes = ((await res.json()) as { data: string[] }).data;
      expect(routes).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/v1/orders', '/v1/services']));
      // The bad version really fails: its /v1 routes answer 503, its probes are sent too.
      expect(bad.statuses.get(503) ?? 0).toBeGreaterThan(0);
      expect(bad.statuses.get(200) ?? 0).toBeLessThan(bad.statuses.get(503) ?? 0);
    });

    it('a new version whose database is gone: breach, exit 1, with the numbers; probes are not counted', async () => {
      const { code, output, report, summary } = await runGateCommand(
        ['--namespace', 'laundry-staging', '--version', BAD, '--duration', '120', '--interval', '2', '--lookback', '60', '--min-requests', '20'],
        { PROMETHEUS_URL: promUrl },
      );
      console.info(summary);
      expect(code, output).toBe(1);
      expect(report.verdict).toBe('breach');
      expect(report.durationS).toBeLessThan(120); // it stopped at the breach, not at the end
      const n = report.last!.new;
      expect(n.versions).toEqual([BAD]);
      expect(n.errorRatio!).toBeGreaterThan(0.4);
      expect(report.last!.breaches.map((b) => b.rule)).toContain('error_ratio');
      const breach = report.last!.breaches.find((b) => b.rule === 'error_ratio')!;
      expect(breach.value).toBeGreaterThan(0.02);
      expect(breach.limit).toBe(0.02);
      // Per route: GET /v1/orders (always the database) fails whole.
      expect(n.routes.find((r) => r.route === '/v1/orders')!.errorRatio).toBeGreaterThan(0.9);
      // Compared with the old pods in the same namespace, which are healthy.
      expect(report.last!.old.versions).toEqual([OLD]);
      expect(report.last!.old.errorRatio).toBe(0);
      // Probes (1.5 per /v1 request, /readyz answering 503) and scrapes are left out.
      expect(n.routes.map((r) => r.route)).not.toEqual(expect.arrayContaining(['/readyz']));
      expect(n.requests).toBeLessThanOrEqual(bad.v1 * 1.2 + 5);
      expect(bad.probes).toBeGreaterThan(bad.v1);
      expect(summary).toMatch(/BREACH error_ratio: 5xx ratio \d+\.\d% \(\d+ of \d+ requests\) is over the limit 2\.0%/);
      expect(summary).toContain(`new: 1 pods (${BAD})`);
    }, 240_000);

    it('a healthy new version: pass, exit 0, after watching to the end, compared with the old pods', async () => {
      const { code, output, report, summary } = await runGateCommand(
        ['--namespace', 'laundry-production', '--version', GOOD, '--duration', '20', '--interval', '4', '--lookback', '60', '--min-requests', '20'],
        { PROMETHEUS_URL: promUrl },
      );
      console.info(summary);
      expect(code, output).toBe(0);
      expect(report.verdict).toBe('pass');
      expect(report.durationS).toBeGreaterThanOrEqual(20);
      expect(report.evaluations).toBeGreaterThanOrEqual(3);
      const { new: n, old: o } = report.last!;
      expect(n.versions).toEqual([GOOD]);
      expect(n.requests).toBeGreaterThanOrEqual(20);
      expect(n.requests).toBeLessThanOrEqual(good.v1 * 1.2 + 5);
      expect(n.errorRatio).toBe(0);
      expect(n.p95Seconds).not.toBeNull();
      // The staging-only bad version is not in production's baseline.
      expect(o.versions).toEqual([OLD]);
      expect(o.requests).toBeGreaterThan(0);
      expect(old.v1).toBeGreaterThan(0);
      expect(report.last!.breaches).toEqual([]);
    }, 240_000);

    it('the namespace is honoured: the bad version has no pods in production, so the gate cannot vouch for it (inconclusive, exit 2)', async () => {
      const { code, report } = await runGateCommand(['--namespace', 'laundry-production', '--version', BAD, '--duration', '2', '--interval', '1', '--lookback', '60'], {
        PROMETHEUS_URL: promUrl,
      });
      expect(code).toBe(2);
      expect(report.verdict).toBe('inconclusive');
      expect(report.reason).toMatch(/no pod of version c{40} reported app_info in laundry-production/);
    }, 120_000);

    it('too little traffic: inconclusive with --low-traffic fail (the default), pass with a warning with --low-traffic pass', async () => {
      const args = ['--namespace', 'laundry-production', '--version', GOOD, '--duration', '2', '--interval', '1', '--lookback', '30', '--min-requests', '1000000'];
      const strict = await runGateCommand(args, { PROMETHEUS_URL: promUrl });
      expect(strict.code).toBe(2);
      expect(strict.report.reason).toMatch(/only \d+ requests \(fewer than 1000000\).*not enough traffic/);
      const lenient = await runGateCommand([...args, '--low-traffic', 'pass'], { PROMETHEUS_URL: promUrl });
      expect(lenient.code).toBe(0);
      expect(lenient.report.warnings.join()).toMatch(/passed without judging/);
    }, 120_000);

    it('something that is not Prometheus answers (the app itself, 404): inconclusive, exit 2, naming the answer', async () => {
      const { code, report, summary } = await runGateCommand(['--namespace', 'laundry-production', '--version', GOOD, '--duration', '2', '--interval', '1'], {
        PROMETHEUS_URL: goodUrl,
      });
      expect(code).toBe(2);
      expect(report.verdict).toBe('inconclusive');
      expect(report.lastError).toMatch(/HTTP 404/);
      expect(report.failedEvaluations).toBe(report.evaluations);
      expect(summary).toMatch(/INCONCLUSIVE/);
    }, 120_000);

    it('Prometheus down: inconclusive, exit 2 (the workflow rolls back: fail-safe)', async () => {
      prometheus!.kill('SIGTERM');
      await new Promise((r) => prometheus!.once('exit', r));
      const { code, report } = await runGateCommand(['--namespace', 'laundry-production', '--version', GOOD, '--duration', '2', '--interval', '1'], {
        PROMETHEUS_URL: promUrl,
      });
      expect(code).toBe(2);
      expect(report.verdict).toBe('inconclusive');
      expect(report.reason).toMatch(/Prometheus gave no usable answer/);
      expect(report.lastError).toMatch(/did not answer/);
      expect(report.evaluations).toBeGreaterThanOrEqual(2); // the final evaluation was retried
    }, 120_000);
  });
});

/**
 * The workflow's decision, run for real in bash: the steps after the rollout, with `npm` and
 * `kubectl` replaced by scripts that log their arguments (npm exits with the gate's code).
 * `if:` is evaluated for the few forms the file uses; an expression this table does not know
 * fails the test, so a change to the workflow has to be looked at here.
 */
describe('k8s-rollout.yml: gate after the rollout, undo on a gate failure', () => {
  type Step = { name?: string; id?: string; if?: string; run?: string; uses?: string; env?: Record<string, string>; with?: Record<string, string> };
  const wf = parse(readFileSync('.github/workflows/k8s-rollout.yml', 'utf8')) as { jobs: { rollout: { env: Record<string, string>; steps: Step[] } } };
  const steps = wf.jobs.rollout.steps;

  function simulate(gateExit: number, environment: 'staging' | 'production', revisions?: { before: string; now: string }) {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-gate-wf-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'calls.log');
    writeFileSync(
      join(bin, 'npm'),
      `#!/bin/bash\necho "npm $*" >> "${log}"\necho "PROMETHEUS_URL=$PROMETHEUS_URL PROMETHEUS_TOKEN=$PROMETHEUS_TOKEN" >> "${log}"\necho "k8s-gate: summary line (exit ${gateExit})" > gate-summary.txt\nexit ${gateExit}\n`,
    );
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/bash\necho "kubectl $*" >> "${log}"\ncase "$*" in *revision}*) echo ${revisions?.now ?? ''} ;; *jsonpath*) echo ghcr.io/acme/laundry-api@sha256:previous ;; esac\nexit 0\n`,
    );
    chmodSync(join(bin, 'npm'), 0o755);
    chmodSync(join(bin, 'kubectl'), 0o755);
    const expressions: Record<string, string> = {
      'secrets.PROMETHEUS_URL': 'https://prometheus.example.test',
      'secrets.PROMETHEUS_TOKEN': 'prom-token-123',
      'secrets.SLACK_WEBHOOK_URL': 'https://hooks.example.test/x',
      'github.sha': 'f'.repeat(40),
      'inputs.environment': environment,
      'inputs.image': 'ghcr.io/acme/laundry-api',
      'inputs.digest': `sha256:${'ab'.repeat(32)}`,
      "inputs.environment == 'production' && 'fail' || 'pass'": environment === 'production' ? 'fail' : 'pass',
    };
    const outcomes: Record<string, 'success' | 'failure' | 'skipped'> = { rollout: 'success' };
    const outputs: Record<string, Record<string, string>> = revisions ? { before: { revision: revisions.before } } : {};
    let jobFailed = false;
    const expr = (e: string): string => {
      const m = /^steps\.(\w+)\.(outcome|outputs\.(\w+))$/.exec(e);
      if (m) return m[2] === 'outcome' ? (outcomes[m[1]!] ?? 'skipped') : (outputs[m[1]!]?.[m[3]!] ?? '');
      if (e === 'job.status') return jobFailed ? 'failure' : 'success';
      if (!(e in expressions)) throw new Error(`the simulation does not know \${{ ${e} }}`);
      return expressions[e]!;
    };
    const interpolate = (s: string) => s.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, e: string) => expr(e));
    const condition = (cond: string | undefined): boolean => {
      if (!cond) return !jobFailed;
      const js = cond
        .replace(/failure\(\)/g, String(jobFailed))
        .replace(/always\(\)/g, 'true')
        // The simulated runs are never cancelled.
        .replace(/cancelled\(\)/g, 'false')
        .replace(/success\(\)/g, String(!jobFailed))
        .replace(/steps\.\w+\.outcome/g, (m) => JSON.stringify(expr(m)))
        .replace(/'([^']*)'/g, (_, s: string) => JSON.stringify(s));
      if (!/^[\s\w"()=!&|-]*$/.test(js)) throw new Error(`unexpected if: ${cond}`);
      return Boolean(new Function(`return (${js});`)());
    };
    const notified: Record<string, string>[] = [];
    const ran: string[] = [];
    const start = steps.findIndex((s) => s.id === 'gate');
    try {
      for (const step of steps.slice(start)) {
        if (!condition(step.if)) {
          if (step.id) outcomes[step.id] = 'skipped';
          continue;
        }
        ran.push(step.name ?? step.uses ?? '');
        if (step.uses) {
          notified.push(Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(String(v))])));
          continue;
        }
        const outputFile = join(dir, 'output');
        writeFileSync(outputFile, '');
        const env = Object.fromEntries(Object.entries({ ...wf.jobs.rollout.env, ...step.env }).map(([k, v]) => [k, interpolate(String(v))]));
        const r = spawnSync('bash', ['-e', '-c', interpolate(step.run!)], {
          cwd: dir,
          env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: join(dir, 'summary.md'), ...env },
          encoding: 'utf8',
        });
        const ok = r.status === 0;
        if (step.id) {
          outcomes[step.id] = ok ? 'success' : 'failure';
          const text = readFileSync(outputFile, 'utf8');
          const heredoc = /^(\w+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
          outputs[step.id] = Object.fromEntries([...text.matchAll(heredoc)].map((m) => [m[1]!, m[3]!]));
        }
        if (!ok) jobFailed = true;
      }
      return { calls: readFileSync(log, 'utf8'), outcomes, notified, ran, jobFailed };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('the undo also runs when the run is cancelled or times out during the rollout or the gate', () => {
    const undo = steps.find((s) => s.name === 'Undo the rollout on failure')!;
    expect(undo.if).toMatch(/cancelled\(\) && \(steps\.rollout\.outcome == 'cancelled' \|\| steps\.gate\.outcome == 'cancelled'\)/);
    expect(undo.if).toMatch(/failure\(\) && \(steps\.rollout\.outcome == 'failure' \|\| steps\.gate\.outcome == 'failure'\)/);
  });

  it('the gate step comes right after the rollout, with the Prometheus secrets only in its own env', () => {
    const gateIndex = steps.findIndex((s) => s.id === 'gate');
    expect(steps[gateIndex - 1]!.id).toBe('rollout');
    expect(steps[gateIndex]!.env).toMatchObject({ PROMETHEUS_URL: '${{ secrets.PROMETHEUS_URL }}', PROMETHEUS_TOKEN: '${{ secrets.PROMETHEUS_TOKEN }}' });
    const elsewhere = steps.filter((s) => s.id !== 'gate').map((s) => JSON.stringify(s));
    expect(elsewhere.join('\n')).not.toMatch(/PROMETHEUS_/);
    expect(JSON.stringify(wf.jobs.rollout.env)).not.toMatch(/PROMETHEUS_/);
    // npm ci runs before the cluster credentials are written.
    const install = steps.findIndex((s) => /npm ci/.test(s.run ?? ''));
    const credentials = steps.findIndex((s) => /KUBE_CONFIG/.test(JSON.stringify(s.env ?? {})));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(install).toBeLessThan(credentials);
    expect(JSON.parse(readFileSync('package.json', 'utf8')).scripts['gate:k8s']).toBe('tsx tools/k8s-gate/index.ts');
  });

  it.each([1, 2])('gate exits %i in production: rollout undone, CronJob image reset, Slack gets the gate report', (exit) => {
    const r = simulate(exit, 'production');
    expect(r.calls).toContain(`npm run gate:k8s -- --namespace laundry-production --version ${'f'.repeat(40)} --low-traffic fail`);
    expect(r.calls).toContain('PROMETHEUS_URL=https://prometheus.example.test PROMETHEUS_TOKEN=prom-token-123');
    expect(r.outcomes.gate).toBe('failure');
    const kubectl = r.calls.split('\n').filter((l) => l.startsWith('kubectl'));
    expect(kubectl[0]).toBe('kubectl -n laundry-production rollout undo deployment/laundry-api');
    expect(kubectl[1]).toMatch(/^kubectl -n laundry-production rollout status deployment\/laundry-api/);
    expect(kubectl).toContain('kubectl -n laundry-production set image cronjob/laundry-api-payments-job payments-job=ghcr.io/acme/laundry-api@sha256:previous');
    // The notifications worker runs the same code: back to the same image, and waited for.
    expect(kubectl).toContain('kubectl -n laundry-production set image deployment/laundry-notifications-worker notifications-worker=ghcr.io/acme/laundry-api@sha256:previous');
    expect(kubectl.at(-1)).toMatch(/^kubectl -n laundry-production rollout status deployment\/laundry-notifications-worker/);
    expect(r.notified).toHaveLength(1);
    expect(r.notified[0]).toMatchObject({ status: 'failure', details: `k8s-gate: summary line (exit ${exit})` });
  });

  it('gate fails after a rollout that made a new revision: undone to the revision recorded before the run', () => {
    const r = simulate(1, 'production', { before: '7', now: '8' });
    const kubectl = r.calls.split('\n').filter((l) => l.startsWith('kubectl'));
    expect(kubectl).toContain('kubectl -n laundry-production rollout undo deployment/laundry-api --to-revision=7');
    expect(r.notified[0]).toMatchObject({ status: 'failure' });
  });

  it('gate fails after an apply that changed no pod (re-run for the same digest): no undo to the release before, the job fails and Slack is told', () => {
    const r = simulate(2, 'production', { before: '8', now: '8' });
    expect(r.calls).not.toMatch(/rollout undo/);
    expect(r.calls).not.toMatch(/set image/);
    expect(r.jobFailed).toBe(true);
    expect(r.notified).toHaveLength(1);
    expect(r.notified[0]).toMatchObject({ status: 'failure', details: 'k8s-gate: summary line (exit 2)' });
  });

  it('gate passes (staging: low traffic passes): no undo, Slack says success with the report', () => {
    const r = simulate(0, 'staging');
    expect(r.calls).toContain('--namespace laundry-staging');
    expect(r.calls).toContain('--low-traffic pass');
    expect(r.calls).not.toMatch(/kubectl/);
    expect(r.outcomes).toMatchObject({ gate: 'success' });
    expect(r.notified[0]).toMatchObject({ status: 'success', details: 'k8s-gate: summary line (exit 0)' });
  });
});
