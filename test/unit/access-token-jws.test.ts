/**
 * Access tokens are signed and checked with jose (src/auth/tokens.ts), the one JWT library the
 * Worker bundle carries (it used hono/jwt before): tokens signed before the switch still verify,
 * and every JWS/JWT rule the old check enforced still holds (RFC 7515, RFC 7519, RFC 8725).
 */
import { sign as honoSign, verify as honoVerify } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { JWT_ISSUER, signAccessToken, verifyAccessToken } from '../../src/auth/tokens.js';
import { ApiError } from '../../src/errors.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const NOW = new Date('2026-11-30T12:00:00Z');
const iat = Math.floor(NOW.getTime() / 1000);
const claims = { sub: '0b8f5a4e-3c1d-4e2f-9a7b-6c5d4e3f2a1b', role: 'staff' as const, iss: JWT_ISSUER, iat, exp: iat + 600 };
const b64url = (text: string) => Buffer.from(text).toString('base64url');

async function refused(token: string): Promise<string> {
  const err = await verifyAccessToken(token, SECRET, NOW).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return (err as ApiError).code;
}

/** A token with this header, signed with HS256 over the usual claims (what an attacker with the key's shape could try). */
async function withHeader(header: Record<string, unknown>, payload: unknown = claims): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(mac).toString('base64url')}`;
}

describe('access tokens through jose', () => {
  it('verifies a token hono/jwt signed (issued before the switch), and hono/jwt verifies ours', async () => {
    const old = await honoSign({ ...claims, sid: '1b8f5a4e-3c1d-4e2f-9a7b-6c5d4e3f2a1b' }, SECRET, 'HS256');
    expect(await verifyAccessToken(old, SECRET, NOW)).toEqual({ sub: claims.sub, role: 'staff', sid: '1b8f5a4e-3c1d-4e2f-9a7b-6c5d4e3f2a1b' });
    const ours = await signAccessToken({ sub: claims.sub, role: 'admin' }, SECRET, NOW, 600);
    expect(JSON.parse(Buffer.from(ours.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(await honoVerify(ours, SECRET, { alg: 'HS256', iss: JWT_ISSUER, exp: false, iat: false, nbf: false })).toMatchObject({ sub: claims.sub, role: 'admin', iss: JWT_ISSUER, exp: iat + 600 });
    expect(await verifyAccessToken(ours, SECRET, NOW)).toEqual({ sub: claims.sub, role: 'admin' });
  });

  it('accepts typ JWT in any case, with or without application/, or no typ at all', async () => {
    for (const typ of ['JWT', 'jwt', 'application/jwt', undefined]) {
      expect(await verifyAccessToken(await withHeader({ alg: 'HS256', ...(typ ? { typ } : {}) }), SECRET, NOW)).toEqual({ sub: claims.sub, role: 'staff' });
    }
  });

  it('refuses alg none, another algorithm, another typ, a crit header, another issuer, a bad signature or a non-object payload', async () => {
    const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`;
    expect(await refused(none)).toBe('invalid_token');
    expect(await refused(await honoSign(claims, SECRET, 'HS512'))).toBe('invalid_token');
    expect(await refused(await withHeader({ alg: 'HS256', typ: 'at+jwt' }))).toBe('invalid_token');
    expect(await refused(await withHeader({ alg: 'HS256', typ: 'JWT', crit: ['exp'], exp: 1 }))).toBe('invalid_token');
    expect(await refused(await withHeader({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'someone-else' }))).toBe('invalid_token');
    expect(await refused(await withHeader({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: undefined }))).toBe('invalid_token');
    const valid = await withHeader({ alg: 'HS256', typ: 'JWT' });
    expect(await refused(`${valid.slice(0, -2)}${valid.endsWith('AA') ? 'BB' : 'AA'}`)).toBe('invalid_token');
    expect(await refused(await honoSign(claims, 'another-secret-that-is-at-least-32-chars', 'HS256'))).toBe('invalid_token');
    expect(await refused(await withHeader({ alg: 'HS256' }, [1, 2]))).toBe('invalid_token');
    expect(await refused(await withHeader({ alg: 'HS256' }, 'a string'))).toBe('invalid_token');
    expect(await refused('not.a.token')).toBe('invalid_token');
  });
});
