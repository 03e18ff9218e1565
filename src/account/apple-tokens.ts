import { importPKCS8, SignJWT } from 'jose';
import type { AppleRevokeConfig } from './apple-config.js';
import { seal, unseal } from '../auth/seal.js';

/*
 * Sign in with Apple REST API, the two calls account deletion needs
 * (https://developer.apple.com/documentation/sign_in_with_apple/sign_in_with_apple_rest_api):
 * - POST /auth/token (grant_type=authorization_code): the app's authorization code (single use,
 *   valid 5 minutes) for a refresh token;
 * - POST /auth/revoke (token_type_hint=refresh_token): invalidates the token and the user's
 *   authorisation of the app; answers 200 also for a token already revoked.
 * Both authenticate with a client secret: an ES256 JWT signed with the team's Sign in with Apple
 * key (kid = key id, iss = team id, sub = client id, aud = https://appleid.apple.com, exp at most
 * 6 months ahead: ours live 5 minutes). Errors come as 400 `{error: invalid_grant | invalid_client
 * | invalid_request | unsupported_grant_type | …}`. Plain fetch: the same on Workers and Node.
 */

/** How long a client secret we sign lives, seconds (Apple allows up to 15,777,000). */
export const CLIENT_SECRET_TTL_S = 300;
/** One Apple request's upper bound, ms. */
export const APPLE_TIMEOUT_MS = 10_000;
/** The seal purpose of a stored Apple refresh token (src/auth/seal.ts). */
export const APPLE_TOKEN_SEAL = 'apple-refresh-token';

/** Apple refused (`status` 4xx with its `error`) or could not be reached (`status` 0 or 5xx). */
export class AppleAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(`Apple answered ${status || 'no response'}: ${error}`);
    this.name = 'AppleAuthError';
  }
}

export async function appleClientSecret(config: AppleRevokeConfig, clientId: string, now: Date): Promise<string> {
  const key = await importPKCS8(config.privateKeyPem, 'ES256');
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: config.keyId })
    .setIssuer(config.teamId)
    .setSubject(clientId)
    .setAudience('https://appleid.apple.com')
    .setIssuedAt(iat)
    .setExpirationTime(iat + CLIENT_SECRET_TTL_S)
    .sign(key);
}

async function post(config: AppleRevokeConfig, path: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`${config.authUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(APPLE_TIMEOUT_MS),
    });
  } catch (err) {
    throw new AppleAuthError(0, err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // Apple's 5xx pages are not JSON.
  }
  if (!res.ok) throw new AppleAuthError(res.status, typeof body.error === 'string' ? body.error : `http_${res.status}`);
  return body;
}

/** The authorization code → Apple's refresh token, sealed with the client id it belongs to (for the identity row). */
export async function exchangeAppleCode(config: AppleRevokeConfig, sealSecret: string, clientId: string, code: string, now: Date): Promise<string> {
  const body = await post(config, '/auth/token', {
    client_id: clientId,
    client_secret: await appleClientSecret(config, clientId, now),
    code,
    grant_type: 'authorization_code',
  });
  if (typeof body.refresh_token !== 'string' || body.refresh_token === '') throw new AppleAuthError(200, 'no refresh_token in the answer');
  return seal(sealSecret, APPLE_TOKEN_SEAL, JSON.stringify({ clientId, refreshToken: body.refresh_token }));
}

/** Revokes a sealed refresh token (exchangeAppleCode's output). Throws AppleAuthError. */
export async function revokeAppleToken(config: AppleRevokeConfig, sealSecret: string, sealed: string, now: Date): Promise<void> {
  const { clientId, refreshToken } = JSON.parse(await unseal(sealSecret, APPLE_TOKEN_SEAL, sealed)) as { clientId: string; refreshToken: string };
  await post(config, '/auth/revoke', {
    client_id: clientId,
    client_secret: await appleClientSecret(config, clientId, now),
    token: refreshToken,
    token_type_hint: 'refresh_token',
  });
}
