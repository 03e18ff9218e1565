import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const prod = {
  APP_ENV: 'production',
  DATABASE_URL: 'postgres://app:pw@ep-cool-1.eu-central-1.aws.neon.tech/laundry',
  JWT_SECRET: 'k'.repeat(48),
  STRIPE_SECRET_KEY: 'sk_live_51Habcdefghijklmnop',
  STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopqrstuvwxyz',
};

describe('Sign in with Apple and Google settings', () => {
  it('unset client ids: neither provider is configured; the cooldown defaults to 30 s', () => {
    expect(loadConfig({ APP_ENV: 'test' }).oauth).toEqual({ jwksCooldownSeconds: 30 });
  });

  it('client ids are comma-separated and trimmed; the JWKS URLs default to the providers’', () => {
    const { oauth } = loadConfig({ APP_ENV: 'test', APPLE_CLIENT_IDS: ' com.example.app , com.example.web ,', GOOGLE_CLIENT_IDS: 'a.apps.googleusercontent.com' });
    expect(oauth.apple).toEqual({ clientIds: ['com.example.app', 'com.example.web'], jwksUrl: 'https://appleid.apple.com/auth/keys' });
    expect(oauth.google).toEqual({ clientIds: ['a.apps.googleusercontent.com'], jwksUrl: 'https://www.googleapis.com/oauth2/v3/certs' });
  });

  it('only commas is not configured', () => {
    expect(loadConfig({ APP_ENV: 'test', APPLE_CLIENT_IDS: ' , ,' }).oauth.apple).toBeUndefined();
  });

  it('production refuses a plain-http key set URL, naming the variable; tests may use one', () => {
    const env = { ...prod, APPLE_CLIENT_IDS: 'com.example.app', APPLE_JWKS_URL: 'http://127.0.0.1:9/keys' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['APPLE_JWKS_URL: must be https when APP_ENV=production']);
    }
    expect(loadConfig({ ...env, APP_ENV: 'test' }).oauth.apple?.jwksUrl).toBe('http://127.0.0.1:9/keys');
  });

  it('the cooldown is bounded', () => {
    expect(() => loadConfig({ APP_ENV: 'test', OAUTH_JWKS_COOLDOWN_SECONDS: '-1' })).toThrow(/OAUTH_JWKS_COOLDOWN_SECONDS/);
    expect(loadConfig({ APP_ENV: 'test', OAUTH_JWKS_COOLDOWN_SECONDS: '0' }).oauth.jwksCooldownSeconds).toBe(0);
  });
});
