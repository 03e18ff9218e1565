/**
 * The gate after each traffic step: the new version's error rate and p95 latency against the
 * old one's, from probes sent to both through overrides and, when a source is configured,
 * from Workers observability. Thresholds in `GateThresholds` (defaults below).
 */
import { misrouted, type Prober } from './probes.js';
import type { CheckResult, GateThresholds, ObservabilitySource, ReleaseOptions, VersionStats } from './types.js';

export const DEFAULT_THRESHOLDS: GateThresholds = {
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  latencySlackMs: 100,
  minObservabilityRequests: 50,
};

/** What the release uses when no API token is configured: nothing. */
export const noObservability: ObservabilitySource = { name: 'none', stats: async () => undefined };

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

/** Compares a new version with the old one; every failing check names its numbers. */
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

type Samples = { samples: { ok: boolean; ms: number }[]; misrouted: number };

/**
 * Sequential on purpose: the gate should not load the service itself, and alternating the
 * two versions round by round exposes both to the same conditions.
 */
async function probeBoth(prober: Prober, rounds: number, versions: [string, string | undefined][]): Promise<Samples[]> {
  const results: Samples[] = versions.map(() => ({ samples: [], misrouted: 0 }));
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? versions.map((_, k) => k) : versions.map((_, k) => versions.length - 1 - k);
    for (const k of order) {
      const [versionId, token] = versions[k]!;
      for (const path of ['/healthz', '/readyz', '/v1/services', '/v1/me']) {
        const p = await prober.request(versionId, path, path === '/v1/me' ? { token } : {});
        if (misrouted(p, versionId)) results[k]!.misrouted++;
        else results[k]!.samples.push({ ok: p.status === 200, ms: p.ms });
      }
    }
  }
  return results;
}

async function loginToken(prober: Prober, versionId: string, account: { email: string; password: string }) {
  const res = await prober.request(versionId, '/v1/auth/login', { method: 'POST', body: account });
  const token = typeof res.body === 'object' && res.body !== null ? (res.body as { accessToken?: unknown }).accessToken : undefined;
  return typeof token === 'string' ? token : undefined;
}

export async function gate(
  prober: Prober,
  observability: ObservabilitySource,
  opts: ReleaseOptions,
  oldVersion: string,
  newVersion: string,
  fromMs: number,
  toMs: number,
  warnings: string[],
): Promise<CheckResult[]> {
  // A failed login shows up as 401s on /v1/me, which count as errors for that version.
  const oldToken = await loginToken(prober, oldVersion, opts.smoke);
  const newToken = await loginToken(prober, newVersion, opts.smoke);
  const [oldProbes, newProbes] = (await probeBoth(prober, opts.probeRounds, [
    [oldVersion, oldToken],
    [newVersion, newToken],
  ])) as [Samples, Samples];
  const checks: CheckResult[] = [];
  const totalMisrouted = oldProbes.misrouted + newProbes.misrouted;
  checks.push({
    name: 'routing (probes)',
    ok: totalMisrouted === 0,
    detail: totalMisrouted === 0 ? 'every probe reached the version it asked for' : `${totalMisrouted} probes were answered by another version than the override asked for`,
    numbers: { misroutedOld: oldProbes.misrouted, misroutedNew: newProbes.misrouted },
  });
  checks.push(...compareVersions('probes', statsOf(oldProbes.samples), statsOf(newProbes.samples), opts.thresholds));

  if (observability.name !== 'none') {
    try {
      const [o, n] = await Promise.all([
        observability.stats({ workerName: opts.target.workerName, versionId: oldVersion, fromMs, toMs }),
        observability.stats({ workerName: opts.target.workerName, versionId: newVersion, fromMs, toMs }),
      ]);
      const min = opts.thresholds.minObservabilityRequests;
      if (o && n && o.requests >= min && n.requests >= min) {
        checks.push(...compareVersions(observability.name, o, n, opts.thresholds));
      } else {
        warnings.push(`${observability.name}: too few requests to compare (old ${o?.requests ?? 0}, new ${n?.requests ?? 0}; need ${min} each)`);
      }
    } catch (err) {
      warnings.push(`${observability.name}: query failed (${err instanceof Error ? err.message : String(err)}); gated on probes only`);
    }
  }
  return checks;
}
