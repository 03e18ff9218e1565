/**
 * Node.js entry: process.env → dependencies → @hono/node-server, with graceful shutdown.
 * This file and src/worker.ts are the only ones that know which runtime they run on.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from './app.js';
import { createPooledPasswordHasher, type HashPoolOptions } from './auth/hash-pool.js';
import type { Argon2idParams } from './auth/password.js';
import { loadConfig, type Config } from './config.js';
import { withTimeout, type Database } from './db/client.js';
import { createNeonDatabase } from './db/neon.js';
import { createPgliteDatabase, createPostgresDatabase, migrateDatabase } from './db/session.js';
import { seedCatalog } from './db/seed.js';
import { systemClock, type Deps } from './deps.js';
import { forwardedClientIp } from './http/client-ip.js';
import { createPayments } from './payments/stripe.js';
import { createJsonLogger, type Logger } from './logger.js';
import { timedDatabase } from './metrics/database.js';
import { noopMetrics, type Metrics } from './metrics/index.js';
import { createPrometheusMetrics } from './metrics/prometheus.js';
import { createMemoryCatalogCache } from './modules/catalog/cache.js';
import { jobFailure, runPaymentJobs, type JobReport } from './modules/payments/jobs.js';

export { loadArgon2idKernel } from './auth/argon2-node.mjs';

export const DEFAULT_PGLITE_DIR = '.data/pglite';

/** Picks the driver the configuration asks for; no DATABASE_URL means embedded PGlite. */
export async function openDatabase(config: Config, pgliteDir = DEFAULT_PGLITE_DIR): Promise<Database> {
  if (!config.databaseUrl) {
    const database = await createPgliteDatabase(pgliteDir);
    await migrateDatabase(database);
    await seedCatalog(database, config.currency);
    return database;
  }
  if (config.databaseDriver === 'neon-http') {
    return createNeonDatabase(config.databaseUrl, { localEndpoint: config.neonLocalEndpoint, timeoutMs: config.databaseTimeoutMs });
  }
  const logger = createJsonLogger({ level: config.logLevel, base: { runtime: 'node', version: config.appVersion }, sink: bufferedStdout() });
  return createPostgresDatabase(config.databaseUrl, { timeoutMs: config.databaseTimeoutMs, logger });
}

/**
 * Log lines go to stdout in one write per event-loop turn instead of one console.log each:
 * under load the write per access line cost more than building it. Lines still pending are
 * written on exit (including after an uncaught exception); only SIGKILL can lose one turn's.
 */
let stdoutSink: ((line: string) => void) | undefined;
function bufferedStdout(): (line: string) => void {
  if (stdoutSink) return stdoutSink;
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    process.stdout.write(text);
  };
  process.once('exit', flush);
  stdoutSink = (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
  return stdoutSink;
}

export interface NodeDepsOptions {
  database: Database;
  logger?: Logger;
  /** Tests may lower the hashing cost; production always uses the OWASP parameters. */
  argon2Params?: Argon2idParams;
  /** Hashing threads and their queue bound (src/auth/hash-pool.ts); the server reads them from the environment. */
  hashPool?: HashPoolOptions;
  /** The server passes Prometheus; one-shot commands (the CLI) count nothing. */
  metrics?: Metrics;
}

export function createNodeDeps(config: Config, opts: NodeDepsOptions): Deps {
  const metrics = opts.metrics ?? noopMetrics;
  return {
    config,
    database: timedDatabase(opts.database, metrics),
    metrics,
    clock: systemClock,
    logger:
      opts.logger ??
      createJsonLogger({ level: config.logLevel, base: { runtime: 'node', version: config.appVersion }, sink: bufferedStdout() }),
    passwords: createPooledPasswordHasher(opts.argon2Params, opts.hashPool),
    sha256Hex: (text) => Promise.resolve(createHash('sha256').update(text).digest('hex')),
    catalogCache: createMemoryCatalogCache(),
    payments: createPayments(config),
    runtime: 'node',
    clientIp: forwardedClientIp(config.trustedProxyHops),
    lifecycle: { draining: false },
  };
}

