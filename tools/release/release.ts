/**
 * Gradual Worker releases and rollbacks, as pure orchestration: every side effect arrives
 * injected (a wrangler `CommandRunner`, `fetch`, a clock, an observability source), so the
 * tests drive it with recorded fakes and no network. `scripts/release.ts` and
 * `scripts/rollback.ts` wire the real ones.
 *
 * A release (docs/runbook.md, "Releasing Workers"):
 *   1. read the current deployment: it must be one version at 100% (the "old" version);
 *   2. `wrangler versions upload --env <env> --tag <sha> --message "<sha> <subject>"` (no traffic);
 *   3. `wrangler versions deploy new@0 old@100 --env <env>`: the new version joins the deployment with
 *      no traffic, because a `Cloudflare-Workers-Version-Overrides` header only reaches a
 *      version that is part of the current deployment (0% counts). A deployment holds at
 *      most two versions, so this is the smallest split that lets us test the new one;
 *   4. smoke-test the new version through the override header: health, readiness, catalog,
 *      login, /v1/me, and placing and cancelling a pay-on-delivery order for the synthetic customer;
 *   5. for each step P: `wrangler versions deploy new@P old@(100-P) --env <env>`, hold, then a gate on
 *      real traffic (Workers Analytics Engine: 5xx ratio and p95 per route and overall, against
 *      absolute limits and the old version; too few requests extends the hold, in steps, up to
 *      a maximum) and on probes sent to each version through overrides;
 *   6. any failure puts the old version back at 100% and the report says which step, which
 *      check and what numbers.
 */
import { probeGate, trafficVerdict } from './gate.js';
import { Failure, OVERRIDE_HEADER, Prober, smokeTest, systemClock, truncate, waitForOverride } from './probes.js';
import type { CheckResult, CommandResult, CommandRunner, EnvName, ReleaseDeps, ReleaseOptions, ReleaseReport } from './types.js';
import { deployArgs, lastLines, parseDeploymentStatus, parseUploadedVersionId, shortMessage } from './wrangler.js';

export function validateSteps(steps: number[]): string | undefined {
  if (steps.length === 0) return 'at least one step is needed';
  for (const s of steps) if (!Number.isInteger(s) || s < 1 || s > 100) return `step ${s} is not an integer between 1 and 100`;
  for (let i = 1; i < steps.length; i++) if (steps[i]! <= steps[i - 1]!) return 'steps must increase';
  if (steps.at(-1) !== 100) return 'the last step must be 100';
  return undefined;
}

