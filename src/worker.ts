/**
 * Cloudflare Workers entry: bindings → dependencies → app.fetch.
 * This file and src/node.ts (with src/platform/node/) are the only ones that know which runtime they run on.
 */
import noSimdWasm from 'argon2id/dist/no-simd.wasm';
import simdWasm from 'argon2id/dist/simd.wasm';
import setupArgon2id from 'argon2id/lib/setup.js';
import { createApp, type App } from './app.js';
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
import { runPaymentJobsExclusive } from './modules/payments/exclusive.js';
import { OrderInputsCache } from './db/order-inputs.js';

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
}

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

/** Bindings are fixed for an isolate's life, so the app is built once per isolate. */
let built: { env: WorkerEnv; app: App; deps: Deps } | { env: WorkerEnv; error: ConfigError } | undefined;

function build(env: WorkerEnv) {
  const stringEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') stringEnv[k] = v;
  stringEnv.APP_VERSION = env.CF_VERSION_METADATA?.id ?? stringEnv.APP_VERSION;
  const config = loadConfig(stringEnv);
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL: is required on Workers']);
  const logger = createJsonLogger({ level: config.logLevel, base: { runtime: 'workerd', version: config.appVersion } });
  const metrics = createAnalyticsEngineMetrics(env.METRICS, config.appVersion);
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
    payments: createPayments(config),
    runtime: 'workerd',
    clientIp: cloudflareClientIp,
    lifecycle: { draining: false },
    idTokens: createIdTokenVerifier(config.oauth, webCryptoSha256Hex),
  };
  return { app: createApp(deps), deps };
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
  fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Response | Promise<Response> {
    const b = appFor(env);
    return 'app' in b ? b.app.fetch(request, env, ctx) : misconfigured(b.error, env);
  },
  /**
   * Cron trigger (wrangler.toml): hold expiry, unpaid deliveries, reconciliation with Stripe, run
   * only while no other scheduler (the Kubernetes CronJob, a Node timer, the CLI, or an overlapping
   * cron invocation) holds the `payments-job` lease; runPaymentJobsExclusive logs the outcome.
   */
  scheduled(controller: { scheduledTime?: number }, env: WorkerEnv, ctx: WorkerContext): void {
    const b = appFor(env);
    if (!('deps' in b)) return;
    const at = new Date(controller.scheduledTime ?? Date.now()).toISOString();
    ctx.waitUntil(
      // Already logged by the entry (`payments job failed`); nothing else to do here.
      runPaymentJobsExclusive(b.deps, { runner: `workerd:${b.deps.config.appVersion}:cron@${at}` }).catch(() => undefined),
    );
  },
};