export interface RunningServer {
  url: string;
  server: ServerType;
  deps: Deps;
  shutdown: (signal: string) => Promise<void>;
}

/** A positive integer from the environment, or undefined when unset; anything else stops the start naming the variable. */
function positiveIntEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: must be a positive integer, got ${raw}`);
  return n;
}

/** PASSWORD_HASH_THREADS / PASSWORD_HASH_QUEUE; unset → the pool's defaults (src/auth/hash-pool.ts). */
function hashPoolFromEnv(env: NodeJS.ProcessEnv): HashPoolOptions {
  const threads = positiveIntEnv(env, 'PASSWORD_HASH_THREADS');
  const maxQueue = positiveIntEnv(env, 'PASSWORD_HASH_QUEUE');
  return { ...(threads ? { threads } : {}), ...(maxQueue ? { maxQueue } : {}) };
}

/**
 * Socket timeouts of the HTTP server, ms (Node's http.ServerOptions; reasons in docs/runbook.md,
 * "Node process"). Node's defaults let a client that trickles its request hold a connection
 * for 5 minutes; our bodies are at most BODY_LIMIT_BYTES (64 KiB), sent in well under a second.
 * - requestTimeout (REQUEST_TIMEOUT_MS, 30 s): the whole request, headers and body, must
 *   arrive within it, else 408 and the socket closes. The response may take longer.
 * - headersTimeout (HEADERS_TIMEOUT_MS, 10 s, at most requestTimeout): the headers alone.
 * - keepAliveTimeout (KEEP_ALIVE_TIMEOUT_MS, 65 s): an idle kept-alive connection stays open
 *   longer than the load balancer's own idle timeout (60 s on AWS ALB and ingress-nginx's
 *   upstream keep-alive), so the balancer, not us, closes it: otherwise it may send a request
 *   on a socket we are closing and answer the client 502.
 */
export function httpServerOptions(env: NodeJS.ProcessEnv) {
  const requestTimeout = positiveIntEnv(env, 'REQUEST_TIMEOUT_MS') ?? 30_000;
  const headersTimeout = Math.min(positiveIntEnv(env, 'HEADERS_TIMEOUT_MS') ?? 10_000, requestTimeout);
  const keepAliveTimeout = positiveIntEnv(env, 'KEEP_ALIVE_TIMEOUT_MS') ?? 65_000;
  // How often Node looks for connections past those limits (its default is 30 s).
  const connectionsCheckingInterval = Math.min(1000, headersTimeout);
  return { requestTimeout, headersTimeout, keepAliveTimeout, connectionsCheckingInterval };
}

/**
 * Starts the HTTP server. On SIGTERM/SIGINT: readiness turns 503 at once, the listener
 * stops accepting, in-flight requests finish (bounded by a grace period), then the
 * database closes and the process exits 0.
 */
export async function startNodeServer(env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = loadConfig(env);
  const database = await openDatabase(config, env.PGLITE_DIR ?? DEFAULT_PGLITE_DIR);
  const metrics = createPrometheusMetrics({ version: config.appVersion, runtime: 'node' });
  const deps = createNodeDeps(config, { database, metrics, hashPool: hashPoolFromEnv(env) });
  const app = createApp(deps);
  const server = await new Promise<ServerType>((ready) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: env.HOST ?? '0.0.0.0', serverOptions: httpServerOptions(env) }, () => ready(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;
  deps.logger.info('listening', { url, database: database.kind, appEnv: config.appEnv });

  // What the Worker's cron trigger does. Safe on every replica at once: captures carry
  // idempotency keys and every update only moves state forward. 0 turns it off.
  const jobEveryMs = Number(env.PAYMENTS_JOB_INTERVAL_MS ?? 0);
  const jobTimer =
    jobEveryMs > 0
      ? setInterval(() => {
          runPaymentJobs(deps).then(
            (report) => deps.logger.info('payments job', { report }),
            (error: unknown) => deps.logger.error('payments job failed', { error }),
          );
        }, jobEveryMs)
      : undefined;
  jobTimer?.unref();

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) =>
    (stopping ??= (async () => {
      deps.lifecycle.draining = true;
      if (jobTimer) clearInterval(jobTimer);
      const ms = (value: string | undefined, fallback: number) =>
        value?.trim() && Number.isFinite(Number(value)) && Number(value) >= 0 ? Number(value) : fallback;
      // Kubernetes takes the pod out of its Service endpoints asynchronously: keep serving
      // (readiness already answers 503) for SHUTDOWN_DELAY_MS, so no new connection lands on
      // a closed listener; then stop accepting and let in-flight requests finish.
      const delayMs = ms(env.SHUTDOWN_DELAY_MS, config.appEnv === 'production' ? 5000 : 0);
      const graceMs = ms(env.SHUTDOWN_GRACE_MS, 10_000);
      deps.logger.info('shutting down', { signal, delayMs, graceMs });
      if (delayMs > 0) await new Promise((wait) => setTimeout(wait, delayMs));
      await withTimeout(
        new Promise<void>((done) => server.close(() => done())),
        graceMs,
        'draining in-flight requests',
      ).catch((err: unknown) => deps.logger.warn('grace period over; closing anyway', { error: err }));
      await deps.passwords.close?.();
      // A request still holding a pooled client would keep pool.end() waiting: bound it too.
      await withTimeout(database.close(), 2000, 'closing the database').catch((err: unknown) =>
        deps.logger.warn('database did not close in time', { error: err }),
      );
      deps.logger.info('stopped');
    })());
  return { url, server, deps, shutdown };
}

/** A one-shot command on the server database (DATABASE_URL is required; `session`: node-postgres even for Neon). */
async function withServerDatabase<T>(env: NodeJS.ProcessEnv, what: string, session: boolean, work: (config: Config, database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  if (!config.databaseUrl) throw new Error(`DATABASE_URL: is required to ${what}`);
  const database = session ? createPostgresDatabase(config.databaseUrl, { max: 1 }) : await openDatabase(config);
  try {
    return await work(config, database);
  } finally {
    await database.close();
  }
}

/**
 * `node dist/src/node.js migrate`: applies pending migrations to DATABASE_URL over TCP and
 * exits (the Kubernetes migration Job runs this; the image has no dev tools).
 */
export function migrateCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return withServerDatabase(env, 'migrate', true, async (_config, database) => {
    await migrateDatabase(database);
    console.log('migrations applied');
  });
}

/**
 * `node dist/src/node.js payments-job`: one run of the payments housekeeping, for the
 * Kubernetes CronJob (one run per schedule for the deployment, not a timer in every pod).
 * Exits 1 when the run threw or could not ask Stripe, so the failed Job shows in `kubectl get jobs`.
 */
export function paymentsJobCommand(env: NodeJS.ProcessEnv = process.env): Promise<JobReport> {
  return withServerDatabase(env, 'run the payments job', false, async (config, database) => {
    const deps = createNodeDeps(config, { database });
    const report = await runPaymentJobs(deps);
    deps.logger.info('payments job', { report });
    const failure = jobFailure(report);
    if (failure) throw new Error(`payments job: ${failure}`);
    return report;
  });
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
const COMMANDS: Record<string, () => Promise<unknown>> = { migrate: migrateCommand, 'payments-job': paymentsJobCommand };
const fail = (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
};
const command = isMain ? process.argv[2] : undefined;
if (command !== undefined) {
  const run = COMMANDS[command];
  if (!run) {
    console.error(`unknown command ${command}; the server takes none, or one of: ${Object.keys(COMMANDS).join(', ')}`);
    process.exit(2);
  }
  run().then(() => process.exit(0), fail);
} else if (isMain) {
  startNodeServer()
    .then(({ url, shutdown }) => {
      console.log(`Laundry API listening on ${url} (docs: ${url}/docs)`);
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void shutdown(signal).then(() => process.exit(0), fail));
      }
    })
    .catch(fail);
}
