import { z } from 'zod';
import { appleRevokeConfig, type AppleRevokeConfig } from './account/apple-config.js';
import { currencyRules } from './domain/currency.js';
import { recoveryConfig, type RecoveryConfig } from './auth/recovery-config.js';
import { notificationsConfig, type NotificationsConfig } from './notifications/config.js';
import { oauthConfig, type OAuthConfig } from './auth/oauth-config.js';
import { recurringConfig, type RecurringConfig } from './modules/recurring/settings.js';

/**
 * The largest NOTIFY_TIMEOUT_MS accepted, ms. An FCM send is up to four sequential requests each
 * bounded by it, and the dispatcher's send lease (src/notifications/retry-policy.ts SEND_LEASE_MS)
 * is computed from this bound, so a longer timeout would let a second dispatcher re-claim a
 * delivery still being sent (a duplicate push or SMS).
 */
export type { NotificationsConfig } from './notifications/config.js';
export type { OAuthConfig, OAuthProviderConfig } from './auth/oauth-config.js';

export const NOTIFY_TIMEOUT_MAX_MS = 30_000;

/**
 * Runtime configuration, validated once at start-up on both runtimes.
 * Entry files pass a plain string map (Worker bindings or process.env); everything
 * else in the app reads the typed `Config`.
 */

export const APP_ENVS = ['development', 'test', 'production'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

/** Used only outside production so that `npm start` and `npm run dev` need no setup. */
const DEV_JWT_SECRET = 'dev-only-jwt-secret-not-for-production-use-0000';

const PLACEHOLDER_PATTERNS = [
  /^your[_-]/i,
  /^change[_-]?me/i,
  /^replace[_-]?me/i,
  /^placeholder/i,
  /^xxx+$/i,
  /^dev-only-/i,
  /^sk_(test|live)_your/i,
  /^whsec_your/i,
  /^(secret|password|changeme|todo|example)$/i,
];

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((p) => p.test(value.trim()));
}

/** A string variable: trimmed; unset or blank → undefined. */
export const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A number from a string variable: unset or blank → `def`; otherwise `Number(v)`, which must pass `ok`. */
export const numberFromString = <D extends number | undefined>(def: D, ok: (n: number) => boolean, message: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx): number | D => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!ok(n)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return n;
    });

const intFromString = (def: number, min: number, max: number) =>
  numberFromString(def, (n) => Number.isInteger(n) && n >= min && n <= max, `must be an integer between ${min} and ${max}`);

/** The environment as parsed, before the checks that span settings; the settings modules read their part. */
export type RawSettings = z.infer<typeof rawSchema>;

const rawSchema = z.object({
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
  STRIPE_API_URL: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
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
  NEON_LOCAL_ENDPOINT: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
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
  FCM_API_URL: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
  TWILIO_ACCOUNT_SID: optionalString.pipe(z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits').optional()),
  TWILIO_AUTH_TOKEN: optionalString,
  /** An API key (SK…) and its secret, used instead of the auth token when set. */
  TWILIO_API_KEY_SID: optionalString.pipe(z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'must be SK followed by 32 hex digits').optional()),
  TWILIO_API_KEY_SECRET: optionalString,
  /** The sending number (E.164) or alphanumeric sender ID; or TWILIO_MESSAGING_SERVICE_SID. */
  TWILIO_FROM: optionalString,
  TWILIO_MESSAGING_SERVICE_SID: optionalString.pipe(z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'must be MG followed by 32 hex digits').optional()),
  /** Dev/test only: the Twilio stand-in's base URL (default https://api.twilio.com). Refused in production. */
  TWILIO_API_URL: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
  RESEND_API_KEY: optionalString,
  /** The email sender, `Name <address@verified-domain>` or a bare address. */
  EMAIL_FROM: optionalString.pipe(
    z
      .string()
      .regex(/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/, 'must be an address or "Name <address>"')
      .optional(),
  ),
  /** Dev/test only: the Resend stand-in's base URL (default https://api.resend.com). Refused in production. */
  RESEND_API_URL: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
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
  APPLE_JWKS_URL: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
  /** Google's JWKS (default https://www.googleapis.com/oauth2/v3/certs); tests point it at a stand-in. Must be https in production. */
  GOOGLE_JWKS_URL: optionalString.pipe(z.url({ message: 'must be a URL' }).optional()),
  /** The shortest time, in seconds, between two JWKS fetches caused by an ID token whose `kid` is not in the cached set. */
  OAUTH_JWKS_COOLDOWN_SECONDS: intFromString(30, 0, 3600),
});

export interface Config {
  appEnv: AppEnv;
  databaseUrl: string | undefined;
  /** Which driver serves `databaseUrl` on Node; Workers always use neon-http. */
  databaseDriver: 'neon-http' | 'node-postgres';
  /** One database round trip's upper bound, ms (DATABASE_TIMEOUT_MS). */
  databaseTimeoutMs: number;
  jwtSecret: string;
  stripeSecretKey: string | undefined;
  stripeWebhookSecret: string | undefined;
  stripePublishableKey: string | undefined;
  stripeApiUrl: string | undefined;
  stripeTimeoutMs: number;
  paymentHoldBufferBps: number;
  overageApprovalThreshold: number;
  port: number;
  corsOrigins: string[];
  bodyLimitBytes: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** REFRESH_REUSE_GRACE_SECONDS: src/modules/auth/refresh.ts. */
  refreshReuseGraceSeconds: number;
  currency: string;
  neonLocalEndpoint: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  metricsToken: string | undefined;
  appVersion: string;
  trustedProxyHops: number;
  /** Serve /docs (DOCS_UI). /openapi.json is served either way. */
  docsUi: boolean;
  /** Notification providers; a provider absent here is not configured (src/notifications/channels/index.ts). */
  notifications: NotificationsConfig;
  /** Sign in with Apple and Google; a provider absent here answers 503 `provider_not_configured`. */
  oauth: OAuthConfig;
  /** Apple token revocation on account deletion (src/account/apple-config.ts); undefined when not configured. */
  appleRevoke: AppleRevokeConfig | undefined;
  /** APP_LINK_BASE (src/auth/recovery-config.ts). */
  recovery: RecoveryConfig;
  /** Recurring pickups (src/modules/recurring/settings.ts). */
  recurring: RecurringConfig;
}


