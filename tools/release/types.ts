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
  /** Observability numbers count only when each version served at least this many requests. */
  minObservabilityRequests: number;
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

/** Workers observability (or anything else that counts requests per version). */
export interface ObservabilitySource {
  readonly name: string;
  stats(query: { workerName: string; versionId: string; fromMs: number; toMs: number }): Promise<VersionStats | undefined>;
}

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
