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
import { PrometheusError, queryVector, type PrometheusClient, type Sample } from './prometheus.js';

export interface GateLimits {
  /** Absolute ceiling of the new version's 5xx / requests, 0..1. Default 0.02 (the LaundryApiHighErrorRatio alert's 2%). */
  maxErrorRatio: number;
  /** The new version's 5xx ratio may exceed the old one's by at most this (0..1, absolute). Default 0.01. */
  maxErrorRatioIncrease: number;
  /** Absolute ceiling of the new version's p95, seconds. Default 1 (the LaundryApiHighLatencyP95 alert). */
  maxP95Seconds: number;
  /** The new p95 may be at most this many times the old one's… Default 2. */
  maxP95Factor: number;
  /** …unless it is below this, seconds (bucket interpolation makes small p95s noisy). Default 0.25. */
  p95FloorSeconds: number;
  /** Requests a version needs in W before its ratio and p95 are judged. Default 100. */
  minRequests: number;
  /** Per route: a route with at least minRouteRequests requests may answer at most this 5xx ratio. Default 0.1. */
  maxRouteErrorRatio: number;
  /** Default 20. */
  minRouteRequests: number;
}

export const DEFAULT_LIMITS: GateLimits = {
  maxErrorRatio: 0.02,
  maxErrorRatioIncrease: 0.01,
  maxP95Seconds: 1,
  maxP95Factor: 2,
  p95FloorSeconds: 0.25,
  minRequests: 100,
  maxRouteErrorRatio: 0.1,
  minRouteRequests: 20,
};

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

export interface VersionStats {
  /** Pods (join-label sets) of this side that reported app_info in W. */
  pods: number;
  versions: string[];
  requests: number;
  errors5xx: number;
  /** errors5xx / requests; null without requests. */
  errorRatio: number | null;
  /** Seconds, from the histogram; null without observations. */
  p95Seconds: number | null;
  routes: { route: string; method: string; requests: number; errors5xx: number; errorRatio: number }[];
}