export async function runRelease(opts: ReleaseOptions, deps: ReleaseDeps): Promise<ReleaseReport> {
  const { target } = opts;
  const clock = deps.clock ?? systemClock;
  const wallClock = deps.wallClock ?? Date.now;
  const observability = deps.observability;
  const log = deps.log ?? (() => {});
  const prober = new Prober(target, deps.fetch, clock);
  const sha12 = opts.git.sha.slice(0, 12);
  const report: ReleaseReport = {
    kind: 'release',
    env: target.env,
    workerName: target.workerName,
    sha: opts.git.sha,
    outcome: 'failed',
    exitCode: 1,
    maxTrafficPercent: 0,
    phases: [],
    warnings: [],
  };

  const wrangler = async (phase: string, args: string[], step?: number): Promise<CommandResult> => {
    log(`$ wrangler ${args.join(' ')}`);
    const result = await deps.run(args);
    if (result.code !== 0) {
      throw new Failure(phase, `wrangler ${args.slice(0, 2).join(' ')}`, `exit code ${result.code}: ${lastLines(result.stderr || result.stdout)}`, { exitCode: result.code }, step);
    }
    return result;
  };

  const stepError =
    validateSteps(opts.steps) ?? (Number.isInteger(opts.probeRounds) && opts.probeRounds >= 1 ? undefined : 'probes must be a whole number of rounds, at least 1');
  if (stepError) {
    report.failure = { phase: 'preflight', check: 'steps', detail: stepError };
    report.exitCode = 64;
    return report;
  }

  // 1. The current deployment: one version at 100%, which we can always go back to.
  let oldVersion: string;
  try {
    const status = await wrangler('preflight', ['deployments', 'status', '--env', target.env, '--json']);
    const versions = parseDeploymentStatus(status.stdout);
    if (!versions) throw new Failure('preflight', 'current deployment', `could not read \`wrangler deployments status --env ${target.env} --json\`: ${truncate(status.stdout)}`);
    const stable = versions.find((v) => v.percentage === 100);
    if (!stable) {
      const split = versions.map((v) => `${v.version_id}@${v.percentage}%`).join(', ');
      throw new Failure(
        'preflight',
        'current deployment',
        `traffic is split (${split}): another release is in progress or was interrupted. Finish it, or run \`npm run rollback -- --env ${target.env} --to <version> --reason …\` first.`,
      );
    }
    oldVersion = stable.version_id;
    report.oldVersion = oldVersion;
    report.phases.push({ name: 'preflight', ok: true, detail: `current version ${oldVersion} at 100%` });
  } catch (err) {
    return fail(report, err, log);
  }

  const message = shortMessage(`${opts.git.sha} ${opts.git.subject}`);
  if (opts.dryRun) {
    const NEW = '<new-version>';
    report.plan = [
      `wrangler versions upload --env ${target.env} --tag ${opts.git.sha} --message "${message}"`,
      `wrangler ${deployArgs(target.env, [[NEW, 0], [oldVersion, 100]], `…`).join(' ')}`,
      `smoke: GET /healthz, /readyz, /v1/services, POST /v1/auth/login, GET /v1/me, /v1/addresses, /v1/slots, POST /v1/orders, POST /v1/orders/{id}/cancel with ${OVERRIDE_HEADER}: ${target.workerName}="${NEW}" on ${target.baseUrl}`,
      ...opts.steps.flatMap((p) => [
        `wrangler ${deployArgs(target.env, [[NEW, p], [oldVersion, 100 - p]], `…`).join(' ')}`,
        `hold ${opts.holdSeconds}s (extended by ${opts.thresholds.holdExtensionSeconds}s up to ${opts.thresholds.maxHoldSeconds}s while the new version has < ${opts.thresholds.minRequests} requests), then gate: ${observability ? `${observability.name} 5xx ≤ ${(opts.thresholds.maxErrorRatio * 100).toFixed(1)}% and p95 per route and overall, vs ${oldVersion}; ` : ''}${opts.probeRounds} probe rounds per version`,
      ]),
      ...(opts.deployTriggers ? [`wrangler triggers deploy --env ${target.env}`] : []),
      `on any failure: wrangler ${deployArgs(target.env, [[oldVersion, 100]], '…').join(' ')}`,
    ];
    report.outcome = 'dry_run';
    report.exitCode = 0;
    return report;
  }

  // 2. Upload: a version with no traffic.
  let newVersion: string;
  try {
    const upload = await wrangler('upload', ['versions', 'upload', '--env', target.env, '--tag', opts.git.sha, '--message', message]);
    const id = parseUploadedVersionId(upload.stdout) ?? parseUploadedVersionId(upload.stderr);
    if (!id) throw new Failure('upload', 'version id', `no "Worker Version ID: <uuid>" in wrangler's output: ${truncate(lastLines(upload.stdout))}`);
    newVersion = id;
    report.newVersion = newVersion;
    report.phases.push({ name: 'upload', ok: true, detail: `uploaded ${newVersion}` });
    if (!observability) report.warnings.push('no real-traffic source (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and an Analytics Engine dataset): gated on probes only');
  } catch (err) {
    return fail(report, err, log);
  }

  const deploySplit = async (phase: string, percent: number, step?: number) => {
    const split: [string, number][] = [
      [newVersion, percent],
      [oldVersion, 100 - percent],
    ];
    await wrangler(phase, deployArgs(target.env, split, shortMessage(`release ${sha12}: ${newVersion} at ${percent}%`)), step);
    report.maxTrafficPercent = Math.max(report.maxTrafficPercent, percent);
  };

  const interrupted = (phase: string, step?: number) => {
    if (deps.signal?.aborted) throw new Failure(phase, 'interrupted', 'the release was interrupted (SIGINT/SIGTERM or a cancelled job)', undefined, step);
  };
  /** The hold, cut short by an abort. */
  const hold = (ms: number) =>
    new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      deps.signal?.addEventListener('abort', onAbort, { once: true });
      void clock.sleep(ms).then(() => {
        deps.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });

  try {
    interrupted('stage');
    // 3. Stage at 0%: overrides only reach versions in the current deployment.
    await deploySplit('stage', 0);
    report.phases.push({ name: 'stage at 0%', ok: true });

    // 4. Smoke-test the new version through the override.
    await waitForOverride(prober, clock, newVersion, opts.overrideTimeoutSeconds * 1000, log);
    interrupted('smoke');
    const smokeEdge: string[] = [];
    const smokeChecks = await smokeTest(prober, newVersion, opts.smoke, opts.thresholds.probeRetries, smokeEdge);
    if (smokeEdge.length) report.edgeErrors = smokeEdge.map((e) => `smoke: ${e}`);
    report.phases.push({ name: 'smoke', ok: smokeChecks.every((c) => c.ok), checks: smokeChecks });
    const badSmoke = smokeChecks.find((c) => !c.ok);
    if (badSmoke) throw new Failure('smoke', badSmoke.name, badSmoke.detail, badSmoke.numbers);

    // 5. Step the traffic up, holding and gating after each step.
    const t = opts.thresholds;
    for (const percent of opts.steps) {
      interrupted(`step ${percent}%`, percent);
      await deploySplit(`step ${percent}%`, percent, percent);
      const stepStartedWall = wallClock();
      const phaseName = `gate at ${percent}%`;
      log(`holding ${opts.holdSeconds}s at ${percent}%`);
      await hold(opts.holdSeconds * 1000);
      let held = opts.holdSeconds;
      const checks: CheckResult[] = [];
      if (observability) {
        // Real traffic; too few requests for the new version extends the hold, up to maxHoldSeconds.
        for (;;) {
          interrupted(phaseName, percent);
          let verdict;
          try {
            const traffic = await observability.traffic({ versionIds: [oldVersion, newVersion], fromMs: stepStartedWall, toMs: wallClock() });
            verdict = trafficVerdict(observability.name, traffic.get(oldVersion)!, traffic.get(newVersion)!, t);
          } catch (err) {
            checks.push({
              name: `query (${observability.name})`,
              ok: false,
              detail: `inconclusive, so the step fails: ${err instanceof Error ? err.message : String(err)}`,
            });
            break;
          }
          if (verdict.kind === 'judged') {
            checks.push(...verdict.checks);
            break;
          }
          if (held >= t.maxHoldSeconds) {
            const detail = `the new version served ${verdict.requests} requests in ${held}s at ${percent}% (need ${t.minRequests}); hold already at the maximum ${t.maxHoldSeconds}s`;
            if (t.allowLowTraffic) {
              report.warnings.push(`${phaseName}: ${detail}; passed on probes only (--allow-low-traffic)`);
              checks.push({ name: `traffic (${observability.name})`, ok: true, detail: `${detail}; --allow-low-traffic: judged on probes only`, numbers: { requests: verdict.requests, needed: t.minRequests, heldSeconds: held } });
            } else {
              checks.push({ name: `traffic (${observability.name})`, ok: false, detail: `${detail}: too little traffic to judge, so the step fails (--allow-low-traffic passes it on probes)`, numbers: { requests: verdict.requests, needed: t.minRequests, heldSeconds: held } });
            }
            break;
          }
          const extra = Math.min(t.holdExtensionSeconds, t.maxHoldSeconds - held);
          log(`only ${verdict.requests} requests for ${newVersion} at ${percent}% (need ${t.minRequests}): holding ${extra}s more`);
          report.warnings.push(`${phaseName}: ${verdict.requests} requests after ${held}s (need ${t.minRequests}); hold extended by ${extra}s`);
          await hold(extra * 1000);
          held += extra;
        }
      }
      interrupted(phaseName, percent);
      const edgeErrors: string[] = [];
      checks.push(...(await probeGate(prober, opts, oldVersion, newVersion, edgeErrors)));
      if (edgeErrors.length) report.edgeErrors = [...(report.edgeErrors ?? []), ...edgeErrors.map((e) => `${phaseName}: ${e}`)];
      report.phases.push({ name: phaseName, ok: checks.every((c) => c.ok), checks, detail: `held ${held}s` });
      const bad = checks.find((c) => !c.ok);
      if (bad) throw new Failure(phaseName, bad.name, bad.detail, bad.numbers, percent);
    }
  } catch (err) {
    fail(report, err, log);
    await restore(report, deps.run, target.env, oldVersion, sha12, log);
    return report;
  }

  if (opts.deployTriggers) {
    log(`$ wrangler triggers deploy --env ${target.env}`);
    const triggers = await deps.run(['triggers', 'deploy', '--env', target.env]);
    if (triggers.code !== 0) {
      report.warnings.push(
        `the new version serves 100% of traffic, but \`wrangler triggers deploy --env ${target.env}\` failed (exit ${triggers.code}): routes and cron changes are not applied. ${lastLines(triggers.stderr || triggers.stdout, 3)}`,
      );
      report.phases.push({ name: 'triggers', ok: false });
      report.outcome = 'released';
      report.exitCode = 1;
      return report;
    }
    report.phases.push({ name: 'triggers', ok: true });
  }
  report.outcome = 'released';
  report.exitCode = 0;
  return report;
}

