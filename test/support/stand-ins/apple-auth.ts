/**
 * A stand-in for the two Sign in with Apple REST endpoints account deletion uses
 * (developer.apple.com/documentation/sign_in_with_apple/sign_in_with_apple_rest_api), at least as
 * strict as Apple:
 * - POST /auth/token (form: client_id, client_secret, code, grant_type=authorization_code): a
 *   code this stand-in issued (`issueCode`), for that client, unused and at most 5 minutes old →
 *   `{access_token, token_type: 'bearer', expires_in, refresh_token, id_token}`; a bad, used or
 *   expired code → 400 `{error: 'invalid_grant'}`;
 * - POST /auth/revoke (form: client_id, client_secret, token, token_type_hint): 200 with an empty
 *   body, also for a token already revoked or unknown (as Apple does); the revocation is recorded.
 * Both verify the client secret as Apple does: an ES256 JWT whose signature checks with the team
 * key's public half, header `kid` = the key id, `iss` = the team id, `sub` = the form's client_id
 * (a known one), `aud` = https://appleid.apple.com, `iat` and `exp` present, exp in the future
 * and at most 6 months after iat; anything else → 400 `{error: 'invalid_client'}`. A body that
 * is not a form, or lacks a parameter → 400 `invalid_request`; another grant type →
 * `unsupported_grant_type`. `failNext(status)` makes the next call answer 500/503.
 */
import { exportPKCS8, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import { formBody, randomHex, startServer, type StandInAnswer, type StandInRequest } from './notify-http.js';

export interface AppleRevocation {
  clientId: string;
  token: string;
  tokenTypeHint: string | null;
  /** The token was one this stand-in issued (and still live). */
  known: boolean;
}

export interface AppleAuthStandIn {
  /** APPLE_AUTH_URL. */
  url: string;
  teamId: string;
  keyId: string;
  /** APPLE_PRIVATE_KEY: the team key's PKCS#8 PEM. */
  privateKeyPem: string;
  /** An authorization code for `clientId`, as the app would get from a sign-in. */
  issueCode(clientId: string): string;
  /** Refresh tokens issued by /auth/token, oldest first. */
  refreshTokens(): string[];
  revocations(): AppleRevocation[];
  /** Calls to either endpoint, refused ones included. */
  calls(): Array<{ path: string; status: number; error?: string }>;
  failNext(status: 500 | 503, times?: number): void;
  close(): Promise<void>;
}

const CODE_TTL_MS = 5 * 60_000;
const MAX_SECRET_LIFETIME_S = 15_777_000;

export async function startAppleAuthStandIn(opts: { clientIds: string[]; teamId?: string; keyId?: string }): Promise<AppleAuthStandIn> {
  const teamId = opts.teamId ?? 'TEAM123456';
  const keyId = opts.keyId ?? 'KEY1234567';
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const codes = new Map<string, { clientId: string; issuedAt: number; used: boolean }>();
  const live = new Map<string, string>(); // refresh token → client id
  const issued: string[] = [];
  const revocations: AppleRevocation[] = [];
  const calls: Array<{ path: string; status: number; error?: string }> = [];
  let faults: number[] = [];

  const refuse = (path: string, error: string): StandInAnswer => {
    calls.push({ path, status: 400, error });
    return { status: 400, body: { error } };
  };

  async function clientOk(form: URLSearchParams, key: CryptoKey): Promise<boolean> {
    const clientId = form.get('client_id');
    const secret = form.get('client_secret');
    if (!clientId || !secret || !opts.clientIds.includes(clientId)) return false;
    try {
      const { payload, protectedHeader } = await jwtVerify(secret, key, {
        algorithms: ['ES256'],
        issuer: teamId,
        subject: clientId,
        audience: 'https://appleid.apple.com',
        requiredClaims: ['iat', 'exp'],
      });
      return protectedHeader.kid === keyId && payload.exp! - payload.iat! <= MAX_SECRET_LIFETIME_S;
    } catch {
      return false;
    }
  }

  async function handle(req: StandInRequest): Promise<StandInAnswer> {
    const path = new URL(req.path, 'http://stand-in').pathname;
    if (path !== '/auth/token' && path !== '/auth/revoke') return { status: 404, body: { error: 'not_found' } };
    if (req.method !== 'POST') return { status: 405, body: { error: 'method_not_allowed' }, headers: { allow: 'POST' } };
    const fault = faults.shift();
    if (fault !== undefined) {
      calls.push({ path, status: fault });
      return { status: fault, body: { error: 'server_error' } };
    }
    const form = formBody(req);
    if (!form) return refuse(path, 'invalid_request');
    if (!(await clientOk(form, publicKey))) return refuse(path, 'invalid_client');
    const clientId = form.get('client_id')!;
    if (path === '/auth/revoke') {
      const token = form.get('token');
      const hint = form.get('token_type_hint');
      if (!token) return refuse(path, 'invalid_request');
      if (hint !== null && hint !== 'refresh_token' && hint !== 'access_token') return refuse(path, 'unsupported_token_type');
      const known = live.get(token) === clientId;
      if (known) live.delete(token);
      revocations.push({ clientId, token, tokenTypeHint: hint, known });
      calls.push({ path, status: 200 });
      return { status: 200 };
    }
    const grant = form.get('grant_type');
    if (!grant) return refuse(path, 'invalid_request');
    if (grant !== 'authorization_code') return refuse(path, 'unsupported_grant_type');
    const code = form.get('code');
    if (!code) return refuse(path, 'invalid_request');
    const entry = codes.get(code);
    if (!entry || entry.used || entry.clientId !== clientId || Date.now() - entry.issuedAt > CODE_TTL_MS) return refuse(path, 'invalid_grant');
    entry.used = true;
    const refreshToken = `r${randomHex(32)}.0.${randomHex(8)}`;
    live.set(refreshToken, clientId);
    issued.push(refreshToken);
    calls.push({ path, status: 200 });
    return { status: 200, body: { access_token: `a${randomHex(32)}`, token_type: 'bearer', expires_in: 3600, refresh_token: refreshToken, id_token: 'not.checked.here' } };
  }

  const server = await startServer(handle);
  return {
    url: server.url,
    teamId,
    keyId,
    privateKeyPem: await exportPKCS8(privateKey),
    issueCode(clientId) {
      const code = `c${randomHex(24)}.0.${randomHex(4)}`;
      codes.set(code, { clientId, issuedAt: Date.now(), used: false });
      return code;
    },
    refreshTokens: () => [...issued],
    revocations: () => [...revocations],
    calls: () => [...calls],
    failNext(status, times = 1) {
      faults = [...faults, ...Array.from({ length: times }, () => status)];
    },
    close: () => server.close(),
  };
}
