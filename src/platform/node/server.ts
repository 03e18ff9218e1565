/**
 * The Node HTTP server: configuration → deps → @hono/node-server, the payments timer, and
 * graceful shutdown. Node-only: started by src/node.ts (and spawned by tests through it).
 */
import { createServer as createHttpServer, type RequestListener, type ServerOptions } from 'node:http';
import { hostname } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import { CORS_LISTS, createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { loadNodeServerConfig, type NodeServerConfig } from './config.js';
import { withTimeout } from '../../db/client.js';
import { seedDemo, type DemoSummary } from '../../db/demo-seed.js';
import type { Deps } from '../../deps.js';
import { cachedCatalogAnswer } from '../../http/fast-catalog.js';
import { baseHeaders } from '../../http/middleware.js';
import { createPrometheusMetrics } from '../../metrics/prometheus.js';
import { runPaymentJobsExclusive } from '../../modules/payments/exclusive.js';
import { measureOutstandingBalances } from '../../modules/payments/outstanding.js';
import { measureBacklog } from '../../notifications/dispatch.js';
import { createNodeDeps, openDatabase } from './deps.js';
import { catalogFirst } from './catalog-first.js';
import { AppServerResponse } from './server-response.js';

export interface RunningServer {
  url: string;
  server: ServerType;
  deps: Deps;
  /** What the demo seed made or found (NodeServerConfig.seedDemo); undefined when it did not run. */
  demo: DemoSummary | undefined;
  /** Drains and closes (see startNodeServer); idempotent: a second call returns the first's promise. */
  shutdown: (signal: string) => Promise<void>;
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
 * The values are parsed and defaulted by loadNodeServerConfig (src/platform/node/config.ts).
 */
export function httpServerOptions(server: Pick<NodeServerConfig, 'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs'>) {
  const requestTimeout = server.requestTimeoutMs;
  const headersTimeout = server.headersTimeoutMs;
  const keepAliveTimeout = server.keepAliveTimeoutMs;
  // How often Node looks for connections past those limits (its default is 30 s).
  const connectionsCheckingInterval = Math.min(1000, headersTimeout);
  return { requestTimeout, headersTimeout, keepAliveTimeout, connectionsCheckingInterval };
}

/**
 * Starts the HTTP server, after seeding the demo data where NodeServerConfig.seedDemo says
 * (never in production). On SIGTERM/SIGINT: readiness turns 503 at once, the listener
 * stops accepting, in-flight requests finish (bounded by a grace period), then the
 * database closes and the process exits 0. Throws ConfigError naming every bad variable.
 */
export async function startNodeServer(env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = loadConfig(env);
  const node = loadNodeServerConfig(env);
  const database = await openDatabase(config, node.pgliteDir);
  const metrics = createPrometheusMetrics({ version: config.appVersion, runtime: 'node' });
  const deps = createNodeDeps(config, { database, metrics, hashPool: node.hashPool });
  const seedDemoHere = node.seedDemo === 'always' || (node.seedDemo === 'embedded' && database.kind === 'pglite');
  const demo = seedDemoHere ? await seedDemo(deps, { currency: config.currency, appEnv: config.appEnv }) : undefined;
  // The payments job runs in a CronJob nobody scrapes: each scrape reads the gauges itself.
  metrics.measureOutstandingOnScrape(() => measureOutstandingBalances(deps));
  // Likewise the notification backlog (pending, oldest pending age, dead letters).
  metrics.measureNotificationsOnScrape(() => measureBacklog(deps));
  const app = createApp(deps);
  const server = await new Promise<ServerType>((ready) => {
    // AppServerResponse takes the headers every answer carries without a Fetch Headers object.
    const serverOptions = { ...httpServerOptions(node), ServerResponse: AppServerResponse };
    // The cached catalog is answered ahead of the router, identically (src/http/fast-catalog.ts).
    const catalog = cachedCatalogAnswer(deps, baseHeaders({ corsOrigins: config.corsOrigins, ...CORS_LISTS }));
    const createServer = ((options: ServerOptions, listener: RequestListener) => createHttpServer(options, catalogFirst(catalog, listener))) as typeof createHttpServer;
    const s = serve({ fetch: app.fetch, port: config.port, hostname: node.host, serverOptions, createServer }, () => ready(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;
  deps.logger.info('listening', { url, database: database.kind, appEnv: config.appEnv });

  // What the Worker's cron trigger does, under the same `payments-job` lease: however many
  // replicas (or a CronJob, or the Worker) start it at once, one runs and the others log that
  // they skipped (src/modules/payments/exclusive.ts runPaymentJobsExclusive). 0 turns it off.
  const jobEveryMs = node.paymentsJobIntervalMs;
  const runner = `node:${hostname()}:${process.pid}:timer`;
  let jobRun: Promise<unknown> | undefined;
  const jobTimer =
    jobEveryMs > 0
      ? setInterval(() => {
          // A run of this process still going: the next tick would only be skipped by the lease.
          if (jobRun) return;
          // Outcomes and failures are logged by the entry.
          jobRun = runPaymentJobsExclusive(deps, { runner })
            .catch(() => undefined)
            .finally(() => (jobRun = undefined));
        }, jobEveryMs)
      : undefined;
  jobTimer?.unref();

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) =>
    (stopping ??= (async () => {
      deps.lifecycle.draining = true;
      if (jobTimer) clearInterval(jobTimer);
      // Kubernetes takes the pod out of its Service endpoints asynchronously: keep serving
      // (readiness already answers 503) for SHUTDOWN_DELAY_MS, so no new connection lands on
      // a closed listener; then stop accepting and let in-flight requests finish.
      const delayMs = node.shutdownDelayMs;
      const graceMs = node.shutdownGraceMs;
      deps.logger.info('shutting down', { signal, delayMs, graceMs });
      if (delayMs > 0) await new Promise((wait) => setTimeout(wait, delayMs));
      await withTimeout(
        new Promise<void>((done) => server.close(() => done())),
        graceMs,
        'draining in-flight requests',
      ).catch((err: unknown) => deps.logger.warn('grace period over; closing anyway', { error: err }));
      // A payments job run in flight finishes and gives its lease back before the database
      // closes (bounded too: past it the lease simply expires).
      if (jobRun) {
        await withTimeout(jobRun, graceMs, 'the payments job run').catch((err: unknown) =>
          deps.logger.warn('payments job still running; its lease expires by itself', { error: err }),
        );
      }
      await deps.passwords.close?.();
      // A request still holding a pooled client would keep pool.end() waiting: bound it too.
      await withTimeout(database.close(), 2000, 'closing the database').catch((err: unknown) =>
        deps.logger.warn('database did not close in time', { error: err }),
      );
      deps.logger.info('stopped');
    })());
  return { url, server, deps, demo, shutdown };
}