function fail(report: ReleaseReport, err: unknown, log: (l: string) => void): ReleaseReport {
  if (err instanceof Failure) {
    report.failure = { phase: err.phase, check: err.check, detail: err.detail, ...(err.numbers ? { numbers: err.numbers } : {}), ...(err.step !== undefined ? { step: err.step } : {}) };
  } else {
    report.failure = { phase: 'internal', check: 'exception', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  log(`FAILED ${report.failure.phase}: ${report.failure.check}: ${report.failure.detail}`);
  report.outcome = 'failed';
  report.exitCode = 1;
  return report;
}

async function restore(report: ReleaseReport, run: CommandRunner, env: EnvName, oldVersion: string, sha12: string, log: (l: string) => void) {
  const args = deployArgs(env, [[oldVersion, 100]], shortMessage(`release ${sha12} failed (${report.failure?.phase}: ${report.failure?.check}); restored`));
  const command = `wrangler ${args.join(' ')}`;
  log(`$ ${command}`);
  let result: CommandResult;
  try {
    result = await run(args);
  } catch (err) {
    result = { code: -1, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
  }
  if (result.code === 0) {
    report.restore = { ok: true, command };
    report.outcome = 'rolled_back';
    report.exitCode = 1;
  } else {
    report.restore = { ok: false, command, detail: `exit code ${result.code}: ${lastLines(result.stderr || result.stdout)}` };
    report.outcome = 'restore_failed';
    report.exitCode = 2;
  }
}
