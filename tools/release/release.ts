/**
 * Gradual Worker releases and rollbacks, as pure orchestration: every side effect arrives
 * injected (a wrangler `CommandRunner`, `fetch`, a clock, an observability source), so the
 * tests drive it with recorded fakes and no network. `scripts/release.ts` and
 * `scripts/rollback.ts` wire the real ones.
 *
 * A release (docs/runbook.md, "Releasing Workers"):
 *   1. read the current deployment: it must be one version at 100% (the "old" version);
 *   2. `wrangler versions upload --tag <sha> --message "<sha> <subject>"` (no traffic);
 *   3. `wrangler versions deploy new@0 old@100`: the new version joins the deployment with
 *      no traffic, because a `Cloudflare-Workers-Version-Overrides` header only reaches a
 *      version that is part of the current deployment (0% counts). A deployment holds at
 *      most two versions, so this is the smallest split that lets us test the new one;
 *   4. smoke-test the new version through the override header: health, readiness,
 *      catalog, and an authenticated read with the smoke account;
 *   5. for each step P: `wrangler versions deploy new@P old@(100-P)`, hold, then a gate
 *      compares the new version's error rate and p95 latency with the old one's, from
 *      probes sent to each through overrides and, with a token, from Workers observability;
 *   6. any failure puts the old version back at 100% and the report says which step, which
 *      check and what numbers.
 */

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `wrangler <args>` and returns its exit code and output. */
export type CommandRunner = (args: readonly string[]) => Promise<CommandResult>;

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type EnvName = 'staging' | 'production';
export const ENV_NAMES: readonly EnvName[] = ['staging', 'production'];

export interface ReleaseTarget {
  env: EnvName;
  /** The Worker's script name in that environment (what the override header names). */
  workerName: string;
  /** Where the environment answers, e.g. https://api.laundry.example.com */
  baseUrl: string;
}

export interface GateThresholds {
  /** The new version's error rate may exceed the old one's by at most this (0.02 = 2 points). */
  maxErrorRateIncrease: number;
  /** The new version's p95 may be at most old p95 × ratio + slack. */
  maxLatencyRatio: number;
  latencySlackMs: number;
  /** Observability numbers count only when each version served at least this many requests. */
  minObservabilityRequests: number;
}

export const DEFAULT_THRESHOLDS: GateThresholds = {
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  latencySlackMs: 100,
  minObservabilityRequests: 50,
};

export interface ReleaseOptions {
  target: ReleaseTarget;
  steps: number[];
  holdSeconds: number;
  dryRun: boolean;
  git: { sha: string; subject: string };
  smoke: { email: string; password: string };
  /** Rounds of probes per version per gate; each round is 4 requests. */
  probeRounds: number;
  thresholds: GateThresholds;
  /** How long an override may take to reach every edge (PLATFORM.md: a few seconds). */
  overrideTimeoutSeconds: number;
  /** Apply routes and cron triggers once the new version is at 100%. */
  deployTriggers: boolean;
}

export interface VersionStats {
  requests: number;
  errors: number;
  errorRate: number;
  p95Ms: number;
}

/** Workers observability (or anything else that counts requests per version). */
export interface ObservabilitySource {
  readonly name: string;
  stats(query: { workerName: string; versionId: string; fromMs: number; toMs: number }): Promise<VersionStats | undefined>;
}

/** What the release uses when no API token is configured: nothing. */
export const noObservability: ObservabilitySource = { name: 'none', stats: async () => undefined };

export interface ReleaseDeps {
  run: CommandRunner;
  fetch: FetchLike;
  clock?: Clock;
  observability?: ObservabilitySource;
  /** Wall-clock time for observability windows (epoch ms). */
  wallClock?: () => number;
  /** Aborted (SIGINT/SIGTERM, a cancelled CI job): stop at the next step and restore the old version. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  numbers?: Record<string, number | string>;
}

export interface Phase {
  name: string;
  ok: boolean;
  checks?: CheckResult[];
  detail?: string;
}

export type Outcome = 'released' | 'rolled_back' | 'failed' | 'dry_run' | 'restore_failed';

export interface ReleaseReport {
  kind: 'release' | 'rollback';
  env: EnvName;
  workerName: string;
  sha?: string;
  oldVersion?: string;
  newVersion?: string;
  outcome: Outcome;
  exitCode: number;
  /** The highest percentage the new version was given. */
  maxTrafficPercent: number;
  phases: Phase[];
  failure?: { phase: string; step?: number; check: string; detail: string; numbers?: Record<string, number | string> };
  restore?: { ok: boolean; command: string; detail?: string };
  warnings: string[];
  plan?: string[];
}

export const OVERRIDE_HEADER = 'Cloudflare-Workers-Version-Overrides';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

// ---------------------------------------------------------------------------------------
// wrangler output parsing
// ---------------------------------------------------------------------------------------

/** `wrangler versions upload` prints `Worker Version ID: <uuid>` (wrangler 4.x). */
export function parseUploadedVersionId(stdout: string): string | undefined {
  return new RegExp(`Worker Version ID:\\s*(${UUID.source})`).exec(stdout)?.[1];
}