export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** One problem per bad variable, each starting with its name. */
export const configErrorOf = (error: z.ZodError) =>
  new ConfigError(error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));

/**
 * Parses and validates configuration. Throws `ConfigError` naming every bad variable,
 * so a deployment fails at start rather than on the first request.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = rawSchema.safeParse(env);
  if (!parsed.success) throw configErrorOf(parsed.error);
  const raw = parsed.data;
  const problems: string[] = [];
  const production = raw.APP_ENV === 'production';

  const secrets = {
    JWT_SECRET: raw.JWT_SECRET,
    STRIPE_SECRET_KEY: raw.STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: raw.STRIPE_WEBHOOK_SECRET,
  };
  for (const [name, value] of Object.entries(secrets)) {
    if (value !== undefined && isPlaceholder(value) && production) {
      problems.push(`${name}: is a placeholder value; set the real secret`);
    } else if (value === undefined && production) {
      problems.push(`${name}: is required when APP_ENV=production`);
    }
  }
  if (production && !raw.DATABASE_URL) {
    problems.push('DATABASE_URL: is required when APP_ENV=production');
  }
  if (raw.JWT_SECRET !== undefined && raw.JWT_SECRET.length < 32) {
    problems.push('JWT_SECRET: must be at least 32 characters');
  }
  if (raw.METRICS_TOKEN !== undefined && (raw.METRICS_TOKEN.length < 16 || (production && isPlaceholder(raw.METRICS_TOKEN)))) {
    problems.push('METRICS_TOKEN: must be at least 16 characters and not a placeholder');
  }
  if (production && raw.STRIPE_API_URL) {
    problems.push('STRIPE_API_URL: must not be set when APP_ENV=production');
  }
  if (production && raw.NEON_LOCAL_ENDPOINT) {
    problems.push('NEON_LOCAL_ENDPOINT: must not be set when APP_ENV=production');
  }
  const notifications = notificationsConfig(raw, production, problems);
  const oauth = oauthConfig(raw, production, problems);
  const appleRevoke = appleRevokeConfig(env, production, problems);
  const recovery = recoveryConfig(env, production, problems);
  const recurring = recurringConfig(env, problems);
  if (raw.CURRENCY && !currencyRules(raw.CURRENCY)) problems.push(`CURRENCY: ${raw.CURRENCY} is not in the currency table (src/domain/currency.ts)`);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    appEnv: raw.APP_ENV,
    databaseUrl: raw.DATABASE_URL,
    databaseDriver: resolveDriver(raw.DATABASE_DRIVER, raw.DATABASE_URL, raw.NEON_LOCAL_ENDPOINT),
    databaseTimeoutMs: raw.DATABASE_TIMEOUT_MS,
    jwtSecret: raw.JWT_SECRET ?? DEV_JWT_SECRET,
    stripeSecretKey: raw.STRIPE_SECRET_KEY,
    stripeWebhookSecret: raw.STRIPE_WEBHOOK_SECRET,
    stripePublishableKey: raw.STRIPE_PUBLISHABLE_KEY,
    stripeApiUrl: raw.STRIPE_API_URL,
    stripeTimeoutMs: raw.STRIPE_TIMEOUT_MS,
    paymentHoldBufferBps: raw.PAYMENT_HOLD_BUFFER_BPS,
    overageApprovalThreshold: raw.OVERAGE_APPROVAL_THRESHOLD,
    port: raw.PORT,
    corsOrigins: (raw.CORS_ORIGINS ?? (production ? '' : '*'))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    accessTokenTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: raw.REFRESH_TOKEN_TTL_DAYS,
    refreshReuseGraceSeconds: raw.REFRESH_REUSE_GRACE_SECONDS,
    currency: raw.CURRENCY ?? 'USD',
    neonLocalEndpoint: raw.NEON_LOCAL_ENDPOINT,
    logLevel: raw.LOG_LEVEL,
    metricsToken: raw.METRICS_TOKEN,
    appVersion: raw.APP_VERSION ?? 'dev',
    trustedProxyHops: raw.TRUSTED_PROXY_HOPS,
    docsUi: (raw.DOCS_UI ?? (production ? 'off' : 'on')) === 'on',
    notifications,
    oauth,
    appleRevoke,
    recovery,
    recurring,
  };
}


function resolveDriver(
  choice: 'auto' | 'neon-http' | 'node-postgres',
  url: string | undefined,
  localEndpoint: string | undefined,
): 'neon-http' | 'node-postgres' {
  if (choice !== 'auto') return choice;
  if (localEndpoint) return 'neon-http';
  const host = url ? new URL(url).hostname : '';
  return /\.neon\.(tech|build)$/.test(host) ? 'neon-http' : 'node-postgres';
}

