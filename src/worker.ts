/**
 * Cloudflare Workers entry: bindings → dependencies → app.fetch.
 * This file and src/node.ts (with src/platform/node/) are the only ones that know which runtime they run on.
 */
import noSimdWasm from 'argon2id/dist/no-simd.wasm';
import simdWasm from 'argon2id/dist/simd.wasm';
import setupArgon2id from 'argon2id/lib/setup.js';
import type { App } from './app.js';
import { createIdTokenVerifier } from './auth/id-tokens.js';
import { createPasswordHasher, type Argon2idKernel } from './auth/password.js';
import { ConfigError, loadConfig } from './config.js';
import { createNeonDatabase } from './db/neon.js';
import { systemClock, type Deps } from './deps.js';
import { webCryptoSha256Hex } from './domain/idempotency.js';
import { PROBLEM_CONTENT_TYPE } from './errors.js';
import type { DocsAssets } from './http/docs-ui.js';
import { newRequestId } from './http/middleware.js';
import { cloudflareClientIp } from './http/client-ip.js';
import { createPayments } from './payments/stripe.js';
import { createJsonLogger } from './logger.js';
import { createAnalyticsEngineMetrics, type AnalyticsEngineDataset } from './metrics/analytics-engine.js';
import { timedDatabase } from './metrics/database.js';
import { createCacheApiCatalogCache, type CacheApiLike } from './modules/catalog/cache.js';
import { OrderInputsCache } from './db/order-inputs.js';
import { createNotificationClients, dispatchDepsOf } from './notifications/clients.js';
import { logChannelSetup } from './notifications/channels/index.js';
import type { NotificationMessage, NotificationQueue, ReceivedMessage } from './notifications/queue.js';
import { wakesNotifications } from './notifications/wake.js';

export interface WorkerEnv {
  APP_ENV?: string;
  DATABASE_URL?: string;
  DATABASE_TIMEOUT_MS?: string;
  JWT_SECRET?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_PUBLISHABLE_KEY?: string;
  STRIPE_API_URL?: string;
  PAYMENT_HOLD_BUFFER_BPS?: string;
  OVERAGE_APPROVAL_THRESHOLD?: string;
  CORS_ORIGINS?: string;
  CURRENCY?: string;
  LOG_LEVEL?: string;
  NEON_LOCAL_ENDPOINT?: string;
  BODY_LIMIT_BYTES?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  REFRESH_TOKEN_TTL_DAYS?: string;
  REFRESH_REUSE_GRACE_SECONDS?: string;
  /** The `version_metadata` binding: identifies the deployed version in logs and headers. */
  CF_VERSION_METADATA?: { id: string; tag?: string; timestamp?: string };
  /** Analytics Engine dataset (wrangler.toml); metrics are a no-op without it. */
  METRICS?: AnalyticsEngineDataset;
  /** DOCS_UI=on|off (src/config.ts). */
  DOCS_UI?: string;
  /** Workers Static Assets (`[assets]` in wrangler.toml): the swagger-ui-dist package's folder. */
  DOCS_ASSETS?: AssetsBinding;
  /**
   * The notifications queue's producer (`[[queues.producers]]` in wrangler.toml): `{ kind: 'outbox' }`
   * after every successful write, `{ kind: 'delivery', id }` for retries. Without it nothing is
   * enqueued and the cron sweep alone sends (every 15 minutes).
   */
  NOTIFICATIONS_QUEUE?: QueueBinding;
}

/** The part of Cloudflare's Queue binding used. */
interface QueueBinding {
  send(body: NotificationMessage, options?: { delaySeconds?: number }): Promise<unknown>;
}

/** The part of Cloudflare's MessageBatch used by queue(). */
interface QueueBatch {
  readonly queue: string;
  readonly messages: readonly ReceivedMessage[];
}

/** The dead-letter queue's name ends so (wrangler.toml: laundry-notifications-dlq, -staging-dlq, -production-dlq). */
const DEAD_LETTER_SUFFIX = '-dlq';


/** The part of the Static Assets binding this needs: a GET by path, answered from the uploaded files. */
interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/**
 * The Swagger UI files from Static Assets, so their 1.9 MB stay out of the script bundle.
 * `run_worker_first = true` (wrangler.toml) sends every request to this Worker first, so only
 * the files src/http/docs-ui.ts names are ever served, and only while DOCS_UI is on.
 */
function staticDocsAssets(binding: AssetsBinding | undefined): DocsAssets {
  return {
    async read(name) {
      if (!binding) return undefined;
      // The binding ignores the host; only the path names the file.
      const res = await binding.fetch(new Request(`https://assets.invalid/${name}`));
      if (!res.ok || !res.body) return undefined;
      return { body: res.body, etag: res.headers.get('etag') ?? undefined };
    },
  };
}

