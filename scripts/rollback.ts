/**
 * `npm run rollback -- --env staging|production [--to VERSION] --reason "…"`
 *
 * Wraps `wrangler rollback [VERSION] -y --message REASON --env ENV`: without --to, wrangler picks the
 * most recent earlier deployment that had a version at 100%. Then checks the deployment and
 * that the edge serves the target, and prints the same report as a release. It rolls back
 * code only: never the database schema or secrets (docs/runbook.md, "Rolling back").
 * `--env` is required (no default: a forgotten flag must not roll production back).
 * Exit codes: 0 rolled back and verified; 1 failed; 64 bad arguments (usage printed).
 */
import { envArg, numberArg, parseArgs } from '../tools/release/args.js';
import { systemClock } from '../tools/release/probes.js';
import { runRollback } from '../tools/release/rollback.js';
import { publishReport, resolveTarget, spawnWrangler } from '../tools/release/runtime.js';

const USAGE = 'usage: npm run rollback -- --env staging|production --reason "…" [--to VERSION_ID] [--base-url https://…] [--report-file f.json]';

async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2), ['help'], ['to', 'reason', 'env', 'base-url', 'report-file', 'verify-timeout-seconds']);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    const env = envArg(args);
    const target = await resolveTarget(env, typeof args['base-url'] === 'string' ? args['base-url'] : undefined);
    console.error(`[rollback] ${target.workerName} (${env})`);
    const report = await runRollback(
      {
        target,
        to: typeof args.to === 'string' ? args.to : undefined,
        reason: typeof args.reason === 'string' ? args.reason : '',
        verifyTimeoutSeconds: numberArg(args, 'verify-timeout-seconds', 60),
      },
      {
        run: spawnWrangler,
        fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }),
        clock: systemClock,
        log: (line) => console.error(`[rollback] ${line}`),
      },
    );
    publishReport(report, typeof args['report-file'] === 'string' ? args['report-file'] : undefined);
    return report.exitCode;
  } catch (err) {
    console.error(`rollback: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 64;
  }
}

process.exit(await main());
