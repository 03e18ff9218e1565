/**
 * The release tool's shared vocabulary, types only: what a release is asked to do, the side
 * effects it is given (wrangler, fetch, a clock, an observability source), and the report it
 * returns. The release, rollback, gate and runtime files import these; this one imports nothing.
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

export type EnvName = 'staging' | 'production';

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
  /** Absolute limit, whatever the old version does: 5xx / requests per route and overall (0.01 = 1%). */
  maxErrorRatio: number;
  /** Absolute p95 ceiling (ms) for a route not named in `routeP95CeilingMs`, and for the whole version. */
  p95CeilingMs: number;
  /** Per-route p95 ceilings (ms), keyed "METHOD /route" as the Worker records it (blob2, blob3). */
  routeP95CeilingMs: Record<string, number>;
  /** Real traffic: the new version needs at least this many requests in the hold window to be judged. */
  minRequests: number;
  /** A route is judged on its own only with at least this many requests for the new version (and, for the comparison, the old). */
  minRouteRequests: number;
  /**
   * A quieter route (fewer than `minRouteRequests` requests) still fails on its own when it
   * answered at least this many 5xx and its 5xx ratio is over the limit: a rare route that fails
   * every time (card orders at 1% of traffic) must not hide in the total.
   */
  minRouteErrors: number;
  /** Too few requests: the hold is extended by this many seconds at a time… */
  holdExtensionSeconds: number;
  /** …up to this total hold per step (seconds); then the step fails, unless `allowLowTraffic`. */
  maxHoldSeconds: number;
  /** At the maximum hold with too little traffic, pass with a warning instead of failing. */
  allowLowTraffic: boolean;
  /** Probes that never reached the Worker (network or Cloudflare-edge errors): more than this share makes the gate inconclusive, which fails. */
  maxEdgeFailureRatio: number;
  /** A failed probe is retried this many times (backoff 500 ms, 1 s, 2 s…) before it counts. */
  probeRetries: number;
}

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

/** One route's (or a whole version's) real traffic in a window: sample-weighted counts, 5xx and p95 (ms). */
export interface RouteStats {
  /** "METHOD /route" (blob2, blob3 of the Worker's `http` data points), or "all" for the version. */
  route: string;
  requests: number;
  errors5xx: number;
  /** errors5xx / requests (0 when there are none). */
  errorRatio: number;
  p95Ms: number;
}

export interface VersionTraffic {
  versionId: string;
  overall: RouteStats;
  routes: RouteStats[];
}

/** Real traffic per version and route over a window (Workers Analytics Engine). Throws on any answer it cannot read. */
export interface ObservabilitySource {
  readonly name: string;
  traffic(query: { versionIds: string[]; fromMs: number; toMs: number }): Promise<Map<string, VersionTraffic>>;
}

export interface ReleaseDeps {
  run: CommandRunner;
  fetch: FetchLike;
  clock?: Clock;
  observability?: ObservabilitySource;
  /** Wall-clock time for observability windows (epoch ms); tests tie it to `clock`. */
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
  /** Probes that never reached the Worker (network or Cloudflare-edge errors), with what was seen. */
  edgeErrors?: string[];
  restore?: { ok: boolean; command: string; detail?: string };
  warnings: string[];
  plan?: string[];
}
