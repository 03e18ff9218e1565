import type { Context } from 'hono';
import type { IdTokenVerifier } from './auth/id-tokens.js';
import type { PasswordHasher } from './auth/password.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import type { OrderInputsCache } from './db/order-inputs.js';
import type { DocsAssets } from './http/docs-ui.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics/index.js';
import type { ChannelClient, NotificationChannel } from './notifications/types.js';
import type { NotificationQueue } from './notifications/queue.js';
import type { Payments } from './payments/stripe.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type RuntimeName = 'node' | 'workerd';

/** A cached text and the instant (epoch ms, by `Clock`) after which it must not be served. */
export interface CachedText {
  value: string;
  expiresAt: number;
  /** The entity tag of `value` (the catalog's ETag), computed once when the entry was made; stores keep it. */
  etag?: string;
}

/**
 * A small short-TTL text cache for the public catalog: memory on Node, the Cache API
 * (`caches.default`, per data centre) on Workers. Callers check `expiresAt` against their
 * clock, so an entry is never served past it whatever the store does.
 * Implementations and the invalidation rules: src/modules/catalog/cache.ts.
 */
export interface CatalogCache {
  get(key: string): Promise<CachedText | undefined>;
  put(key: string, entry: CachedText, ttlSeconds: number): Promise<void>;
}

/**
 * What sends notifications (src/notifications/dispatch.ts): the channel clients that are
 * configured (a channel without one is "not configured": its deliveries are skipped at fan-out),
 * and on Workers the NOTIFICATIONS_QUEUE producer. Absent where nothing sends: the Node API server
 * (the `notifications-worker` process sends there) and tests that do not send.
 */
export interface NotificationDeps {
  clients: Partial<Record<NotificationChannel, ChannelClient>>;
  /** Channels with no client (logged at start). */
  notConfigured: NotificationChannel[];
  queue?: NotificationQueue;
}

/**
 * Everything the app needs from the outside world. The entry files (src/worker.ts,
 * src/platform/node/deps.ts for src/node.ts) build it; tests build it with in-memory twins. Handlers reach it through
 * the single `deps` context variable, never through module-level singletons.
 */
export interface Deps {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  /** Counters and timings: Prometheus on Node, Analytics Engine on Workers, memory in tests. */
  metrics: Metrics;
  passwords: PasswordHasher;
  /**
   * SHA-256 as lowercase hex (idempotency fingerprints, refresh-token hashes). WebCrypto on
   * Workers; node:crypto on Node, where crypto.subtle.digest hops to the thread pool and costs
   * ~50 µs against ~2 µs.
   */
  sha256Hex: (text: string) => Promise<string>;
  /** GET /v1/services, cached for a few seconds: src/modules/catalog/cache.ts. */
  catalogCache: CatalogCache;
  /**
   * The rows an order was last priced on (zones, services, addresses, slots), in process or
   * isolate memory, so that POST /v1/orders usually needs one round trip; every entry is
   * re-checked by the write itself: src/db/order-inputs.ts.
   */
  orderInputs: OrderInputsCache;
  /**
   * The Swagger UI files /docs loads (src/http/docs-ui.ts): read from the installed
   * swagger-ui-dist package on Node, from Workers Static Assets on Workers.
   */
  docsAssets: DocsAssets;
  /**
   * The text of /openapi.json built at build time (the Worker: `openapi.json` in its Static
   * Assets, tools/worker-bundle/build.ts), or undefined: then the app builds it from its routes
   * on first request (Node, the Vitest Workers pool).
   */
  prebuiltOpenApi?: () => Promise<string | undefined>;
  /** Undefined when Stripe is not configured: card endpoints then answer 503. */
  payments: Payments | undefined;
  runtime: RuntimeName;
  /**
   * The client's IP address, for per-address limits (registration), or undefined when the
   * request did not come over the network (an in-process call). Workers: CF-Connecting-IP,
   * which Cloudflare sets. Node: the socket's address, or with TRUSTED_PROXY_HOPS = n the n-th
   * X-Forwarded-For entry from the right (the one the outermost trusted proxy saw).
   */
  clientIp: (c: Context) => string | undefined;
  /** See NotificationDeps; undefined where this process does not send notifications. */
  notifications?: NotificationDeps;
  /** Set by the Node entry on SIGTERM so readiness fails while in-flight requests finish. */
  lifecycle: { draining: boolean };
  /** Sign in with Apple and Google: verifies ID tokens against the providers' cached JWKS (src/auth/id-tokens.ts). */
  idTokens: IdTokenVerifier;
}
