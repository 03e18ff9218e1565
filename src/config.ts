import { z } from 'zod';
import { appleRevokeConfig, type AppleRevokeConfig } from './account/apple-config.js';
import { currencyRules } from './domain/currency.js';
import { recoveryConfig, type RecoveryConfig } from './auth/recovery-config.js';
import { envSchema, type AppEnv } from './config-env.js';
import { isPlaceholder } from './config-fields.js';
import { notificationsConfig, type NotificationsConfig } from './notifications/config.js';
import { oauthConfig, type OAuthConfig } from './auth/oauth-config.js';
import { recurringConfig, type RecurringConfig } from './modules/recurring/settings.js';

export type { NotificationsConfig } from './notifications/config.js';
export type { OAuthConfig, OAuthProviderConfig } from './auth/oauth-config.js';

/**
 * Runtime configuration, validated once at start-up on both runtimes.
 * Entry files pass a plain string map (Worker bindings or process.env); everything
 * else in the app reads the typed `Config`. The variables and their parsing: src/config-env.ts.
 */

/** Used only outside production so that `npm start` and `npm run dev` need no setup. */
const DEV_JWT_SECRET = 'dev-only-jwt-secret-not-for-production-use-0000';

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
  const parsed = envSchema.safeParse(env);
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

