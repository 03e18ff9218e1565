import { Hono } from 'hono';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createHmac, hkdfSync } from 'node:crypto';
import { JWT_CLOCK_LEEWAY_S, JWT_ISSUER, newRefreshToken, successorRefreshToken, verifyAccessToken } from '../../src/auth/tokens.js';
import { ApiError } from '../../src/errors.js';
import { cloudflareClientIp, forwardedClientIp } from '../../src/http/client-ip.js';
import { clientAddressUnit, isLoopback } from '../../src/modules/auth/register.js';

const SECRET = 'unit-secret-0123456789abcdef0123456789abcdef';
const SUB = '3f0b9e8e-7c1d-4f7a-9d2a-5b6c7d8e9f01';
const NOW = new Date('2026-11-29T12:00:00Z');
const nowS = NOW.getTime() / 1000;

async function codeOf(claims: Record<string, unknown>): Promise<string> {
  const token = await sign({ iss: JWT_ISSUER, sub: SUB, role: 'staff', ...claims }, SECRET, 'HS256');
  try {
    await verifyAccessToken(token, SECRET, NOW);
    return 'ok';
  } catch (err) {
    return (err as ApiError).code;
  }
}

describe('access token times and claims', () => {
  it(`accepts iat/nbf up to ${JWT_CLOCK_LEEWAY_S} s ahead of this clock, not more`, async () => {
    expect(await codeOf({ iat: nowS + 1, exp: nowS + 900 })).toBe('ok');
    expect(await codeOf({ iat: nowS + JWT_CLOCK_LEEWAY_S, nbf: nowS + JWT_CLOCK_LEEWAY_S, exp: nowS + 900 })).toBe('ok');
    expect(await codeOf({ iat: nowS + JWT_CLOCK_LEEWAY_S + 1, exp: nowS + 900 })).toBe('invalid_token');
    expect(await codeOf({ iat: nowS, nbf: nowS + 60, exp: nowS + 900 })).toBe('invalid_token');
    expect(await codeOf({ iat: 'yesterday', exp: nowS + 900 })).toBe('invalid_token');
  });

  it('requires a numeric exp in the future (no leeway), a UUID sub and a known role', async () => {
    expect(await codeOf({ iat: nowS })).toBe('invalid_token');
    expect(await codeOf({ iat: nowS, exp: 'never' })).toBe('invalid_token');
    expect(await codeOf({ iat: nowS - 900, exp: nowS })).toBe('token_expired');
    expect(await codeOf({ iat: nowS, exp: nowS + 1 })).toBe('ok');
    expect(await codeOf({ iat: nowS, exp: nowS + 900, sub: 'not-a-uuid' })).toBe('invalid_token');
    expect(await codeOf({ iat: nowS, exp: nowS + 900, sub: `${SUB}'` })).toBe('invalid_token');
    expect(await codeOf({ iat: nowS, exp: nowS + 900, role: 'root' })).toBe('invalid_token');
  });
});

describe('client addresses', () => {
  it('counts IPv4 per address and IPv6 per /64, however the address is written', () => {
    expect(clientAddressUnit('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressUnit('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressUnit('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressUnit('2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientAddressUnit('[2001:db8::5]')).toBe('2001:db8:0:0::/64');
    expect(clientAddressUnit('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('exempts loopback only', () => {
    for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '[::1]']) expect(isLoopback(ip), ip).toBe(true);
    for (const ip of ['10.0.0.1', '203.0.113.7', '2001:db8::1', '::2']) expect(isLoopback(ip), ip).toBe(false);
  });

  const ipOf = async (pick: (c: never) => string | undefined, headers: Record<string, string>, env?: unknown) => {
    const app = new Hono().get('/', (c) => c.text(pick(c as never) ?? 'none'));
    return (await app.request('/', { headers }, env as never)).text();
  };

  it('Node trusts X-Forwarded-For only as far as TRUSTED_PROXY_HOPS, else the socket', async () => {
    const env = { incoming: { socket: { remoteAddress: '10.1.2.3' } } };
    const xff = { 'x-forwarded-for': '198.51.100.9, 203.0.113.7' };
    expect(await ipOf(forwardedClientIp(0), xff, env)).toBe('10.1.2.3');
    expect(await ipOf(forwardedClientIp(1), xff, env)).toBe('203.0.113.7');
    expect(await ipOf(forwardedClientIp(2), xff, env)).toBe('198.51.100.9');
    expect(await ipOf(forwardedClientIp(3), xff, env)).toBe('10.1.2.3');
    expect(await ipOf(forwardedClientIp(1), {}, undefined)).toBe('none');
  });

  it('Workers use CF-Connecting-IP', async () => {
    expect(await ipOf(cloudflareClientIp, { 'cf-connecting-ip': '203.0.113.7' })).toBe('203.0.113.7');
    expect(await ipOf(cloudflareClientIp, {})).toBe('none');
  });
});

describe('refresh token successors', () => {
  it('are HMAC-SHA256 under an HKDF-derived key: the same for the same token and secret, checked against node:crypto', async () => {
    const presented = newRefreshToken();
    const successor = await successorRefreshToken(presented, SECRET);
    // RFC 5869 HKDF-SHA256 (empty salt) then RFC 2104 HMAC-SHA256, by another implementation.
    const key = Buffer.from(hkdfSync('sha256', SECRET, Buffer.alloc(0), 'laundry-api refresh-token successor v1', 32));
    expect(successor).toBe(createHmac('sha256', key).update(presented).digest('base64url'));
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await successorRefreshToken(presented, SECRET)).toBe(successor);
    expect(successor).not.toBe(presented);
    expect(await successorRefreshToken(successor, SECRET)).not.toBe(successor);
    expect(await successorRefreshToken(presented, `${SECRET}x`)).not.toBe(successor);
    expect(await successorRefreshToken(newRefreshToken(), SECRET)).not.toBe(successor);
  });
});
