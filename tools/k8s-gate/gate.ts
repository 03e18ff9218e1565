/**
 * The Kubernetes rollout gate: after `kubectl rollout status`, watch the NEW version's pods in
 * Prometheus for a while and say whether they may stay (docs/runbook.md, "Automatic rollback
 * (Kubernetes)").
 *
 * Pods are picked by version, not by name: every pod exports `app_info{version="<APP_VERSION>"}`
 * (the image's git SHA, src/metrics/prometheus.ts), and the scrape config gives each series the
 * target labels `namespace` and `pod` (deploy/monitoring/prometheus/scrape-config.yml), so
 *
 *   increase(http_requests_total{namespace="…", job="laundry-api", route!~"/healthz|/readyz|/metrics"}[W])
 *     * on (job, instance, namespace, pod) group_left (version)
 *   max by (job, instance, namespace, pod, version) (max_over_time(app_info{namespace="…", job="laundry-api"}[W]))
 *
 * gives each version's requests over the window W (`max_over_time` keeps the old pods that
 * stopped reporting during the rollout). W = lookback + time since the gate started, so the
 * traffic the new pods served during the rollout counts, and the old pods' last minutes are the
 * baseline. Probe and scrape routes are left out: kubelet and Prometheus traffic says nothing
 * about users (and /readyz answers 503 on purpose).
 *
 * Known bias: `increase` cannot see the first scrape's value of a series born inside W (the
 * first 5xx of a route), so errors are undercounted by at most one scrape interval per series.
 *
 * Verdicts: `pass` (exit 0), `breach` (exit 1: a limit crossed, with the numbers), `inconclusive`
 * (exit 2: Prometheus unreachable or answering errors at the end, no `app_info` for the new
 * version at all, or too little traffic with lowTraffic = 'fail'). The workflow rolls back on
 * any non-zero exit: with Prometheus blind the alerts are blind too, so an unwatched version
 * does not stay (fail-safe). A failed query mid-watch is retried at the next tick; only the
 * final evaluation must succeed, so a blip does not roll a healthy version back.
 */
import { PrometheusError, queryVector, type PrometheusClient } from './prometheus.js';
import { count, judge, pct, secs, summarise, type Breach, type GateLimits, type VersionStats } from './rules.js';

export interface GateOptions {
  prometheus: PrometheusClient;
  /** Kubernetes namespace, e.g. laundry-production (the `namespace` label the scrape config sets). */
  namespace: string;
  /** The new version: the APP_VERSION the image was built with (the git SHA). */
  version: string;
  /** The scrape job's name. Default laundry-api. */
  job: string;
  /** How long to watch, seconds. Default 300. */
  durationS: number;
  /** Seconds between evaluations. Default 15 (one production scrape interval). */
  intervalS: number;
  /** Seconds of history before the gate started that count too (the rollout itself). Default 300. */
  lookbackS: number;
  /** Target labels that tie a series to its pod. Default job, instance, namespace, pod. */
  joinOn: string[];
  /** `route` label values left out (exact values). Default /healthz, /readyz, /metrics. */
  excludeRoutes: string[];
  limits: GateLimits;
  /** At the end with fewer than minRequests requests: pass (with a warning) or fail (inconclusive). Default fail. */
  lowTraffic: 'pass' | 'fail';
  /** Progress lines (one per evaluation); default silent. */
  log?: (line: string) => void;
  /** Injected clock for tests; default the real one. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Evaluation {
  /** Seconds since the gate started. */
  atS: number;
  windowS: number;
  new: VersionStats;
  old: VersionStats;
  breaches: Breach[];
  /** Too few requests so far to judge ratio and p95 (the low-count 5xx rule still applies). */
  lowTraffic: boolean;
}

export type Verdict = 'pass' | 'breach' | 'inconclusive';

export interface GateReport {
  verdict: Verdict;
  /** 0 pass, 1 breach, 2 inconclusive. */
  exitCode: 0 | 1 | 2;
  reason: string;
  namespace: string;
  version: string;
  startedAt: string;
  endedAt: string;
  durationS: number;
  intervalS: number;
  evaluations: number;
  failedEvaluations: number;
  lastError?: string;
  warnings: string[];
  limits: GateLimits;
  last?: Evaluation;
}

export const GATE_DEFAULTS = {
  job: 'laundry-api',
  durationS: 300,
  intervalS: 15,
  lookbackS: 300,
  joinOn: ['job', 'instance', 'namespace', 'pod'],
  excludeRoutes: ['/healthz', '/readyz', '/metrics'],
  lowTraffic: 'fail' as const,
};