/**
 * `openapi.json` from Static Assets: the document the Worker build wrote there
 * (tools/worker-bundle/build.ts), read once per isolate. Undefined without the binding or the
 * file (the Vitest Workers pool, which bundles src/ unstripped): the app then builds it itself.
 */
function prebuiltOpenApi(binding: AssetsBinding | undefined): () => Promise<string | undefined> {
  let text: Promise<string | undefined> | undefined;
  return () =>
    (text ??= (async () => {
      if (!binding) return undefined;
      const res = await binding.fetch(new Request('https://assets.invalid/openapi.json'));
      return res.ok ? await res.text() : undefined;
    })().catch((err: unknown) => {
      text = undefined; // the next request tries again
      throw err;
    }));
}

interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  props: unknown;
}

const loadKernel = async (): Promise<Argon2idKernel> =>
  await setupArgon2id(
    async (imports) => ({ module: simdWasm, instance: await WebAssembly.instantiate(simdWasm, imports) }),
    async (imports) => ({ module: noSimdWasm, instance: await WebAssembly.instantiate(noSimdWasm, imports) }),
  );

/**
 * Bindings are fixed for an isolate's life, so the dependencies are built once per isolate, and
 * the HTTP app on the first request that needs it: `./app.js` (every route, its zod schemas and
 * the OpenAPI registry) is imported lazily, so esbuild evaluates that part of the bundle on first
 * use instead of at global scope (the startup budget, `npm run bench -- --only=startup`), and an
 * isolate that only consumes the queue or runs the cron never evaluates it. Requests after the
 * first are unchanged.
 */
let built: { env: WorkerEnv; app?: Promise<App>; deps: Deps } | { env: WorkerEnv; error: ConfigError } | undefined;

function httpApp(b: { app?: Promise<App>; deps: Deps }): Promise<App> {
  return (b.app ??= import('./app.js')
    .then(({ createApp }) => createApp(b.deps))
    .catch((err: unknown) => {
      b.app = undefined; // the next request tries again
      throw err;
    }));
}

function build(env: WorkerEnv) {
  const stringEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') stringEnv[k] = v;
  stringEnv.APP_VERSION = env.CF_VERSION_METADATA?.id ?? stringEnv.APP_VERSION;
  const config = loadConfig(stringEnv);
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL: is required on Workers']);
  const logger = createJsonLogger({ level: config.logLevel, base: { runtime: 'workerd', version: config.appVersion } });
  const metrics = createAnalyticsEngineMetrics(env.METRICS, config.appVersion);
  const queueBinding = env.NOTIFICATIONS_QUEUE;
  const queue: NotificationQueue | undefined = queueBinding ? { send: async (body, options) => void (await queueBinding.send(body, options)) } : undefined;
  const channels = createNotificationClients(config, { fetch: (input, init) => fetch(input, init), logger, now: () => systemClock.now() });
  logChannelSetup(logger, channels);
  const deps: Deps = {
    config,
    database: timedDatabase(createNeonDatabase(config.databaseUrl, { localEndpoint: config.neonLocalEndpoint, timeoutMs: config.databaseTimeoutMs }), metrics),
    clock: systemClock,
    logger,
    metrics,
    passwords: createPasswordHasher(loadKernel),
    sha256Hex: webCryptoSha256Hex,
    // caches.default: per data centre; a no-op on *.workers.dev (then every read goes to the database).
    catalogCache: createCacheApiCatalogCache(() => (globalThis as unknown as { caches: { default: CacheApiLike } }).caches.default),
    orderInputs: new OrderInputsCache(),
    docsAssets: staticDocsAssets(env.DOCS_ASSETS),
    prebuiltOpenApi: prebuiltOpenApi(env.DOCS_ASSETS),
    payments: createPayments(config),
    runtime: 'workerd',
    clientIp: cloudflareClientIp,
    lifecycle: { draining: false },
    idTokens: createIdTokenVerifier(config.oauth, webCryptoSha256Hex),
    notifications: { ...channels, ...(queue ? { queue } : {}) },
  };
  return { deps };
}

/**
 * The answer while the Worker's settings are invalid: 503 `service_unavailable`, with the headers
 * every answer carries (X-Request-Id, X-App-Version) and Retry-After (an operator must fix the
 * settings and deploy; clients back off a minute).
 */
