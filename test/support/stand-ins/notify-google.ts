/**
 * Google's OAuth 2.0 token endpoint for service accounts, as strict as the real one
 * (https://developers.google.com/identity/protocols/oauth2/service-account, "Making the access
 * token request"; RFC 7523): a form-encoded POST with
 * grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 JWT assertion whose
 * signature must verify against the service account's public key, iss = client_email,
 * aud = token_uri, a scope, iat and exp with exp − iat ≤ 3600 s and exp in the future.
 * Refusals are answered like Google: 400 {error: invalid_grant | invalid_scope |
 * unsupported_grant_type | invalid_request, error_description}. Tokens it issues are checked by
 * the FCM stand-in (accessTokenValid).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { FaultQueue, formBody, randomHex, startServer, type Fault, type StandInAnswer } from './notify-http.js';

export const GOOGLE_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface TokenRequestRecord {
  status: number;
  error?: string;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

export interface GoogleTokenStandIn {
  /** The token_uri written in the service account. */
  tokenUri: string;
  /** The key file (project_id, client_email, private_key (PKCS#8 PEM), private_key_id, token_uri, …). */
  serviceAccount: Record<string, string>;
  /** Every token request, answered or refused. */
  tokenRequests: TokenRequestRecord[];
  /** expires_in of the next tokens issued, s (default 3599, as Google). */
  expiresIn: number;
  /** Whether FCM accepts this bearer token: issued here, not revoked, not past its expiry. */
  accessTokenValid(token: string): boolean;
  /** The space-separated scopes a token was issued for. */
  tokenScopes(token: string): string[];
  /** Every token issued so far stops working (FCM answers 401). */
  revokeAll(): void;
  failNext(fault: Fault, times?: number): void;
  /** Drops queued faults. */
  clearFaults(): void;
  close(): Promise<void>;
}

const refuse = (error: string, description: string): StandInAnswer => ({ status: 400, body: { error, error_description: description } });

export async function startGoogleTokenStandIn(opts: { now?: () => number; projectId?: string } = {}): Promise<GoogleTokenStandIn> {
  const now = opts.now ?? (() => Date.now());
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const projectId = opts.projectId ?? 'laundry-standin';
  const clientEmail = `notify@${projectId}.iam.gserviceaccount.com`;
  const issued = new Map<string, { expiresAt: number; revoked: boolean; scope: string }>();
  const faults = new FaultQueue();
  const tokenRequests: TokenRequestRecord[] = [];
  let tokenUri = '';

  const state = {
    expiresIn: 3599,
  };

  const server = await startServer(async (req) => {
    if (req.method !== 'POST' || req.path !== '/token') return { status: 404, body: { error: 'not_found' } };
    const fault = faults.take();
    if (fault && 'hang' in fault) return undefined;
    if (fault) {
      tokenRequests.push({ status: fault.status, error: 'injected' });
      return { status: fault.status, body: { error: 'internal_failure', error_description: 'injected' }, ...(fault.retryAfter ? { headers: { 'retry-after': fault.retryAfter } } : {}) };
    }
    const answer = await verify(req.body, formBody(req) !== undefined, publicKey);
    tokenRequests.push({ status: answer.answer.status, ...(answer.error ? { error: answer.error } : {}), ...(answer.claims ? { claims: answer.claims } : {}), ...(answer.header ? { header: answer.header } : {}) });
    return answer.answer;
  });
  tokenUri = `${server.url}/token`;

  async function verify(
    body: string,
    isForm: boolean,
    key: KeyObject,
  ): Promise<{ answer: StandInAnswer; error?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> }> {
    const fail = (error: string, description: string) => ({ answer: refuse(error, description), error: `${error}: ${description}` });
    if (!isForm) return fail('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant !== GOOGLE_JWT_BEARER) return fail('unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
    const assertion = form.get('assertion');
    if (!assertion) return fail('invalid_request', 'Missing required parameter: assertion');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      const verified = await compactVerify(assertion, key, { algorithms: ['RS256'] });
      header = verified.protectedHeader as Record<string, unknown>;
      claims = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch {
      return fail('invalid_grant', 'Invalid JWT Signature.');
    }
    const out = (e: { answer: StandInAnswer; error: string }) => ({ ...e, claims, header });
    if (claims.iss !== clientEmail) return out(fail('invalid_grant', 'Invalid grant: account not found'));
    if (claims.aud !== tokenUri) return out(fail('invalid_grant', 'Invalid JWT: Failed audience check.'));
    if (typeof claims.scope !== 'string' || claims.scope.trim() === '') return out(fail('invalid_scope', 'Invalid OAuth scope or ID token audience provided.'));
    const nowS = Math.floor(now() / 1000);
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || exp <= iat || exp <= nowS || iat > nowS + 60) {
      return out(
        fail('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.'),
      );
    }
    const token = `ya29.standin.${issued.size + 1}.${randomHex(16)}`;
    issued.set(token, { expiresAt: now() + state.expiresIn * 1000, revoked: false, scope: claims.scope });
    return { answer: { status: 200, body: { access_token: token, expires_in: state.expiresIn, token_type: 'Bearer' } }, claims, header };
  }

  return {
    tokenUri,
    serviceAccount: {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomHex(40),
      private_key: privatePem,
      client_email: clientEmail,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
    },
    tokenRequests,
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(v: number) {
      state.expiresIn = v;
    },
    accessTokenValid(token) {
      const t = issued.get(token);
      return t !== undefined && !t.revoked && now() < t.expiresAt;
    },
    tokenScopes: (token) => issued.get(token)?.scope.split(' ') ?? [],
    revokeAll() {
      for (const t of issued.values()) t.revoked = true;
    },
    failNext: (fault, times) => faults.push(fault, times),
    clearFaults: () => faults.clear(),
    close: () => server.close(),
  };
}
