/**
 * The gate after each traffic step, two sources:
 *
 * - **Real traffic** (Workers Analytics Engine, `observability.ts`): per route with at least
 *   `minRouteRequests` requests for the new version, and for the version overall, the 5xx ratio
 *   and p95 must stay within absolute limits (`maxErrorRatio`, `p95CeilingMs` /
 *   `routeP95CeilingMs`) and, where the old version served enough of that route in the same
 *   window, within the old version's numbers (+ `maxErrorRateIncrease`, × `maxLatencyRatio` +
 *   `latencySlackMs`). The new version needs `minRequests` in the window to be judged at all:
 *   the release extends the hold until it has them (`trafficVerdict` answers "too few").
 * - **Probes** sent to both versions through overrides, alternating: error rate, p95, routing,
 *   and how many probes never reached the Worker (edge errors; too many = inconclusive = fail).
 *
 * Every failing check names its route and numbers. Defaults in `DEFAULT_THRESHOLDS`, documented in
 * docs/runbook.md, "Releasing Workers".
 */
import { misrouted, type Prober } from './probes.js';
import type { CheckResult, GateThresholds, ReleaseOptions, RouteStats, VersionStats, VersionTraffic } from './types.js';

export const DEFAULT_THRESHOLDS: GateThresholds = {
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  latencySlackMs: 100,
  maxErrorRatio: 0.01,
  p95CeilingMs: 1000,
  // Password hashing and the order's single write statement are the slow paths by design.
  routeP95CeilingMs: { 'POST /v1/auth/login': 1500, 'POST /v1/auth/register': 1500, 'POST /v1/orders': 2000 },
  minRequests: 100,
  minRouteRequests: 30,
  minRouteErrors: 3,
  holdExtensionSeconds: 60,
  maxHoldSeconds: 600,
  allowLowTraffic: false,
  maxEdgeFailureRatio: 0.1,
  probeRetries: 2,
};

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function statsOf(samples: { ok: boolean; ms: number }[]): VersionStats {
  const errors = samples.filter((s) => !s.ok).length;
  return {
    requests: samples.length,
    errors,
    errorRate: samples.length === 0 ? 0 : errors / samples.length,
    p95Ms: Math.round(percentile(samples.map((s) => s.ms), 95) * 10) / 10,
  };
}