function misconfigured(_error: ConfigError, env: WorkerEnv): Response {
  const requestId = newRequestId();
  // The variable names are safe to show; their values never are.
  return new Response(
    JSON.stringify({
      type: 'urn:laundry:problem:service_unavailable',
      title: 'Service unavailable',
      status: 503,
      detail: 'The service is misconfigured; operators have been told which settings are wrong.',
      code: 'service_unavailable',
      requestId,
    }),
    {
      status: 503,
      headers: {
        'Content-Type': PROBLEM_CONTENT_TYPE,
        'X-Request-Id': requestId,
        'X-App-Version': env.CF_VERSION_METADATA?.id ?? 'unknown',
        'Retry-After': '60',
      },
    },
  );
}

function appFor(env: WorkerEnv) {
  if (built?.env !== env) {
    try {
      built = { env, ...build(env) };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(JSON.stringify({ level: 'error', msg: 'invalid configuration', problems: err.problems }));
      built = { env, error: err };
    }
  }
  return built;
}

export default {
  /**
   * The app, and after a successful write on a path that can write an outbox row
   * (wakesNotifications: orders, staff, the Stripe webhook) one `{ kind: 'outbox' }` message on
   * NOTIFICATIONS_QUEUE, sent after the response through ctx.waitUntil: the one place every such
   * write passes, so no route enqueues. A write that made no outbox row costs one empty fan-out statement; a lost message
   * costs latency only (the cron sweep fans out rows older than a minute).
   */
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    const b = appFor(env);
    if (!('deps' in b)) return misconfigured(b.error, env);
    const response = await (await httpApp(b)).fetch(request, env, ctx);
    const queue = b.deps.notifications?.queue;
    if (queue && wakesNotifications(request.method, () => new URL(request.url).pathname, response.status)) {
      const logger = b.deps.logger;
      ctx.waitUntil(queue.send({ kind: 'outbox' }).catch((error: unknown) => logger.warn('enqueueing the outbox message failed; the sweep will send', { error })));
    }
    return response;
  },
  /**
   * Queue consumer (wrangler.toml `[[queues.consumers]]`): NOTIFICATIONS_QUEUE batches fan out and
   * send (src/notifications/queue.ts consumeNotificationBatch); the dead-letter queue's batches
   * are logged and acked (consumeDeadLetters): the deliveries stay pending for the sweep, and only
   * the attempt limit makes one `dead`.
   */
  async queue(batch: QueueBatch, env: WorkerEnv, _ctx: WorkerContext): Promise<void> {
    const b = appFor(env);
    if (!('deps' in b)) {
      for (const m of batch.messages) m.retry();
      return;
    }
    const deps = b.deps;
    // Imported here, not at global scope: a fetch isolate never evaluates the dispatcher.
    const { consumeDeadLetters, consumeNotificationBatch } = await import('./notifications/queue.js');
    if (batch.queue.endsWith(DEAD_LETTER_SUFFIX)) {
      await consumeDeadLetters(deps, batch.messages);
      return;
    }
    const n = deps.notifications;
    if (!n || Object.keys(n.clients).length === 0) {
      // No channel configured: leave the outbox as it is (the messages are only wake-ups).
      deps.logger.warn('notification queue batch ignored: no channel configured', { messages: batch.messages.length });
      for (const m of batch.messages) m.ack();
      return;
    }
    await consumeNotificationBatch(dispatchDepsOf(deps, n.clients), n.queue, batch.messages);
  },
  /**
   * Cron trigger (wrangler.toml): hold expiry, unpaid deliveries, reconciliation with Stripe, then
   * the notification sweep and pickup reminders (runScheduledJobs), run
   * only while no other scheduler (the Kubernetes CronJob, a Node timer, the CLI, or an overlapping
   * cron invocation) holds the `payments-job` lease; runPaymentJobsExclusive logs the outcome.
   */
  scheduled(controller: { scheduledTime?: number }, env: WorkerEnv, ctx: WorkerContext): void {
    const b = appFor(env);
    if (!('deps' in b)) return;
    const at = new Date(controller.scheduledTime ?? Date.now()).toISOString();
    // The jobs are imported here, not at global scope: a fetch or queue isolate never evaluates them.
    ctx.waitUntil(
      import('./modules/payments/exclusive.js').then(
        ({ runPaymentJobsExclusive }) =>
          // Already logged by the entry (`payments job failed`); nothing else to do here.
          runPaymentJobsExclusive(b.deps, { runner: `workerd:${b.deps.config.appVersion}:cron@${at}` }).catch(() => undefined),
        (error: unknown) => b.deps.logger.error('payments job failed', { error, phase: 'import' }),
      ),
    );
  },
};