export interface DeploymentVersion {
  version_id: string;
  percentage: number;
}

/** `wrangler deployments status --json`: the API's deployment object, `versions` included. */
export function parseDeploymentStatus(stdout: string): DeploymentVersion[] | undefined {
  const start = stdout.indexOf('{');
  const end = stdout.lastIndexOf('}');
  if (start < 0 || end < start) return undefined;
  try {
    const parsed = JSON.parse(stdout.slice(start, end + 1)) as { versions?: unknown };
    if (!Array.isArray(parsed.versions)) return undefined;
    return parsed.versions.filter(
      (v): v is DeploymentVersion =>
        typeof v === 'object' && v !== null && typeof (v as DeploymentVersion).version_id === 'string' && typeof (v as DeploymentVersion).percentage === 'number',
    );
  } catch {
    return undefined;
  }
}

export function validateSteps(steps: number[]): string | undefined {
  if (steps.length === 0) return 'at least one step is needed';
  for (const s of steps) if (!Number.isInteger(s) || s < 1 || s > 100) return `step ${s} is not an integer between 1 and 100`;
  for (let i = 1; i < steps.length; i++) if (steps[i]! <= steps[i - 1]!) return 'steps must increase';
  if (steps.at(-1) !== 100) return 'the last step must be 100';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// probes
// ---------------------------------------------------------------------------------------

interface Probe {
  name: string;
  status: number | 'network_error';
  ms: number;
  servedBy: string | null;
  body: unknown;
  error?: string;
}

function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

class Prober {
  constructor(
    private readonly target: ReleaseTarget,
    private readonly fetchImpl: FetchLike,
    private readonly clock: Clock,
  ) {}

  async request(versionId: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Probe> {
    const headers: Record<string, string> = {
      [OVERRIDE_HEADER]: `${this.target.workerName}="${versionId}"`,
      'User-Agent': 'laundry-release-tool',
      Accept: 'application/json',
    };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (init.token) headers.Authorization = `Bearer ${init.token}`;
    const started = this.clock.now();
    try {
      const res = await this.fetchImpl(`${this.target.baseUrl}${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON; keep the text
      }
      return { name: path, status: res.status, ms: this.clock.now() - started, servedBy: res.headers.get('x-app-version'), body };
    } catch (err) {
      return {
        name: path,
        status: 'network_error',
        ms: this.clock.now() - started,
        servedBy: null,
        body: null,
        error: err instanceof Error ? err.message : String(err),
      };
    }
  }
}

/** A probe answered by another version than the one asked for means the override did not apply. */
function misrouted(probe: Probe, versionId: string): boolean {
  return probe.servedBy !== null && probe.servedBy !== versionId;
}

/** Tokens from the smoke login must never reach CI logs. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /token|password|secret|authorization/i.test(k) ? '[redacted]' : redact(v)]));
}

function describeProbe(p: Probe, withBody = true): string {
  if (p.status === 'network_error') return `network error: ${p.error}`;
  const body = withBody && p.body ? `: ${truncate(typeof p.body === 'string' ? p.body : JSON.stringify(redact(p.body)))}` : '';
  return `HTTP ${p.status}${body}`;
}

// ---------------------------------------------------------------------------------------
// gate
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// the release
// ---------------------------------------------------------------------------------------

class Failure extends Error {
  constructor(
    readonly phase: string,
    readonly check: string,
    readonly detail: string,
    readonly numbers?: Record<string, number | string>,
    readonly step?: number,
  ) {
    super(`${phase}: ${check}: ${detail}`);
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The end of a command's output, without colours or blank lines, for the report. */
function lastLines(text: string, n = 6): string {
  return text
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

export function deployArgs(env: EnvName, split: [string, number][], message: string): string[] {
  return ['versions', 'deploy', ...split.map(([id, p]) => `${id}@${p}`), '-y', '--message', message, '--env', env];
}

/** Cloudflare keeps version messages short; wrangler's rollback prompt says 120 characters. */
export function shortMessage(text: string, max = 100): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

export async function runRelease(opts: ReleaseOptions, deps: ReleaseDeps): Promise<ReleaseReport> {
  const { target } = opts;
  const clock = deps.clock ?? systemClock;
  const wallClock = deps.wallClock ?? Date.now;
  const observability = deps.observability ?? noObservability;
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
    if (!versions) throw new Failure('preflight', 'current deployment', `could not read \`wrangler deployments status --json\`: ${truncate(status.stdout)}`);
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
      `smoke: GET /healthz, /readyz, /v1/services, POST /v1/auth/login, GET /v1/me with ${OVERRIDE_HEADER}: ${target.workerName}="${NEW}" on ${target.baseUrl}`,
      ...opts.steps.flatMap((p) => [
        `wrangler ${deployArgs(target.env, [[NEW, p], [oldVersion, 100 - p]], `…`).join(' ')}`,
        `hold ${opts.holdSeconds}s, then gate: ${opts.probeRounds} probe rounds per version, error rate and p95 vs ${oldVersion}${observability.name === 'none' ? '' : ` (+ ${observability.name})`}`,
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
    const smokeChecks = await smokeTest(prober, newVersion, opts.smoke);
    report.phases.push({ name: 'smoke', ok: smokeChecks.every((c) => c.ok), checks: smokeChecks });
    const badSmoke = smokeChecks.find((c) => !c.ok);
    if (badSmoke) throw new Failure('smoke', badSmoke.name, badSmoke.detail, badSmoke.numbers);

    // 5. Step the traffic up, holding and gating after each step.
    for (const percent of opts.steps) {
      interrupted(`step ${percent}%`, percent);
      await deploySplit(`step ${percent}%`, percent, percent);
      const stepStartedWall = wallClock();
      log(`holding ${opts.holdSeconds}s at ${percent}%`);
      await hold(opts.holdSeconds * 1000);
      interrupted(`gate at ${percent}%`, percent);
      const checks = await gate(prober, observability, opts, oldVersion, newVersion, stepStartedWall, wallClock(), report.warnings);
      const phaseName = `gate at ${percent}%`;
      report.phases.push({ name: phaseName, ok: checks.every((c) => c.ok), checks });
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

async function waitForOverride(prober: Prober, clock: Clock, versionId: string, timeoutMs: number, log: (l: string) => void) {
  const deadline = clock.now() + timeoutMs;
  let last: Probe | undefined;
  for (;;) {
    last = await prober.request(versionId, '/healthz');
    if (last.status !== 'network_error' && !misrouted(last, versionId)) return;
    if (clock.now() >= deadline) break;
    log(`override not applied yet (served by ${last.servedBy ?? 'unknown'}); retrying`);
    await clock.sleep(2000);
  }
  throw new Failure(
    'smoke',
    'override',
    `requests with ${OVERRIDE_HEADER} for ${versionId} were still answered by ${last?.servedBy ?? 'nothing'} after ${Math.round(timeoutMs / 1000)}s (${describeProbe(last)})`,
  );
}

async function smokeTest(prober: Prober, versionId: string, account: { email: string; password: string }): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const check = (name: string, probe: Probe, ok: (p: Probe) => boolean) => {
    const routed = !misrouted(probe, versionId);
    const passed = routed && ok(probe);
    checks.push({
      name,
      ok: passed,
      detail: routed ? `${describeProbe(probe, !passed)} in ${Math.round(probe.ms)} ms` : `answered by ${probe.servedBy}, not ${versionId}`,
      numbers: { status: probe.status, ms: Math.round(probe.ms) },
    });
    return passed;
  };
  const body = (p: Probe) => (typeof p.body === 'object' && p.body !== null ? (p.body as Record<string, unknown>) : {});

  check('GET /healthz', await prober.request(versionId, '/healthz'), (p) => p.status === 200 && body(p).status === 'ok');
  check('GET /readyz', await prober.request(versionId, '/readyz'), (p) => p.status === 200 && body(p).status === 'ready');
  check('GET /v1/services', await prober.request(versionId, '/v1/services'), (p) => p.status === 200 && Array.isArray(body(p).data) && (body(p).data as unknown[]).length > 0);
  const login = await prober.request(versionId, '/v1/auth/login', { method: 'POST', body: { email: account.email, password: account.password } });
  const loggedIn = check('POST /v1/auth/login (smoke account)', login, (p) => p.status === 200 && typeof body(p).accessToken === 'string');
  if (!loggedIn) return checks;
  const token = body(login).accessToken as string;
  check('GET /v1/me (authenticated)', await prober.request(versionId, '/v1/me', { token }), (p) => p.status === 200 && String(body(p).email).toLowerCase() === account.email.toLowerCase());
  // Housekeeping, not a check: end the smoke session so refresh tokens do not pile up.
  const refreshToken = body(login).refreshToken;
  if (typeof refreshToken === 'string') await prober.request(versionId, '/v1/auth/logout', { method: 'POST', body: { refreshToken } });
  return checks;
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

async function gate(
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

// ---------------------------------------------------------------------------------------
// rollback
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------

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
  for (const p of r.plan ?? []) lines.push(`  plan: ${p}`);
  lines.push(`  exit code ${r.exitCode}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// arguments
// ---------------------------------------------------------------------------------------

export type ParsedArgs = Record<string, string | boolean>;

/** `--name value`, `--name=value` and bare `--flag`; anything else is an error. */
export function parseArgs(argv: string[], flags: readonly string[], valued: readonly string[]): ParsedArgs {
  const out: ParsedArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}`);
    const name = m[1]!;
    if (flags.includes(name)) {
      if (m[2] !== undefined) throw new Error(`--${name} takes no value`);
      out[name] = true;
    } else if (valued.includes(name)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      out[name] = value;
    } else {
      throw new Error(`unknown option --${name}`);
    }
  }
  return out;
}

export function numberArg(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

export function envArg(args: ParsedArgs, fallback?: EnvName): EnvName {
  const raw = args.env ?? fallback;
  if (typeof raw !== 'string' || !ENV_NAMES.includes(raw as EnvName)) throw new Error(`--env must be one of ${ENV_NAMES.join(', ')}`);
  return raw as EnvName;
}
