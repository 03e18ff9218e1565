/**
 * `wrangler rollback` with checks around it: a reason is required (it becomes the deployment
 * message), the deployment status is read before and after, and the edge is polled until
 * `/readyz` is served by the target version. Code only: never the schema or secrets
 * (docs/runbook.md, "Rolling back").
 */
import { systemClock } from './probes.js';
import type { ReleaseDeps, ReleaseReport, ReleaseTarget } from './types.js';
import { UUID, lastLines, parseDeploymentStatus, shortMessage } from './wrangler.js';

export interface RollbackOptions {
  target: ReleaseTarget;
  to?: string;
  reason: string;
  /** How long to wait for the edge to serve the target version. */
  verifyTimeoutSeconds: number;
}

export async function runRollback(opts: RollbackOptions, deps: ReleaseDeps): Promise<ReleaseReport> {
  const { target } = opts;
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? (() => {});
  const report: ReleaseReport = {
    kind: 'rollback',
    env: target.env,
    workerName: target.workerName,
    outcome: 'failed',
    exitCode: 1,
    maxTrafficPercent: 0,
    phases: [],
    warnings: [],
  };
  if (!opts.reason.trim()) {
    report.failure = { phase: 'preflight', check: 'reason', detail: '--reason is required: it is recorded as the deployment message' };
    report.exitCode = 64;
    return report;
  }
  if (opts.to !== undefined && !new RegExp(`^${UUID.source}$`).test(opts.to)) {
    report.failure = { phase: 'preflight', check: '--to', detail: `${opts.to} is not a version id (a UUID)` };
    report.exitCode = 64;
    return report;
  }

  const status = async () => {
    const res = await deps.run(['deployments', 'status', '--env', target.env, '--json']);
    return res.code === 0 ? parseDeploymentStatus(res.stdout) : undefined;
  };
  const before = await status();
  if (before) {
    report.oldVersion = before.map((v) => `${v.version_id}@${v.percentage}%`).join(' ');
    report.phases.push({ name: 'before', ok: true, detail: report.oldVersion });
  } else {
    report.warnings.push('could not read the current deployment before rolling back');
  }

  const args = ['rollback', ...(opts.to ? [opts.to] : []), '-y', '--message', shortMessage(opts.reason, 120), '--env', target.env];
  log(`$ wrangler ${args.join(' ')}`);
  const result = await deps.run(args);
  const output = `${result.stdout}\n${result.stderr}`;
  if (/secrets have changed/i.test(output)) {
    report.warnings.push('secrets changed since the target version was deployed; wrangler rolled back anyway (the Worker now runs old code with the current secrets)');
  }
  if (result.code !== 0) {
    report.failure = { phase: 'rollback', check: 'wrangler rollback', detail: `exit code ${result.code}: ${lastLines(result.stderr || result.stdout)}`, numbers: { exitCode: result.code } };
    report.phases.push({ name: 'rollback', ok: false });
    return report;
  }
  const target100 = /Worker Version (\S+) has been deployed to 100% of traffic/.exec(output)?.[1] ?? opts.to;
  report.newVersion = target100;
  report.maxTrafficPercent = 100;
  report.phases.push({ name: 'rollback', ok: true, detail: `${target100 ?? 'previous stable version'} at 100%` });

  const after = await status();
  if (after && target100) {
    const ok = after.some((v) => v.version_id === target100 && v.percentage === 100);
    report.phases.push({ name: 'deployment status', ok, detail: after.map((v) => `${v.version_id}@${v.percentage}%`).join(' ') });
    if (!ok) {
      report.failure = { phase: 'verify', check: 'deployment status', detail: `${target100} is not at 100% after the rollback` };
      return report;
    }
  }

  // The edge takes a few seconds: poll until plain requests are served by the target.
  const deadline = clock.now() + opts.verifyTimeoutSeconds * 1000;
  let last: string;
  for (;;) {
    try {
      const res = await deps.fetch(`${target.baseUrl}/readyz`, { headers: { 'User-Agent': 'laundry-release-tool' } });
      const servedBy = res.headers.get('x-app-version');
      last = `HTTP ${res.status} from ${servedBy ?? 'unknown version'}`;
      if (res.status === 200 && (!target100 || servedBy === null || servedBy === target100)) {
        report.phases.push({ name: 'verify', ok: true, detail: last });
        report.outcome = 'rolled_back';
        report.exitCode = 0;
        return report;
      }
    } catch (err) {
      last = `network error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (clock.now() >= deadline) break;
    await clock.sleep(2000);
  }
  report.phases.push({ name: 'verify', ok: false, detail: last });
  report.failure = { phase: 'verify', check: 'GET /readyz', detail: `after ${opts.verifyTimeoutSeconds}s: ${last}` };
  return report;
}
