import { sign, verify } from 'hono/jwt';
import { JwtTokenExpired } from 'hono/utils/jwt/types';
import { ApiError } from '../errors.js';
import type { UserRole } from '../db/schema.js';

export const JWT_ISSUER = 'laundry-api';
const ALG = 'HS256';

export interface AccessClaims {
  sub: string;
  role: UserRole;
}

export async function signAccessToken(
  claims: AccessClaims,
  secret: string,
  now: Date,
  ttlSeconds: number,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return sign({ sub: claims.sub, role: claims.role, iss: JWT_ISSUER, iat, exp: iat + ttlSeconds }, await hmacKey(secret), ALG);
}

const ROLES = new Set<string>(['customer', 'staff', 'admin']);

/**
 * The HMAC key, imported once per secret (hono's sign/verify would import the raw string on
 * every call: ~60 µs of a ~170 µs verify on Node). Imported on first use, never at global
 * scope; a handful of secrets at most per process (rotation), so the map is just cleared if it
 * ever grows.
 */
const hmacKeys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    if (hmacKeys.size >= 8) hmacKeys.clear();
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * Verifies signature, algorithm (only HS256: `alg: none` and algorithm swaps fail),
 * issuer and expiry. Every failure is a 401 with a stable code.
 */
export async function verifyAccessToken(token: string, secret: string): Promise<AccessClaims> {
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, await hmacKey(secret), { alg: ALG, iss: JWT_ISSUER });
  } catch (err) {
    if (err instanceof JwtTokenExpired) throw new ApiError('token_expired', 'The access token has expired; refresh it.');
    throw new ApiError('invalid_token', 'The access token is malformed, tampered with or not issued by this API.');
  }
  const { sub, role } = payload;
  if (typeof sub !== 'string' || typeof role !== 'string' || !ROLES.has(role)) {
    throw new ApiError('invalid_token', 'The access token lacks required claims.');
  }
  return { sub, role: role as UserRole };
}

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 256 random bits; only its SHA-256 is stored, so a database leak yields no usable token. */
export function newRefreshToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

