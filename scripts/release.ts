/**
 * `npm run release -- --env staging|production [--steps 10,50,100] [--hold-seconds N] [--dry-run]`
 *
 * Uploads the current commit as a new Worker version, smoke-tests it through version
 * overrides, then steps traffic up with a health gate after each step; any failure puts the
 * previous version back at 100%. See docs/runbook.md, "Releasing Workers".
 *
 * Environment: CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (wrangler, and the real-traffic
 * gate's Analytics Engine SQL queries: the token needs Account Analytics Read), SMOKE_EMAIL and
 * SMOKE_PASSWORD (the synthetic customer, `npm run cli -- synthetic-setup`).
 * Exit codes: 0 released; 1 failed (old version at 100%, or nothing changed); 2 failed and
 * the restore failed too (act now); 64 bad arguments.
 */
import { envArg, numberArg, parseArgs } from '../tools/release/args.js';
import { DEFAULT_THRESHOLDS } from '../tools/release/gate.js';
import { metricsDataset } from '../tools/release/analytics-dataset.js';
import { analyticsEngineSource } from '../tools/release/observability.js';
import { systemClock } from '../tools/release/probes.js';
import { runRelease } from '../tools/release/release.js';
import { gitInfo, publishReport, resolveTarget, spawnWrangler } from '../tools/release/runtime.js';
import type { ReleaseReport } from '../tools/release/types.js';

const USAGE = `usage: npm run release -- --env staging|production [--steps 10,50,100] [--hold-seconds 120] [--probes 10]
  [--dry-run] [--base-url https://…] [--report-file release.json] [--no-triggers]
  [--max-error-rate-increase 0.02] [--max-latency-ratio 1.5] [--latency-slack-ms 100]
  [--max-error-ratio 0.01] [--p95-ceiling-ms 1000] [--min-requests 100] [--min-route-requests 30]
  [--min-route-errors 3]
  [--hold-extension-seconds 60] [--max-hold-seconds 600] [--allow-low-traffic]
  [--probe-retries 2] [--max-edge-failure-ratio 0.1]`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(
      process.argv.slice(2),
      ['dry-run', 'no-triggers', 'allow-low-traffic', 'help'],
      [
        'env',
        'steps',
        'hold-seconds',
        'probes',
        'base-url',
        'report-file',
        'max-error-rate-increase',
        'max-latency-ratio',
        'latency-slack-ms',
        'override-timeout-seconds',
        'max-error-ratio',
        'p95-ceiling-ms',
        'min-requests',
        'min-route-requests',
        'min-route-errors',
        'hold-extension-seconds',
        'max-hold-seconds',
        'probe-retries',
        'max-edge-failure-ratio',
      ],
    );
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    const env = envArg(args);
    const steps = String(args.steps ?? '10,50,100')
      .split(',')
      .map((s) => Number(s.trim()));
    const dryRun = args['dry-run'] === true;
    const smoke = { email: process.env.SMOKE_EMAIL ?? '', password: process.env.SMOKE_PASSWORD ?? '' };
    if (!dryRun && (!smoke.email || !smoke.password)) throw new Error('SMOKE_EMAIL and SMOKE_PASSWORD must be set (the smoke account; see docs/runbook.md)');
    const target = await resolveTarget(env, typeof args['base-url'] === 'string' ? args['base-url'] : undefined);
    // Ctrl-C or a cancelled CI job: stop at the next step and put the old version back.
    const abort = new AbortController();
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        console.error(`[release] ${sig}: stopping; the old version will be restored`);
        abort.abort();
      });
    }
    const token = process.env.CLOUDFLARE_API_TOKEN;
    const account = process.env.CLOUDFLARE_ACCOUNT_ID;
    const dataset = await metricsDataset(env);
    const holdSeconds = numberArg(args, 'hold-seconds', env === 'production' ? 120 : 30);
    const report: ReleaseReport = await runRelease(
      {
        target,
        steps,
        holdSeconds,
        dryRun,
        git: gitInfo(),
        smoke,
        probeRounds: numberArg(args, 'probes', 10),
        thresholds: {
          ...DEFAULT_THRESHOLDS,
          maxErrorRateIncrease: numberArg(args, 'max-error-rate-increase', DEFAULT_THRESHOLDS.maxErrorRateIncrease),
          maxLatencyRatio: numberArg(args, 'max-latency-ratio', DEFAULT_THRESHOLDS.maxLatencyRatio),
          latencySlackMs: numberArg(args, 'latency-slack-ms', DEFAULT_THRESHOLDS.latencySlackMs),
          maxErrorRatio: numberArg(args, 'max-error-ratio', DEFAULT_THRESHOLDS.maxErrorRatio),
          p95CeilingMs: numberArg(args, 'p95-ceiling-ms', DEFAULT_THRESHOLDS.p95CeilingMs),
          minRequests: numberArg(args, 'min-requests', DEFAULT_THRESHOLDS.minRequests),
          minRouteRequests: numberArg(args, 'min-route-requests', DEFAULT_THRESHOLDS.minRouteRequests),
          minRouteErrors: numberArg(args, 'min-route-errors', DEFAULT_THRESHOLDS.minRouteErrors),
          holdExtensionSeconds: numberArg(args, 'hold-extension-seconds', DEFAULT_THRESHOLDS.holdExtensionSeconds),
          // Never shorter than the hold itself.
          maxHoldSeconds: Math.max(holdSeconds, numberArg(args, 'max-hold-seconds', DEFAULT_THRESHOLDS.maxHoldSeconds)),
          allowLowTraffic: args['allow-low-traffic'] === true,
          probeRetries: numberArg(args, 'probe-retries', DEFAULT_THRESHOLDS.probeRetries),
          maxEdgeFailureRatio: numberArg(args, 'max-edge-failure-ratio', DEFAULT_THRESHOLDS.maxEdgeFailureRatio),
        },
        overrideTimeoutSeconds: numberArg(args, 'override-timeout-seconds', 60),
        deployTriggers: args['no-triggers'] !== true,
      },
      {
        run: spawnWrangler,
        fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }),
        clock: systemClock,
        observability:
          token && account && dataset
            ? analyticsEngineSource({ accountId: account, apiToken: token, dataset, fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(30_000) }), apiBase: process.env.CLOUDFLARE_API_BASE_URL })
            : undefined,
        log: (line) => console.error(`[release] ${line}`),
        signal: abort.signal,
      },
    );
    publishReport(report, typeof args['report-file'] === 'string' ? args['report-file'] : undefined);
    return report.exitCode;
  } catch (err) {
    console.error(`release: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 64;
  }
}

process.exit(await main());
