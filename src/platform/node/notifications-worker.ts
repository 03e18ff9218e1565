/**
 * The `notifications-worker` command (`node dist/src/node.js notifications-worker`): the same
 * image as the API, another process. It polls the database and sends (src/notifications/dispatch.ts):
 * one fan-out + send cycle, again at once while a batch comes back full, else after
 * NOTIFICATIONS_POLL_MS (default 1000 ms). The API server never sends; Workers use the queue
 * consumer instead (src/worker.ts). Node-only.
 *
 * Serves GET /healthz (liveness) and GET /metrics (its Prometheus counters — deliveries by
 * channel, provider and outcome — and the backlog gauges; METRICS_TOKEN as on the API) on
 * NOTIFICATIONS_WORKER_PORT (default 9464).
 *
 * SIGTERM/SIGINT: no new cycle starts; sends in flight finish and are recorded (which releases
 * their leases); rows claimed but not yet sent are given back (releaseClaims); then the
 * database closes and the command resolves (exit 0).
 */
import { createServer, type Server } from 'node:http';
import { loadConfig } from '../../config.js';
import type { Deps } from '../../deps.js';
import { createPrometheusMetrics } from '../../metrics/prometheus.js';
import { sameSecret } from '../../metrics/routes.js';
import { createNotificationClients, dispatchDepsOf } from '../../notifications/clients.js';
import { logChannelSetup } from '../../notifications/channels/index.js';
import { dispatchCycle, measureBacklog, type DispatchDeps } from '../../notifications/dispatch.js';
import { createNodeDeps, openDatabase } from './deps.js';

/** How often the backlog gauges are re-measured while the loop runs, ms. */
export const BACKLOG_EVERY_MS = 15_000;

export interface NotificationsLoop {
  /** Stops after the cycle in flight (its sends finish and are recorded); resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Completed cycles (tests wait on it). */
  readonly cycles: number;
}

/**
 * Runs dispatch cycles until stopped: again at once when a batch was full, else after `idleMs`
 * (a stop wakes the wait). A cycle that throws (database unreachable) is logged and retried after
 * `idleMs`; it never ends the loop. With no channel client it does not dispatch at all (a fan-out
 * would mark every delivery "not configured"), it only measures the backlog.
 */
export function startNotificationsLoop(deps: DispatchDeps, opts: { idleMs?: number; backlogEveryMs?: number } = {}): NotificationsLoop {
  const idleMs = opts.idleMs ?? 1000;
  const backlogEveryMs = opts.backlogEveryMs ?? BACKLOG_EVERY_MS;
  const sending = Object.keys(deps.clients).length > 0;
  let stopping = false;
  let cycles = 0;
  let wake: () => void = () => {};
  let lastBacklog = 0;
  const loop = (async () => {
    while (!stopping) {
      let full = false;
      try {
        if (sending) full = (await dispatchCycle(deps, { stopping: () => stopping })).full;
        if (Date.now() - lastBacklog >= backlogEveryMs) {
          lastBacklog = Date.now();
          await measureBacklog(deps);
        }
      } catch (error) {
        deps.logger.error('notification dispatch cycle failed; retrying', { error });
      }
      cycles++;
      if (!full && !stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idleMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    get cycles() {
      return cycles;
    },
    stop: async () => {
      stopping = true;
      wake();
      await loop;
    },
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}: must be a positive integer, got ${raw}`);
  return n;
}

/** GET /healthz and GET /metrics (bearer METRICS_TOKEN when set; absent in production without one). */
function metricsServer(deps: Deps, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const token = deps.config.metricsToken;
    if (req.method === 'GET' && path === '/metrics' && deps.metrics.scrape && (token || deps.config.appEnv !== 'production')) {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token && (!given || !sameSecret(given, token))) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('metrics token required');
        return;
      }
      deps.metrics.scrape().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * The command: builds the Node deps with Prometheus metrics and the channel clients, logs which
 * channels are not configured, serves /healthz and /metrics, runs the loop, and resolves after a
 * graceful stop on SIGTERM/SIGINT. Throws (exit 1) on a bad setting or an unreachable port.
 */
export async function notificationsWorkerCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const idleMs = positiveInt(env, 'NOTIFICATIONS_POLL_MS', 1000);
  const port = positiveInt(env, 'NOTIFICATIONS_WORKER_PORT', 9464);
  const database = await openDatabase(config);
  const metrics = createPrometheusMetrics({ version: config.appVersion, runtime: 'node' });
  const deps = createNodeDeps(config, { database, metrics });
  const channels = createNotificationClients(config, { fetch: (input, init) => fetch(input, init), logger: deps.logger, now: () => deps.clock.now() });
  deps.notifications = channels;
  logChannelSetup(deps.logger, channels);
  if (Object.keys(channels.clients).length === 0) deps.logger.error('no notification channel configured: the worker sends nothing');
  const server = await metricsServer(deps, port, env.HOST ?? '0.0.0.0');
  const loop = startNotificationsLoop(dispatchDepsOf(deps, channels.clients), { idleMs });
  deps.logger.info('notifications worker started', { port, idleMs, channels: Object.keys(channels.clients) });
  const signal = await new Promise<string>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve(s));
  });
  deps.logger.info('notifications worker stopping', { signal });
  await loop.stop();
  await new Promise<void>((done) => server.close(() => done()));
  await deps.passwords.close?.();
  await database.close();
  deps.logger.info('notifications worker stopped');
}