/** Compares a new version with the old one (probes); every failing check names its numbers. */
export function compareVersions(source: string, oldStats: VersionStats, newStats: VersionStats, t: GateThresholds): CheckResult[] {
  const errorLimit = oldStats.errorRate + t.maxErrorRateIncrease;
  const latencyLimit = Math.round((oldStats.p95Ms * t.maxLatencyRatio + t.latencySlackMs) * 10) / 10;
  return [
    {
      name: `error_rate (${source})`,
      ok: newStats.errorRate <= errorLimit + 1e-9,
      detail: `new ${pct(newStats.errorRate)} (${newStats.errors}/${newStats.requests}) vs old ${pct(oldStats.errorRate)} (${oldStats.errors}/${oldStats.requests}), limit ${pct(errorLimit)}`,
      numbers: {
        newErrorRate: newStats.errorRate,
        oldErrorRate: oldStats.errorRate,
        limit: errorLimit,
        newRequests: newStats.requests,
        oldRequests: oldStats.requests,
      },
    },
    {
      name: `latency_p95 (${source})`,
      ok: newStats.p95Ms <= latencyLimit,
      detail: `new p95 ${newStats.p95Ms} ms vs old p95 ${oldStats.p95Ms} ms, limit ${latencyLimit} ms`,
      numbers: { newP95Ms: newStats.p95Ms, oldP95Ms: oldStats.p95Ms, limitMs: latencyLimit },
    },
  ];
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * One route (or "all") of the new version against the absolute limits and, when the old
 * version served at least `minRouteRequests` of it in the same window, against the old one.
 * The limit is the stricter of the two.
 */
export function judgeRoute(source: string, n: RouteStats, o: RouteStats | undefined, t: GateThresholds): CheckResult[] {
  const comparable = o !== undefined && o.requests >= t.minRouteRequests;
  const ratioLimit = comparable ? Math.min(t.maxErrorRatio, o.errorRatio + t.maxErrorRateIncrease) : t.maxErrorRatio;
  const ceiling = t.routeP95CeilingMs[n.route] ?? t.p95CeilingMs;
  const p95Limit = comparable ? Math.min(ceiling, round(o.p95Ms * t.maxLatencyRatio + t.latencySlackMs)) : ceiling;
  const old = comparable ? ` vs old ${pct(o.errorRatio)} (${o.errors5xx}/${o.requests})` : o ? ` (old: ${o.requests} requests, too few to compare)` : ' (old: none)';
  const oldP95 = comparable ? ` vs old ${o.p95Ms} ms` : '';
  const where = n.route === 'all' ? 'all routes' : n.route;
  return [
    {
      name: `5xx_ratio (${source}) ${where}`,
      ok: n.errorRatio <= ratioLimit + 1e-9,
      detail: `${where}: new ${pct(n.errorRatio)} 5xx (${n.errors5xx}/${n.requests})${old}, limit ${pct(ratioLimit)}`,
      numbers: { route: where, newRequests: n.requests, new5xx: n.errors5xx, newRatio: n.errorRatio, ...(comparable ? { oldRequests: o.requests, old5xx: o.errors5xx, oldRatio: o.errorRatio } : {}), limit: ratioLimit },
    },
    {
      name: `latency_p95 (${source}) ${where}`,
      ok: n.p95Ms <= p95Limit,
      detail: `${where}: new p95 ${n.p95Ms} ms${oldP95} over ${n.requests} requests, limit ${p95Limit} ms`,
      numbers: { route: where, newP95Ms: n.p95Ms, ...(comparable ? { oldP95Ms: o.p95Ms } : {}), limitMs: p95Limit, newRequests: n.requests },
    },
  ];
}

export type TrafficVerdict = { kind: 'too_few'; requests: number } | { kind: 'judged'; checks: CheckResult[] };

/**
 * Real traffic in the hold window. Too few requests for the new version: `too_few` (the release
 * extends the hold). Otherwise route checks first (failing ones name the route), then a summary
 * of the routes judged, then the version overall.
 */
export function trafficVerdict(source: string, oldT: VersionTraffic, newT: VersionTraffic, t: GateThresholds): TrafficVerdict {
  if (newT.overall.requests < t.minRequests) return { kind: 'too_few', requests: newT.overall.requests };
  const oldByRoute = new Map(oldT.routes.map((r) => [r.route, r]));
  const judged = newT.routes.filter((r) => r.requests >= t.minRouteRequests);
  const routeChecks = judged.flatMap((r) => judgeRoute(source, r, oldByRoute.get(r.route), t));
  // Quieter routes: too few requests for a ratio, but several 5xx on a route the old version
  // does not fail as often is a failure, not noise (a rare route that always fails).
  const quiet = newT.routes.filter((r) => r.requests < t.minRouteRequests);
  const quietChecks = quiet.flatMap((r) => {
    const o = oldByRoute.get(r.route);
    const limit = o && o.requests > 0 ? Math.max(t.maxErrorRatio, o.errorRatio + t.maxErrorRateIncrease) : t.maxErrorRatio;
    if (r.errors5xx < t.minRouteErrors || r.errorRatio <= limit + 1e-9) return [];
    const oldText = o ? ` vs old ${pct(o.errorRatio)} (${o.errors5xx}/${o.requests})` : ' (old: none)';
    return [
      {
        name: `5xx_ratio (${source}) ${r.route}`,
        ok: false,
        detail: `${r.route}: new ${pct(r.errorRatio)} 5xx (${r.errors5xx}/${r.requests})${oldText}, limit ${pct(limit)}; fewer than ${t.minRouteRequests} requests, but ${r.errors5xx} 5xx (≥ ${t.minRouteErrors}) is not noise`,
        numbers: { route: r.route, newRequests: r.requests, new5xx: r.errors5xx, newRatio: r.errorRatio, ...(o ? { oldRequests: o.requests, old5xx: o.errors5xx, oldRatio: o.errorRatio } : {}), limit, minRouteErrors: t.minRouteErrors },
      } satisfies CheckResult,
    ];
  });
  const failing = [...routeChecks.filter((c) => !c.ok), ...quietChecks];
  const skipped = quiet.length;
  return {
    kind: 'judged',
    checks: [
      ...failing,
      {
        name: `routes (${source})`,
        ok: failing.length === 0,
        detail: `${judged.length} routes with ≥ ${t.minRouteRequests} requests judged${failing.length ? `, ${failing.length} checks failed` : ', all within limits'}${skipped ? `; ${skipped} quieter routes count in the total (and fail on ≥ ${t.minRouteErrors} 5xx over the limit)` : ''}`,
        numbers: { judged: judged.length, failed: failing.length, skipped },
      },
      ...judgeRoute(source, newT.overall, oldT.overall, t),
    ],
  };
}

type Samples = { samples: { ok: boolean; ms: number }[]; misrouted: number; edgeOnly: number; total: number };

/**
 * Sequential on purpose: the gate should not load the service itself, and alternating the
 * two versions round by round exposes both to the same conditions. Each probe is retried
 * (bounded) before it counts; one that never reached the Worker counts as an edge error.
 */
async function probeBoth(prober: Prober, rounds: number, retries: number, versions: [string, string | undefined][], edgeErrors: string[]): Promise<Samples[]> {
  const results: Samples[] = versions.map(() => ({ samples: [], misrouted: 0, edgeOnly: 0, total: 0 }));
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? versions.map((_, k) => k) : versions.map((_, k) => versions.length - 1 - k);
    for (const k of order) {
      const [versionId, token] = versions[k]!;
      for (const path of ['/healthz', '/readyz', '/v1/services', '/v1/me']) {
        const r = await prober.attempt(versionId, path, path === '/v1/me' ? { token } : {}, retries, (p) => p.status === 200 && !misrouted(p, versionId));
        edgeErrors.push(...r.edgeErrors.map((e) => `${versionId.slice(0, 8)} ${e}`));
        const res = results[k]!;
        res.total++;
        if (r.probe.edge) res.edgeOnly++;
        else if (misrouted(r.probe, versionId)) res.misrouted++;
        else res.samples.push({ ok: r.probe.status === 200, ms: r.probe.ms });
      }
    }
  }
  return results;
}

