/**
 * The Node server's own settings (HOST, the socket timeouts, the password-hash pool, shutdown,
 * the demo seed): read only by the Node entry and its platform modules; the Worker has none of
 * them. The shared settings are src/config.ts (loadConfig), whose helpers this reuses.
 */
import { z } from 'zod';
import { configErrorOf } from '../../config.js';
import { APP_ENVS } from '../../config-env.js';
import { numberFromString, optionalString } from '../../config-fields.js';

/** A positive integer with no upper bound; unset or blank → `def`. */
const positiveIntFromString = <D extends number | undefined>(def: D) =>
  numberFromString(def, (n) => Number.isInteger(n) && n >= 1, 'must be a positive integer');

/** A duration in ms, 0 or more (a fraction is what setTimeout takes too); unset or blank → `def`. */
const msFromString = <D extends number | undefined>(def: D) =>
  numberFromString(def, (n) => Number.isFinite(n) && n >= 0, 'must be a number of milliseconds, 0 or more');

/**
 * METRICS_TOKEN's minimum length with APP_ENV=production (`openssl rand -base64 48` gives 64).
 * Outside production src/config.ts's 16 applies, and an unset token leaves /metrics open.
 */
export const MIN_PRODUCTION_METRICS_TOKEN = 32;

/**
 * The variables only the Node server reads; the Worker has none of them. METRICS_TOKEN is
 * shared (src/config.ts), but only the Node server serves /metrics, so only it requires one.
 */
const nodeServerSchema = z.object({
  APP_ENV: z.enum(APP_ENVS).default('development'),
  HOST: optionalString,
  PGLITE_DIR: optionalString,
  PASSWORD_HASH_THREADS: positiveIntFromString(undefined),
  PASSWORD_HASH_QUEUE: positiveIntFromString(undefined),
  REQUEST_TIMEOUT_MS: positiveIntFromString(30_000),
  HEADERS_TIMEOUT_MS: positiveIntFromString(10_000),
  KEEP_ALIVE_TIMEOUT_MS: positiveIntFromString(65_000),
  PAYMENTS_JOB_INTERVAL_MS: msFromString(0),
  SHUTDOWN_DELAY_MS: msFromString(undefined),
  SHUTDOWN_GRACE_MS: msFromString(10_000),
  SEED_DEMO: optionalString.pipe(z.enum(['0', '1']).optional()),
  /** Checked here only for presence and length in production; src/config.ts reads it (and refuses placeholders). */
  METRICS_TOKEN: optionalString,
}).superRefine((v, ctx) => {
  if (v.APP_ENV === 'production' && v.SEED_DEMO === '1') {
    ctx.addIssue({ code: 'custom', path: ['SEED_DEMO'], message: 'must not be 1 when APP_ENV=production: demo accounts have published passwords' });
  }
  // Without a token /metrics does not exist in production (src/metrics/routes.ts): Prometheus
  // would see every pod as down and every app alert would stay silent. So refuse to start.
  if (v.APP_ENV === 'production' && v.METRICS_TOKEN === undefined) {
    ctx.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: `is required when APP_ENV=production (at least ${MIN_PRODUCTION_METRICS_TOKEN} characters): Prometheus scrapes /metrics with it` });
  } else if (v.APP_ENV === 'production' && v.METRICS_TOKEN !== undefined && v.METRICS_TOKEN.length < MIN_PRODUCTION_METRICS_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: `must be at least ${MIN_PRODUCTION_METRICS_TOKEN} characters when APP_ENV=production` });
  }
});

/**
 * The Node server's own settings (src/platform/node/server.ts), durations in ms. The socket
 * timeouts' reasons are in docs/runbook.md, "Node process".
 */
export interface NodeServerConfig {
  /** HOST, default `0.0.0.0`: every interface, as a container needs. */
  host: string;
  /** PGLITE_DIR: the embedded database's folder when DATABASE_URL is unset; undefined → `.data/pglite` (DEFAULT_PGLITE_DIR). */
  pgliteDir: string | undefined;
  /** PASSWORD_HASH_THREADS → threads, PASSWORD_HASH_QUEUE → maxQueue; absent → the pool's defaults (src/auth/hash-pool.ts). */
  hashPool: { threads?: number; maxQueue?: number };
  /** REQUEST_TIMEOUT_MS, default 30 s: the whole request, headers and body, must arrive within it, else 408. */
  requestTimeoutMs: number;
  /** HEADERS_TIMEOUT_MS, default 10 s, at most requestTimeoutMs: the headers alone. */
  headersTimeoutMs: number;
  /** KEEP_ALIVE_TIMEOUT_MS, default 65 s: longer than a load balancer's 60 s idle timeout. */
  keepAliveTimeoutMs: number;
  /** PAYMENTS_JOB_INTERVAL_MS, default 0 (off): run the payments job on a timer in this process. */
  paymentsJobIntervalMs: number;
  /** SHUTDOWN_DELAY_MS, default 5 s with APP_ENV=production, else 0: keep serving after SIGTERM while endpoints drop the pod. */
  shutdownDelayMs: number;
  /** SHUTDOWN_GRACE_MS, default 10 s: how long in-flight requests may take to finish once the listener closes. */
  shutdownGraceMs: number;
  /**
   * Whether to seed the demo zone, slots and accounts at start (src/db/demo-seed.ts). SEED_DEMO
   * unset: on the embedded database only (`embedded`); `1`: on any database (a local PostgreSQL
   * server); `0`: never. Always `never` with APP_ENV=production, where SEED_DEMO=1 is refused.
   */
  seedDemo: 'embedded' | 'always' | 'never';
}

/**
 * Parses the Node server's variables. Throws `ConfigError` naming every bad variable (a
 * timeout or pool size that is not a positive integer, a duration that is negative or not a
 * number; with APP_ENV=production a METRICS_TOKEN that is unset or under 32 characters, or
 * SEED_DEMO=1), so the start stops instead of running with a value nobody meant.
 */
export function loadNodeServerConfig(env: Record<string, string | undefined>): NodeServerConfig {
  const parsed = nodeServerSchema.safeParse(env);
  if (!parsed.success) throw configErrorOf(parsed.error);
  const raw = parsed.data;
  const threads = raw.PASSWORD_HASH_THREADS;
  const maxQueue = raw.PASSWORD_HASH_QUEUE;
  return {
    host: raw.HOST ?? '0.0.0.0',
    pgliteDir: raw.PGLITE_DIR,
    hashPool: { ...(threads ? { threads } : {}), ...(maxQueue ? { maxQueue } : {}) },
    requestTimeoutMs: raw.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: Math.min(raw.HEADERS_TIMEOUT_MS, raw.REQUEST_TIMEOUT_MS),
    keepAliveTimeoutMs: raw.KEEP_ALIVE_TIMEOUT_MS,
    paymentsJobIntervalMs: raw.PAYMENTS_JOB_INTERVAL_MS,
    shutdownDelayMs: raw.SHUTDOWN_DELAY_MS ?? (raw.APP_ENV === 'production' ? 5000 : 0),
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    seedDemo: raw.APP_ENV === 'production' || raw.SEED_DEMO === '0' ? 'never' : raw.SEED_DEMO === '1' ? 'always' : 'embedded',
  };
}
