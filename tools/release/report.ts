/** The human-readable report of a release or rollback, as printed and written to the job summary. */
import type { Outcome, ReleaseReport } from './types.js';

export function formatReport(r: ReleaseReport): string {
  const lines: string[] = [];
  const headline: Record<Outcome, string> = {
    released: r.exitCode === 0 ? 'RELEASED' : 'RELEASED WITH WARNINGS',
    rolled_back: r.kind === 'rollback' ? 'ROLLED BACK' : `FAILED, old version ${r.oldVersion} restored to 100%`,
    failed: r.maxTrafficPercent > 0 || r.kind === 'rollback' ? 'FAILED' : 'FAILED before any traffic moved',
    dry_run: 'DRY RUN (nothing changed)',
    restore_failed: `FAILED AND THE RESTORE FAILED: traffic may still reach ${r.newVersion}; act now (see below)`,
  };
  lines.push(`${r.kind} ${r.workerName} (${r.env})${r.sha ? ` ${r.sha.slice(0, 12)}` : ''}: ${headline[r.outcome]}`);
  if (r.kind === 'release') lines.push(`  old version: ${r.oldVersion ?? '?'}   new version: ${r.newVersion ?? '-'}   max traffic to new: ${r.maxTrafficPercent}%`);
  else lines.push(`  before: ${r.oldVersion ?? '?'}   now at 100%: ${r.newVersion ?? '?'}`);
  for (const p of r.phases) {
    lines.push(`  ${p.ok ? 'ok  ' : 'FAIL'} ${p.name}${p.detail ? `: ${p.detail}` : ''}`);
    for (const c of p.checks ?? []) lines.push(`         ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  }
  if (r.failure) {
    lines.push(`  failed at ${r.failure.phase}${r.failure.step !== undefined ? ` (step ${r.failure.step}%)` : ''}, check ${r.failure.check}: ${r.failure.detail}`);
  }
  if (r.restore) lines.push(`  restore: ${r.restore.ok ? 'ok' : 'FAILED'}: ${r.restore.command}${r.restore.detail ? ` (${r.restore.detail})` : ''}`);
  if (r.outcome === 'restore_failed') lines.push(`  run: npm run rollback -- --env ${r.env} --to ${r.oldVersion} --reason "release failed, restore failed"`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  // Not the version's failures: probes that never reached the Worker (retried, then reported).
  if (r.edgeErrors?.length) {
    lines.push(`  edge errors (not counted against either version): ${r.edgeErrors.length}`);
    for (const e of r.edgeErrors.slice(0, 10)) lines.push(`    ${e}`);
    if (r.edgeErrors.length > 10) lines.push(`    … ${r.edgeErrors.length - 10} more in the JSON report`);
  }
  for (const p of r.plan ?? []) lines.push(`  plan: ${p}`);
  lines.push(`  exit code ${r.exitCode}`);
  return lines.join('\n');
}