async function loginToken(prober: Prober, versionId: string, account: { email: string; password: string }, retries: number, edgeErrors: string[]) {
  const r = await prober.attempt(versionId, '/v1/auth/login', { method: 'POST', body: account }, retries, (p) => p.status === 200);
  edgeErrors.push(...r.edgeErrors.map((e) => `${versionId.slice(0, 8)} ${e}`));
  const token = typeof r.probe.body === 'object' && r.probe.body !== null ? (r.probe.body as { accessToken?: unknown }).accessToken : undefined;
  return typeof token === 'string' ? token : undefined;
}

/** The probe half of the gate: routing, error rate, p95, and edge errors (inconclusive → fail). */
export async function probeGate(prober: Prober, opts: ReleaseOptions, oldVersion: string, newVersion: string, edgeErrors: string[]): Promise<CheckResult[]> {
  const retries = opts.thresholds.probeRetries;
  // A failed login shows up as 401s on /v1/me, which count as errors for that version.
  const oldToken = await loginToken(prober, oldVersion, opts.smoke, retries, edgeErrors);
  const newToken = await loginToken(prober, newVersion, opts.smoke, retries, edgeErrors);
  const [oldProbes, newProbes] = (await probeBoth(prober, opts.probeRounds, retries, [
    [oldVersion, oldToken],
    [newVersion, newToken],
  ], edgeErrors)) as [Samples, Samples];
  const checks: CheckResult[] = [];
  const edgeOnly = oldProbes.edgeOnly + newProbes.edgeOnly;
  const total = oldProbes.total + newProbes.total;
  const edgeLimit = opts.thresholds.maxEdgeFailureRatio;
  checks.push({
    name: 'edge (probes)',
    ok: edgeOnly / total <= edgeLimit + 1e-9,
    detail:
      edgeOnly === 0
        ? 'every probe reached the Worker'
        : `${edgeOnly}/${total} probes never reached the Worker after retries (network or Cloudflare edge; not counted against either version)${edgeOnly / total > edgeLimit ? `: more than ${pct(edgeLimit)}, the gate is inconclusive` : ''}`,
    numbers: { edgeOnly, total, limit: edgeLimit },
  });
  const totalMisrouted = oldProbes.misrouted + newProbes.misrouted;
  checks.push({
    name: 'routing (probes)',
    ok: totalMisrouted === 0,
    detail: totalMisrouted === 0 ? 'every probe reached the version it asked for' : `${totalMisrouted} probes were answered by another version than the override asked for`,
    numbers: { misroutedOld: oldProbes.misrouted, misroutedNew: newProbes.misrouted },
  });
  checks.push(...compareVersions('probes', statsOf(oldProbes.samples), statsOf(newProbes.samples), opts.thresholds));
  return checks;
}
