/** The gate's human report (the JSON one is the GateReport itself). */
import type { GateReport } from './gate.js';
import { count, pct, secs, type VersionStats } from './rules.js';

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

