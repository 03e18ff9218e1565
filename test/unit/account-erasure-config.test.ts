/**
 * Apple token revocation settings (src/account/apple-config.ts) through loadConfig, the sealing of
 * stored tokens (src/auth/seal.ts, shared with the account emails' one-time tokens), the client secret Apple expects (src/account/apple-tokens.ts)
 * and the erasure tasks' backoff.
 */
import { decodeJwt, decodeProtectedHeader, exportPKCS8, generateKeyPair, importSPKI, exportSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { appleClientSecret } from '../../src/account/apple-tokens.js';
import { erasureBackoffMs } from '../../src/account/erasure-tasks.js';
import { open, seal, unseal } from '../../src/auth/seal.js';
import { ConfigError, loadConfig } from '../../src/config.js';

async function p8() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { pem: await exportPKCS8(privateKey), spki: await exportSPKI(publicKey) };
}
const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig({ APP_ENV: 'test', ...env });
    return [];
  } catch (e) {
    return (e as ConfigError).problems;
  }
};

describe('Apple revoke settings', () => {
  it('unset: not configured', () => {
    expect(loadConfig({ APP_ENV: 'test' }).appleRevoke).toBeUndefined();
  });

  it('all three set: configured, `\\n` escapes in the key accepted, the default Apple URL', async () => {
    const { pem } = await p8();
    const config = loadConfig({ APP_ENV: 'test', APPLE_TEAM_ID: 'ABCDE12345', APPLE_KEY_ID: 'KEY1234567', APPLE_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n') }).appleRevoke;
    expect(config).toEqual({ teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKeyPem: pem.trim(), authUrl: 'https://appleid.apple.com' });
  });

  it('refuses a partial set, a key that is not a PEM, a malformed team id, and a stand-in URL in production', async () => {
    const { pem } = await p8();
    expect(problemsOf({ APPLE_TEAM_ID: 'ABCDE12345' })).toEqual([expect.stringMatching(/^APPLE_TEAM_ID: .*together/)]);
    expect(problemsOf({ APPLE_TEAM_ID: 'ABCDE12345', APPLE_KEY_ID: 'KEY1234567', APPLE_PRIVATE_KEY: 'not a key' })).toEqual([expect.stringMatching(/^APPLE_PRIVATE_KEY: /)]);
    expect(problemsOf({ APPLE_TEAM_ID: 'abc', APPLE_KEY_ID: 'KEY1234567', APPLE_PRIVATE_KEY: pem })).toEqual([expect.stringMatching(/^APPLE_TEAM_ID: /)]);
    const prod = {
      APP_ENV: 'production',
      DATABASE_URL: 'postgres://app:pw@ep-cool-1.eu-central-1.aws.neon.tech/laundry',
      JWT_SECRET: 'k'.repeat(48),
      STRIPE_SECRET_KEY: 'sk_live_51Habcdefghijklmnop',
      STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopqrstuvwxyz',
      METRICS_TOKEN: 'm'.repeat(40),
    };
    expect(() => loadConfig({ ...prod, APPLE_AUTH_URL: 'http://127.0.0.1:9' })).toThrow(/APPLE_AUTH_URL/);
  });
});

describe('sealing and the client secret', () => {
  it('seals so that only the same secret and purpose open it, and a changed byte fails', async () => {
    const sealed = await seal('s'.repeat(32), 'apple-refresh-token', 'r.token');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('r.token');
    expect(await unseal('s'.repeat(32), 'apple-refresh-token', sealed)).toBe('r.token');
    await expect(unseal('t'.repeat(32), 'apple-refresh-token', sealed)).rejects.toThrow();
    await expect(unseal('s'.repeat(32), 'other-purpose', sealed)).rejects.toThrow();
    // Change one character inside the ciphertext part (never the last character, whose low bits
    // base64url decoders may ignore), always to a different one.
    const at = sealed.lastIndexOf('.') + 2;
    const flipped = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
    expect(flipped).not.toBe(sealed);
    await expect(unseal('s'.repeat(32), 'apple-refresh-token', flipped)).rejects.toThrow();
    expect(await open('s'.repeat(32), 'apple-refresh-token', flipped)).toBeUndefined();
    expect(await open('s'.repeat(32), 'apple-refresh-token', `${sealed}.x`)).toBeUndefined();
    expect(await open('s'.repeat(32), 'apple-refresh-token', sealed)).toBe('r.token');
  });

  it('signs the client secret as Apple requires: ES256, kid, iss = team, sub = client id, aud, exp within 6 months', async () => {
    const { pem, spki } = await p8();
    const now = new Date('2026-11-30T12:00:00Z');
    const secret = await appleClientSecret({ teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKeyPem: pem, authUrl: 'https://appleid.apple.com' }, 'com.example.app', now);
    expect(decodeProtectedHeader(secret)).toEqual({ alg: 'ES256', kid: 'KEY1234567' });
    const { payload } = await jwtVerify(secret, await importSPKI(spki, 'ES256'), { currentDate: now, issuer: 'ABCDE12345', subject: 'com.example.app', audience: 'https://appleid.apple.com' });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15_777_000);
    expect(decodeJwt(secret).iat).toBe(now.getTime() / 1000);
  });

  it('backs off 1, 2, 4 … minutes, capped at a day', () => {
    expect([1, 2, 3, 4].map(erasureBackoffMs)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(erasureBackoffMs(40)).toBe(86_400_000);
  });
});
