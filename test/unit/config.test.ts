import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isPlaceholder } from '../../src/config-fields.js';
import { loadNodeServerConfig } from '../../src/platform/node/config.js';

const prodSecrets = {
  APP_ENV: 'production',
  DATABASE_URL: 'postgres://app:pw@ep-cool-1.eu-central-1.aws.neon.tech/laundry',
  JWT_SECRET: 'k'.repeat(48),
  STRIPE_SECRET_KEY: 'sk_live_51Habcdefghijklmnop',
  STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopqrstuvwxyz',
};

function problemsOf(env: Record<string, string | undefined>, load: (env: Record<string, string | undefined>) => unknown = loadConfig): string[] {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('needs nothing in development: embedded database, dev secret, permissive CORS', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ appEnv: 'development', databaseUrl: undefined, port: 3000, corsOrigins: ['*'], currency: 'USD' });
    expect(c.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('accepts a complete production configuration and picks neon-http for Neon hosts', () => {
    const c = loadConfig({ ...prodSecrets, CORS_ORIGINS: 'https://app.example, https://admin.example' });
    expect(c.databaseDriver).toBe('neon-http');
    expect(c.corsOrigins).toEqual(['https://app.example', 'https://admin.example']);
    expect(loadConfig({ ...prodSecrets, DATABASE_URL: 'postgres://app@10.0.0.5/laundry' }).databaseDriver).toBe('node-postgres');
    expect(loadConfig({ ...prodSecrets, CORS_ORIGINS: undefined }).corsOrigins).toEqual([]);
  });

  it('refuses production without each secret, naming every missing variable', () => {
    const problems = problemsOf({ APP_ENV: 'production' });
    for (const name of ['DATABASE_URL', 'JWT_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']) {
      expect(problems.some((p) => p.startsWith(`${name}:`)), name).toBe(true);
    }
  });

  it('refuses placeholder secrets in production and never echoes them', () => {
    for (const [name, value] of [
      ['JWT_SECRET', 'your_jwt_secret_key_please_change_it_now'],
      ['STRIPE_SECRET_KEY', 'sk_test_your_key'],
      ['STRIPE_WEBHOOK_SECRET', 'whsec_your_secret'],
      ['JWT_SECRET', 'changeme-changeme-changeme-changeme'],
    ] as const) {
      const problems = problemsOf({ ...prodSecrets, [name]: value });
      expect(problems).toEqual([`${name}: is a placeholder value; set the real secret`]);
      expect(problems.join()).not.toContain(value);
    }
  });

  it('names the variable for every malformed value', () => {
    expect(problemsOf({ PORT: 'eighty' })).toEqual(['PORT: must be an integer between 0 and 65535']);
    expect(problemsOf({ PORT: '70000' })[0]).toMatch(/^PORT:/);
    expect(problemsOf({ APP_ENV: 'staging' })[0]).toMatch(/^APP_ENV:/);
    expect(problemsOf({ DATABASE_URL: 'mysql://x' })[0]).toMatch(/^DATABASE_URL:/);
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET: must be at least 32 characters']);
    expect(problemsOf({ CURRENCY: 'usd' })[0]).toMatch(/^CURRENCY:/);
    expect(problemsOf({ CURRENCY: 'XYZ' })).toEqual(['CURRENCY: XYZ is not in the currency table (src/domain/currency.ts)']);
    expect(loadConfig({ CURRENCY: 'KWD' }).currency).toBe('KWD');
    expect(problemsOf({ NEON_LOCAL_ENDPOINT: 'not a url' })[0]).toMatch(/^NEON_LOCAL_ENDPOINT:/);
    expect(problemsOf({ ...prodSecrets, NEON_LOCAL_ENDPOINT: 'http://127.0.0.1:4444/sql' })[0]).toMatch(/^NEON_LOCAL_ENDPOINT:/);
  });

  it('DATABASE_TIMEOUT_MS: 5000 ms by default, an integer between 100 and 60000', () => {
    expect(loadConfig({}).databaseTimeoutMs).toBe(5000);
    expect(loadConfig({ DATABASE_TIMEOUT_MS: '1500' }).databaseTimeoutMs).toBe(1500);
    for (const bad of ['50', '60001', '2.5', 'soon']) {
      expect(problemsOf({ DATABASE_TIMEOUT_MS: bad })).toEqual(['DATABASE_TIMEOUT_MS: must be an integer between 100 and 60000']);
    }
  });

  it('REFRESH_REUSE_GRACE_SECONDS: 30 s by default, an integer between 0 (off) and 300', () => {
    expect(loadConfig({}).refreshReuseGraceSeconds).toBe(30);
    expect(loadConfig({ REFRESH_REUSE_GRACE_SECONDS: '0' }).refreshReuseGraceSeconds).toBe(0);
    expect(loadConfig({ REFRESH_REUSE_GRACE_SECONDS: '300' }).refreshReuseGraceSeconds).toBe(300);
    for (const bad of ['-1', '301', '1.5', 'half a minute']) {
      expect(problemsOf({ REFRESH_REUSE_GRACE_SECONDS: bad })).toEqual(['REFRESH_REUSE_GRACE_SECONDS: must be an integer between 0 and 300']);
    }
  });

  it('tells placeholders from real secrets', () => {
    expect(isPlaceholder('your_jwt_secret_key')).toBe(true);
    expect(isPlaceholder('CHANGEME')).toBe(true);
    expect(isPlaceholder('dev-only-jwt-secret-not-for-production-use-0000')).toBe(true);
    expect(isPlaceholder('k'.repeat(48))).toBe(false);
    expect(isPlaceholder('sk_live_51Habcdefghijklmnop')).toBe(false);
  });
});

