import { CompactSign, compactVerify } from 'jose';
import { ApiError } from '../errors.js';
import type { UserRole } from '../db/schema.js';

export const JWT_ISSUER = 'laundry-api';
const ALG = 'HS256';

export interface AccessClaims {
  sub: string;
  role: UserRole;
  /**
   * The session (refresh-token family: `refresh_tokens.family_id`) the token was issued for, so
   * GET /v1/me/sessions can mark the caller's own and POST /v1/me/password can keep it. Absent
   * from tokens issued before it existed.
   */
  sid?: string;
}

export async function signAccessToken(
  claims: AccessClaims,
  secret: string,
  now: Date,
  ttlSeconds: number,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const payload: Record<string, unknown> = { sub: claims.sub, role: claims.role, iss: JWT_ISSUER, iat, exp: iat + ttlSeconds };
  if (claims.sid !== undefined) payload.sid = claims.sid;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: ALG, typ: 'JWT' }).sign(await hmacKey(secret));
}

const ROLES = new Set<string>(['customer', 'staff', 'admin'] satisfies UserRole[]);
const isUserRole = (role: string): role is UserRole => ROLES.has(role);

/**
 * The HMAC key, imported once per secret (importing the raw string on every call cost ~60 µs of a
 * ~170 µs verify on Node). Imported on first use, never at global
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
 * Tolerated clock difference, in seconds, between the pod or isolate that signed a token and the
 * one checking it: a token whose `iat`/`nbf` is up to this far in the future is accepted (RFC
 * 7519 §4.1.5 allows "some small leeway"). Expiry gets none: a token that expires a few seconds
 * early only costs a refresh.
 */
export const JWT_CLOCK_LEEWAY_S = 30;

/** `typ` when present (RFC 7519 §5.1: `JWT`, any case, `application/` optional). */
const JWT_TYP = /^(application\/)?jwt$/i;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Verifies signature, algorithm (only HS256: `alg: none` and algorithm swaps fail), issuer,
 * then the times against `now` (the caller's clock, so tests can move it): `exp` is required,
 * `iat`/`nbf` may be up to JWT_CLOCK_LEEWAY_S in the future. `sub` must be a UUID (it is used
 * as one in SQL) and `role` a known role. Every failure is a 401 with a stable code.
 */
export async function verifyAccessToken(token: string, secret: string, now: Date = new Date()): Promise<AccessClaims> {
  let payload: Record<string, unknown>;
  try {
    // jose checks the JWS (RFC 7515): the signature, `alg` in the allow-list, `crit`. The JWT's
    // own rules (RFC 7519: typ, iss, then the times with leeway) are checked here. jose rather
    // than hono/jwt: jose is in the bundle already (id tokens, FCM), one JWT library is enough.
    const { payload: bytes, protectedHeader } = await compactVerify(token, await hmacKey(secret), { algorithms: [ALG] });
    if (protectedHeader.typ !== undefined && !JWT_TYP.test(protectedHeader.typ)) throw new Error('typ');
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('payload');
    payload = parsed as Record<string, unknown>;
    if (payload.iss !== JWT_ISSUER) throw new Error('iss');
  } catch {
    throw new ApiError('invalid_token', 'The access token is malformed, tampered with or not issued by this API.');
  }
  const { sub, role, exp, iat, nbf, sid } = payload;
  const nowS = now.getTime() / 1000;
  if (!isTime(exp)) throw new ApiError('invalid_token', 'The access token has no valid expiry.');
  if ((iat !== undefined && (!isTime(iat) || iat > nowS + JWT_CLOCK_LEEWAY_S)) || (nbf !== undefined && (!isTime(nbf) || nbf > nowS + JWT_CLOCK_LEEWAY_S))) {
    throw new ApiError('invalid_token', 'The access token is not valid yet.');
  }
  if (exp <= nowS) throw new ApiError('token_expired', 'The access token has expired; refresh it.');
  if (typeof sub !== 'string' || !UUID.test(sub) || typeof role !== 'string' || !isUserRole(role)) {
    throw new ApiError('invalid_token', 'The access token lacks required claims.');
  }
  if (sid !== undefined && (typeof sid !== 'string' || !UUID.test(sid))) throw new ApiError('invalid_token', 'The access token has a malformed session id.');
  return sid === undefined ? { sub, role } : { sub, role, sid };
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


/** HKDF `info` (RFC 5869 §3.2) of the successor key: binds it to this one use of JWT_SECRET. */
const SUCCESSOR_KEY_INFO = new TextEncoder().encode('laundry-api refresh-token successor v1');

/** The successor key per secret, derived on first use (as `hmacKey`). */
const successorKeys = new Map<string, Promise<CryptoKey>>();
function successorKey(secret: string): Promise<CryptoKey> {
  let key = successorKeys.get(secret);
  if (!key) {
    if (successorKeys.size >= 8) successorKeys.clear();
    key = crypto.subtle
      .importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey'])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: SUCCESSOR_KEY_INFO },
          base,
          { name: 'HMAC', hash: 'SHA-256', length: 256 },
          false,
          ['sign'],
        ),
      );
    successorKeys.set(secret, key);
  }
  return key;
}

/**
 * The refresh token that rotating `presented` issues: base64url(HMAC-SHA256(K, presented))
 * (RFC 2104), K = HKDF-SHA256(JWT_SECRET, info "laundry-api refresh-token successor v1")
 * (RFC 5869). 256 bits, the shape of `newRefreshToken`, unpredictable without the secret; and
 * deterministic, so a repeated or concurrent refresh of one token is answered with the same
 * successor while only its SHA-256 is stored. Web Crypto only: the same on Node and workerd.
 */
export async function successorRefreshToken(presented: string, secret: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await successorKey(secret), new TextEncoder().encode(presented));
  return toBase64Url(new Uint8Array(mac));
}
