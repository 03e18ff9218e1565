import { describe, expect, it } from 'vitest';
import { ConfigError, isPlaceholder, loadConfig } from '../../src/config.js';

const prodSecrets = {
  APP_ENV: 'production',
  DATABASE_URL: 'postgres://app:pw@ep-cool-1.eu-central-1.aws.neon.tech/laundry',
  JWT_SECRET: 'k'.repeat(48),
  STRIPE_SECRET_KEY: 'sk_live_51Habcdefghijklmnop',
  STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopqrstuvwxyz',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
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

  it('tells placeholders from real secrets', () => {
    expect(isPlaceholder('your_jwt_secret_key')).toBe(true);
    expect(isPlaceholder('CHANGEME')).toBe(true);
    expect(isPlaceholder('dev-only-jwt-secret-not-for-production-use-0000')).toBe(true);
    expect(isPlaceholder('k'.repeat(48))).toBe(false);
    expect(isPlaceholder('sk_live_51Habcdefghijklmnop')).toBe(false);
  });
});
