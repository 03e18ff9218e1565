/**
 * The gate's rules on one window's numbers, with no I/O: the limits and their defaults, the
 * query answers folded into the new version's and the other versions' figures (`summarise`),
 * and the breaches (`judge`). docs/runbook.md, "Automatic rollback (Kubernetes)".
 */
import type { Sample } from './prometheus.js';

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

export const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
export const secs = (s: number) => `${s.toFixed(3)} s`;
export const count = (n: number) => String(Math.round(n));

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