describe('DOCS_UI', () => {
  it('is on by default outside production, off by default in production, and either when said', () => {
    expect(loadConfig({}).docsUi).toBe(true);
    expect(loadConfig({ APP_ENV: 'test' }).docsUi).toBe(true);
    expect(loadConfig(prodSecrets).docsUi).toBe(false);
    expect(loadConfig({ ...prodSecrets, DOCS_UI: 'on' }).docsUi).toBe(true);
    expect(loadConfig({ DOCS_UI: 'off' }).docsUi).toBe(false);
    expect(() => loadConfig({ DOCS_UI: 'yes' })).toThrow(/DOCS_UI/);
  });
});

describe('loadNodeServerConfig', () => {
  const nodeProblemsOf = (env: Record<string, string | undefined>) => problemsOf(env, loadNodeServerConfig);

  it('defaults: every interface, PGlite in its default folder, the pool’s own sizes, 30 s / 10 s / 65 s sockets, no job timer', () => {
    expect(loadNodeServerConfig({})).toEqual({
      host: '0.0.0.0',
      pgliteDir: undefined,
      hashPool: {},
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 65_000,
      paymentsJobIntervalMs: 0,
      shutdownDelayMs: 0,
      shutdownGraceMs: 10_000,
      seedDemo: 'embedded',
    });
    expect(loadNodeServerConfig({ HOST: '', PGLITE_DIR: ' ', PASSWORD_HASH_THREADS: '' })).toMatchObject({ host: '0.0.0.0', pgliteDir: undefined, hashPool: {} });
  });

  it('reads each variable', () => {
    expect(
      loadNodeServerConfig({
        HOST: '127.0.0.1',
        PGLITE_DIR: '/tmp/db',
        PASSWORD_HASH_THREADS: '2',
        PASSWORD_HASH_QUEUE: '8',
        REQUEST_TIMEOUT_MS: '20000',
        HEADERS_TIMEOUT_MS: '5000',
        KEEP_ALIVE_TIMEOUT_MS: '70000',
        PAYMENTS_JOB_INTERVAL_MS: '60000',
        SHUTDOWN_DELAY_MS: '100',
        SHUTDOWN_GRACE_MS: '0',
        SEED_DEMO: '1',
      }),
    ).toEqual({
      host: '127.0.0.1',
      pgliteDir: '/tmp/db',
      hashPool: { threads: 2, maxQueue: 8 },
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 5000,
      keepAliveTimeoutMs: 70_000,
      paymentsJobIntervalMs: 60_000,
      shutdownDelayMs: 100,
      shutdownGraceMs: 0,
      seedDemo: 'always',
    });
  });

  it('headers never get longer than the whole request; production waits 5 s before closing the listener', () => {
    expect(loadNodeServerConfig({ REQUEST_TIMEOUT_MS: '5000' }).headersTimeoutMs).toBe(5000);
    expect(loadNodeServerConfig({ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '8000' }).headersTimeoutMs).toBe(5000);
    const production = { APP_ENV: 'production', METRICS_TOKEN: 'metrics-token-0123456789abcdef-0123' };
    expect(loadNodeServerConfig(production).shutdownDelayMs).toBe(5000);
    expect(loadNodeServerConfig({ ...production, SHUTDOWN_DELAY_MS: '0' }).shutdownDelayMs).toBe(0);
  });

  it('names the variable for every malformed value', () => {
    for (const name of ['PASSWORD_HASH_THREADS', 'PASSWORD_HASH_QUEUE', 'REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS']) {
      for (const bad of ['0', '-1', '2.5', 'soon']) {
        expect(nodeProblemsOf({ [name]: bad }), `${name}=${bad}`).toEqual([`${name}: must be a positive integer`]);
      }
    }
    for (const name of ['PAYMENTS_JOB_INTERVAL_MS', 'SHUTDOWN_DELAY_MS', 'SHUTDOWN_GRACE_MS']) {
      for (const bad of ['-1', 'soon', 'Infinity']) {
        expect(nodeProblemsOf({ [name]: bad }), `${name}=${bad}`).toEqual([`${name}: must be a number of milliseconds, 0 or more`]);
      }
    }
    expect(nodeProblemsOf({ REQUEST_TIMEOUT_MS: 'soon', SHUTDOWN_GRACE_MS: '-5' })).toHaveLength(2);
  });
});
