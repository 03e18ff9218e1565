import { z } from 'zod';
import { intFromString, optionalString, optionalUrl } from './config-fields.js';

/**
 * The environment variables the app reads on both runtimes, as parsed before the checks that
 * span settings (src/config.ts `loadConfig`). The settings modules read their part of
 * `RawSettings`; README and docs/runbook.md list what each is for.
 */

export const APP_ENVS = ['development', 'test', 'production'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

/**
 * The largest NOTIFY_TIMEOUT_MS accepted, ms. An FCM send is up to four sequential requests each
 * bounded by it, and the dispatcher's send lease (src/notifications/retry-policy.ts SEND_LEASE_MS)
 * is computed from this bound, so a longer timeout would let a second dispatcher re-claim a
 * delivery still being sent (a duplicate push or SMS).
 */
export const NOTIFY_TIMEOUT_MAX_MS = 30_000;

/** The environment as parsed, before the checks that span settings; the settings modules read their part. */
export type RawSettings = z.infer<typeof envSchema>;

export const envSchema = z.object({
  APP_ENV: z.enum(APP_ENVS).default('development'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  /** auto: neon-http for *.neon.tech hosts or when NEON_LOCAL_ENDPOINT is set, else node-postgres. */
  DATABASE_DRIVER: z.enum(['auto', 'neon-http', 'node-postgres']).default('auto'),
  /**
   * Upper bound on one database round trip, in ms: the server-side statement_timeout, the
   * client-side query and connect timeouts (node-postgres) and the per-request AbortSignal
   * (neon-http). Past it the request answers 503 database_unavailable (docs/runbook.md).
   */
  DATABASE_TIMEOUT_MS: intFromString(5000, 100, 60_000),
  JWT_SECRET: optionalString,
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  /** Publishable key handed to the mobile PaymentSheet (not a secret). */
  STRIPE_PUBLISHABLE_KEY: optionalString,
  /** Dev/test only: the local Stripe stand-in, e.g. http://127.0.0.1:12111. Refused in production. */
  STRIPE_API_URL: optionalUrl,
  /** How long one Stripe API request may take before the SDK gives up (and retries with the same key; later retries: src/modules/payments/attempts.ts). */
  STRIPE_TIMEOUT_MS: intFromString(10_000, 100, 120_000),
  /** Extra authorised on top of the estimate, in basis points (2000 = +20%), so a heavier bag still fits the hold. */
  PAYMENT_HOLD_BUFFER_BPS: intFromString(2000, 0, 10_000),
  /** An overage above this (minor units) waits for the customer's approval before it is charged. */
  OVERAGE_APPROVAL_THRESHOLD: intFromString(1000, 0, 10_000_000),
  PORT: intFromString(3000, 0, 65535),
  /** Comma-separated origins allowed by CORS; `*` allows any origin (never with credentials). */
  CORS_ORIGINS: optionalString,
  /** Maximum accepted request body, in bytes. */
  BODY_LIMIT_BYTES: intFromString(64 * 1024, 1024, 10 * 1024 * 1024),
  ACCESS_TOKEN_TTL_SECONDS: intFromString(15 * 60, 60, 24 * 60 * 60),
  REFRESH_TOKEN_TTL_DAYS: intFromString(30, 1, 365),
  /**
   * Seconds after a refresh token's rotation during which presenting it again answers the same
   * successor instead of revoking the session (concurrent refreshes from one app). 0 turns it off.
   */
  REFRESH_REUSE_GRACE_SECONDS: intFromString(30, 0, 300),
  /** ISO 4217 code of the shop's single currency; new catalog entries use it. Must be in src/domain/currency.ts. */
  CURRENCY: optionalString.pipe(z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').optional()),
  /** Points the Neon HTTP driver at a local Neon-compatible endpoint (dev and tests only). */
  NEON_LOCAL_ENDPOINT: optionalUrl,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Bearer token for GET /metrics (Node). Unset: /metrics is open outside production and absent in production. */
  METRICS_TOKEN: optionalString,
  APP_VERSION: optionalString,
  /**
   * Node: how many reverse proxies in front of the server append to X-Forwarded-For (an
   * ingress: 1). 0 trusts no header and uses the socket's address. Workers ignore it.
   */
  TRUSTED_PROXY_HOPS: intFromString(0, 0, 10),
  /** The interactive reference at /docs (src/http/docs-ui.ts): on or off; unset → on, except off with APP_ENV=production. */
  DOCS_UI: z.enum(['on', 'off']).optional(),
  // Notification providers (src/notifications/channels): each channel is on when its credentials are set.
  /** The Firebase service-account key file's JSON (project_id, client_email, private_key, token_uri). */
  FCM_SERVICE_ACCOUNT_JSON: optionalString,
  /** Dev/test only: the FCM stand-in's base URL (default https://fcm.googleapis.com). Refused in production. */
  FCM_API_URL: optionalUrl,
  TWILIO_ACCOUNT_SID: optionalString.pipe(z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits').optional()),
  TWILIO_AUTH_TOKEN: optionalString,
  /** An API key (SK…) and its secret, used instead of the auth token when set. */
  TWILIO_API_KEY_SID: optionalString.pipe(z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'must be SK followed by 32 hex digits').optional()),
  TWILIO_API_KEY_SECRET: optionalString,
  /** The sending number (E.164) or alphanumeric sender ID; or TWILIO_MESSAGING_SERVICE_SID. */
  TWILIO_FROM: optionalString,
  TWILIO_MESSAGING_SERVICE_SID: optionalString.pipe(z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'must be MG followed by 32 hex digits').optional()),
  /** Dev/test only: the Twilio stand-in's base URL (default https://api.twilio.com). Refused in production. */
  TWILIO_API_URL: optionalUrl,
  RESEND_API_KEY: optionalString,
  /** The email sender, `Name <address@verified-domain>` or a bare address. */
  EMAIL_FROM: optionalString.pipe(
    z
      .string()
      .regex(/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/, 'must be an address or "Name <address>"')
      .optional(),
  ),
  /** Dev/test only: the Resend stand-in's base URL (default https://api.resend.com). Refused in production. */
  RESEND_API_URL: optionalUrl,
  /**
   * Upper bound on one provider request (and one Google token request), ms; past it the send is
   * retried later. At most NOTIFY_TIMEOUT_MAX_MS: the dispatcher's send lease covers that bound.
   */
  NOTIFY_TIMEOUT_MS: intFromString(10_000, 10, NOTIFY_TIMEOUT_MAX_MS),
  // Sign in with Apple and Google (src/auth/id-tokens.ts): a provider is on when its client ids are set.
  /** Comma-separated `aud` values Apple's ID tokens may carry: the app's bundle id, the web Services ID. */
  APPLE_CLIENT_IDS: optionalString,
  /** Comma-separated `aud` values Google's ID tokens may carry: the iOS, Android and web OAuth client ids. */
  GOOGLE_CLIENT_IDS: optionalString,
  /** Apple's JWKS (default https://appleid.apple.com/auth/keys); tests point it at a stand-in. Must be https in production. */
  APPLE_JWKS_URL: optionalUrl,
  /** Google's JWKS (default https://www.googleapis.com/oauth2/v3/certs); tests point it at a stand-in. Must be https in production. */
  GOOGLE_JWKS_URL: optionalUrl,
  /** The shortest time, in seconds, between two JWKS fetches caused by an ID token whose `kid` is not in the cached set. */
  OAUTH_JWKS_COOLDOWN_SECONDS: intFromString(30, 0, 3600),
});