/** PromQL string literal (double-quoted, backslash escapes). */
const str = (s: string) => JSON.stringify(s);
const regexEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The three queries of one evaluation over a window of `windowS` seconds. Exported for the docs and tests. */
export function gateQueries(o: Pick<GateOptions, 'namespace' | 'job' | 'joinOn' | 'excludeRoutes'>, windowS: number) {
  const w = `${Math.max(1, Math.ceil(windowS))}s`;
  const on = o.joinOn.join(', ');
  const scope = `namespace=${str(o.namespace)}, job=${str(o.job)}`;
  const routes = o.excludeRoutes.length > 0 ? `, route!~${str(o.excludeRoutes.map(regexEscape).join('|'))}` : '';
  const info = `max by (${on}, version) (max_over_time(app_info{${scope}}[${w}]))`;
  const join = `* on (${on}) group_left (version) ${info}`;
  return {
    pods: `count by (version) (${info})`,
    requests: `sum by (version, method, route, status) (increase(http_requests_total{${scope}${routes}}[${w}]) ${join})`,
    p95: `histogram_quantile(0.95, sum by (version, le) (increase(http_request_duration_seconds_bucket{${scope}${routes}}[${w}]) ${join}))`,
  };
}

/** One evaluation: the three queries over the window, then the rules. Rejects with PrometheusError. */
export async function evaluate(o: GateOptions, atS: number): Promise<Evaluation> {
  const windowS = o.lookbackS + atS;
  const q = gateQueries(o, windowS);
  const [pods, requests, p95] = await Promise.all([queryVector(o.prometheus, q.pods), queryVector(o.prometheus, q.requests), queryVector(o.prometheus, q.p95)]);
  const stats = summarise(o.version, pods, requests, p95);
  return { atS, windowS, ...stats, ...judge(stats, o.limits) };
}

/** Runs the watch: every intervalS until durationS, stopping at the first breach. Never throws for Prometheus's sake. */
export async function runGate(o: GateOptions): Promise<GateReport> {
  const now = o.now ?? (() => Date.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = o.log ?? (() => {});
  const started = now();
  const elapsedS = () => (now() - started) / 1000;
  let evaluations = 0;
  let failed = 0;
  let lastError: string | undefined;
  let last: Evaluation | undefined;
  let lastOk = false;
  const warnings: string[] = [];

  const tick = async () => {
    evaluations++;
    try {
      last = await evaluate(o, elapsedS());
      lastOk = true;
      log(progressLine(last));
    } catch (err) {
      if (!(err instanceof PrometheusError)) throw err;
      failed++;
      lastOk = false;
      lastError = err.message;
      log(`k8s-gate: ${Math.round(elapsedS())} s: evaluation failed (${err.kind}): ${err.message}`);
    }
  };

  const report = (verdict: Verdict, reason: string): GateReport => ({
    verdict,
    exitCode: verdict === 'pass' ? 0 : verdict === 'breach' ? 1 : 2,
    reason,
    namespace: o.namespace,
    version: o.version,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(now()).toISOString(),
    durationS: Math.round(elapsedS()),
    intervalS: o.intervalS,
    evaluations,
    failedEvaluations: failed,
    ...(lastError ? { lastError } : {}),
    warnings,
    limits: o.limits,
    ...(last ? { last } : {}),
  });

  for (;;) {
    await tick();
    if (lastOk && last!.breaches.length > 0) return report('breach', last!.breaches.map((b) => b.message).join('; '));
    const remaining = o.durationS - elapsedS();
    if (remaining <= 0) break;
    await sleep(Math.min(o.intervalS, remaining) * 1000);
  }
  // The verdict needs one good evaluation of the whole window: a blip at the very end gets a few more tries.
  for (let retry = 0; !lastOk && retry < 3; retry++) {
    await sleep(Math.min(o.intervalS, 5) * 1000);
    await tick();
    if (lastOk && last!.breaches.length > 0) return report('breach', last!.breaches.map((b) => b.message).join('; '));
  }
  if (!lastOk) {
    return report('inconclusive', `Prometheus gave no usable answer at the end of the watch (${failed} of ${evaluations} evaluations failed): ${lastError}`);
  }
  if (failed > 0) warnings.push(`${failed} of ${evaluations} evaluations failed (${lastError}); the final one covered the whole window`);
  const final = last!;
  if (final.new.pods === 0) {
    return report(
      'inconclusive',
      `no pod of version ${o.version} reported app_info in ${o.namespace} (job ${o.job}): Prometheus does not scrape the new pods (METRICS_TOKEN, scrape config) or the version label is not the image's APP_VERSION`,
    );
  }
  if (final.lowTraffic) {
    const msg = `only ${count(final.new.requests)} requests (fewer than ${o.limits.minRequests}) reached version ${o.version} in ${Math.round(final.windowS)} s`;
    if (o.lowTraffic === 'fail') return report('inconclusive', `${msg}: not enough traffic to judge (lowTraffic=fail)`);
    warnings.push(`${msg}: passed without judging ratio and p95 (lowTraffic=pass)`);
  }
  return report('pass', final.lowTraffic ? 'no limit crossed (low traffic)' : 'no limit crossed');
}

export function progressLine(e: Evaluation): string {
  const side = (s: VersionStats) =>
    `${count(s.requests)} req, 5xx ${s.errorRatio === null ? '-' : pct(s.errorRatio)}, p95 ${s.p95Seconds === null ? '-' : secs(s.p95Seconds)}, ${s.pods} pods`;
  return `k8s-gate: ${Math.round(e.atS)} s (window ${Math.round(e.windowS)} s): new ${side(e.new)}; old ${side(e.old)}${e.breaches.length ? ` — BREACH: ${e.breaches.map((b) => b.rule).join(', ')}` : ''}`;
}