export interface Breach {
  rule: 'error_ratio' | 'error_ratio_vs_old' | 'p95' | 'p95_vs_old' | 'route_error_ratio';
  /** What crossed the limit, in the unit of `limit` (ratio 0..1 or seconds). */
  value: number;
  limit: number;
  message: string;
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

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** Folds the query answers into the new version's and the other versions' numbers. */
export function summarise(version: string, pods: Sample[], requests: Sample[], p95: Sample[]): { new: VersionStats; old: VersionStats } {
  const side = (isNew: boolean): VersionStats => {
    const mine = (s: Sample) => (s.metric.version === version) === isNew;
    const byRoute = new Map<string, { route: string; method: string; requests: number; errors5xx: number }>();
    let total = 0;
    let errors = 0;
    for (const s of requests.filter(mine)) {
      if (!Number.isFinite(s.value)) continue;
      const key = `${s.metric.method ?? ''} ${s.metric.route ?? ''}`;
      const r = byRoute.get(key) ?? { route: s.metric.route ?? '', method: s.metric.method ?? '', requests: 0, errors5xx: 0 };
      const is5xx = /^5\d\d$/.test(s.metric.status ?? '');
      r.requests += s.value;
      if (is5xx) r.errors5xx += s.value;
      byRoute.set(key, r);
      total += s.value;
      if (is5xx) errors += s.value;
    }
    const podRows = pods.filter(mine);
    // The old side may hold several versions (an earlier rollback): their p95s weighted by requests.
    const p95s = p95.filter(mine).filter((s) => Number.isFinite(s.value));
    let p95Seconds: number | null = null;
    if (p95s.length === 1) p95Seconds = p95s[0]!.value;
    else if (p95s.length > 1) {
      const weight = (v: string) => requests.filter((s) => s.metric.version === v && Number.isFinite(s.value)).reduce((a, s) => a + s.value, 0);
      const weighted = p95s.map((s) => ({ v: s.value, w: weight(s.metric.version ?? '') }));
      const sum = weighted.reduce((a, x) => a + x.w, 0);
      p95Seconds = sum > 0 ? weighted.reduce((a, x) => a + x.v * x.w, 0) / sum : Math.min(...weighted.map((x) => x.v));
    }
    return {
      pods: podRows.reduce((a, s) => a + (Number.isFinite(s.value) ? s.value : 0), 0),
      versions: [...new Set(podRows.map((s) => s.metric.version ?? ''))].sort(),
      requests: total,
      errors5xx: errors,
      errorRatio: ratio(errors, total),
      p95Seconds,
      routes: [...byRoute.values()]
        .map((r) => ({ ...r, errorRatio: r.errors5xx / r.requests }))
        .filter((r) => r.requests > 0)
        .sort((a, b) => b.errors5xx - a.errors5xx || b.requests - a.requests),
    };
  };
  return { new: side(true), old: side(false) };
}

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const secs = (s: number) => `${s.toFixed(3)} s`;
const count = (n: number) => String(Math.round(n));

/**
 * The rules, on one window's numbers. With fewer than minRequests requests only the low-count
 * rule judges: a 5xx count that keeps the ratio over the limit even if every missing request
 * up to minRequests succeeded (errors > maxErrorRatio × minRequests). The same holds per route.
 */
export function judge(stats: { new: VersionStats; old: VersionStats }, l: GateLimits): { breaches: Breach[]; lowTraffic: boolean } {
  const n = stats.new;
  const o = stats.old;
  const breaches: Breach[] = [];
  const enough = n.requests >= l.minRequests;
  const oldEnough = o.requests >= l.minRequests;
  const errorRatio = n.errorRatio ?? 0;
  if (enough && errorRatio > l.maxErrorRatio) {
    breaches.push({
      rule: 'error_ratio',
      value: errorRatio,
      limit: l.maxErrorRatio,
      message: `5xx ratio ${pct(errorRatio)} (${count(n.errors5xx)} of ${count(n.requests)} requests) is over the limit ${pct(l.maxErrorRatio)}`,
    });
  } else if (!enough && n.errors5xx > l.maxErrorRatio * l.minRequests) {
    breaches.push({
      rule: 'error_ratio',
      value: n.errors5xx / l.minRequests,
      limit: l.maxErrorRatio,
      message: `${count(n.errors5xx)} 5xx of only ${count(n.requests)} requests: over ${pct(l.maxErrorRatio)} of ${l.minRequests} even if every further request succeeded`,
    });
  }
  if (enough && oldEnough && o.errorRatio !== null && errorRatio > o.errorRatio + l.maxErrorRatioIncrease) {
    breaches.push({
      rule: 'error_ratio_vs_old',
      value: errorRatio,
      limit: o.errorRatio + l.maxErrorRatioIncrease,
      message: `5xx ratio ${pct(errorRatio)} is over the old version's ${pct(o.errorRatio)} + ${pct(l.maxErrorRatioIncrease)}`,
    });
  }
  if (enough && n.p95Seconds !== null && n.p95Seconds > l.maxP95Seconds) {
    breaches.push({ rule: 'p95', value: n.p95Seconds, limit: l.maxP95Seconds, message: `p95 ${secs(n.p95Seconds)} is over the limit ${secs(l.maxP95Seconds)}` });
  }
  if (enough && oldEnough && n.p95Seconds !== null && o.p95Seconds !== null && n.p95Seconds >= l.p95FloorSeconds && n.p95Seconds > o.p95Seconds * l.maxP95Factor) {
    breaches.push({
      rule: 'p95_vs_old',
      value: n.p95Seconds,
      limit: o.p95Seconds * l.maxP95Factor,
      message: `p95 ${secs(n.p95Seconds)} is over ${l.maxP95Factor}× the old version's ${secs(o.p95Seconds)}`,
    });
  }
  for (const r of n.routes) {
    const over = r.requests >= l.minRouteRequests ? r.errorRatio > l.maxRouteErrorRatio : r.errors5xx > l.maxRouteErrorRatio * l.minRouteRequests;
    if (over) {
      breaches.push({
        rule: 'route_error_ratio',
        value: r.errorRatio,
        limit: l.maxRouteErrorRatio,
        message: `${r.method} ${r.route}: 5xx ratio ${pct(r.errorRatio)} (${count(r.errors5xx)} of ${count(r.requests)}) is over the per-route limit ${pct(l.maxRouteErrorRatio)}`,
      });
    }
  }
  return { breaches, lowTraffic: !enough };
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

function progressLine(e: Evaluation): string {
  const side = (s: VersionStats) =>
    `${count(s.requests)} req, 5xx ${s.errorRatio === null ? '-' : pct(s.errorRatio)}, p95 ${s.p95Seconds === null ? '-' : secs(s.p95Seconds)}, ${s.pods} pods`;
  return `k8s-gate: ${Math.round(e.atS)} s (window ${Math.round(e.windowS)} s): new ${side(e.new)}; old ${side(e.old)}${e.breaches.length ? ` — BREACH: ${e.breaches.map((b) => b.rule).join(', ')}` : ''}`;
}

/** The human report: verdict, reason, both sides' numbers, the limits, each breach. */
export function formatReport(r: GateReport): string {
  const l = r.limits;
  const lines = [
    `k8s-gate: ${r.verdict.toUpperCase()} — ${r.namespace} version ${r.version} after ${r.durationS} s (${r.evaluations} evaluations, ${r.failedEvaluations} failed)`,
    `  ${r.reason}`,
  ];
  const side = (name: string, s: VersionStats) =>
    `  ${name}: ${s.pods} pods${s.versions.length ? ` (${s.versions.join(', ')})` : ''}, ${count(s.requests)} requests, 5xx ${s.errorRatio === null ? '-' : `${pct(s.errorRatio)} (${count(s.errors5xx)})`}, p95 ${s.p95Seconds === null ? '-' : secs(s.p95Seconds)}`;
  if (r.last) {
    lines.push(`  window: ${Math.round(r.last.windowS)} s (lookback + watch)`, side('new', r.last.new), side('old', r.last.old));
    const bad = r.last.new.routes.filter((x) => x.errors5xx > 0).slice(0, 5);
    for (const x of bad) lines.push(`    new ${x.method} ${x.route}: ${count(x.requests)} requests, ${count(x.errors5xx)} 5xx (${pct(x.errorRatio)})`);
  }
  lines.push(
    `  limits: 5xx ≤ ${pct(l.maxErrorRatio)} and ≤ old + ${pct(l.maxErrorRatioIncrease)}; per route ≤ ${pct(l.maxRouteErrorRatio)} (≥ ${l.minRouteRequests} requests); p95 ≤ ${secs(l.maxP95Seconds)} and ≤ ${l.maxP95Factor}× old (when ≥ ${secs(l.p95FloorSeconds)}); judged from ${l.minRequests} requests`,
  );
  for (const b of r.last?.breaches ?? []) lines.push(`  BREACH ${b.rule}: ${b.message}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  if (r.lastError && r.verdict === 'inconclusive') lines.push(`  last error: ${r.lastError}`);
  return lines.join('\n');
}
