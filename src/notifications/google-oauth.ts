import { importPKCS8, SignJWT } from 'jose';
import type { ServiceAccount } from './channels/service-account.js';
import { clip, jsonObject, noAnswerError, providerRequest, retryAfterMs, type ChannelDeps } from './channels/http.js';

/** The OAuth 2.0 scope FCM HTTP v1 requires (https://firebase.google.com/docs/cloud-messaging/auth-server). */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** RFC 7523 §2.1: the grant type of a JWT bearer assertion. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Google refuses assertions valid for more than one hour (exp − iat ≤ 3600 s). */
export const ASSERTION_LIFETIME_S = 3600;

/** An access token is replaced this long before Google's `expires_in` ends (at most half its life). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export type AccessTokenResult =
  | { ok: true; token: string }
  /** `transient`: the token endpoint was down (5xx, 429, timeout, network); otherwise it refused us (invalid_grant: a bad key, clock, or claim). */
  | { ok: false; error: string; transient: boolean; retryAfterMs?: number };

/**
 * Access tokens for one service account and one scope, by the OAuth 2.0 JWT bearer grant
 * (RFC 7523; Google: https://developers.google.com/identity/protocols/oauth2/service-account,
 * "Preparing to make an authorized API call"): an RS256 assertion {iss: client_email, scope,
 * aud: token_uri, iat, exp = iat + 3600} is POSTed form-encoded to token_uri as
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`; the answer
 * `{access_token, expires_in (s), token_type: "Bearer"}` is cached until REFRESH_MARGIN_MS
 * before it expires. One token request is in flight at a time: concurrent callers share it.
 * Per isolate / process: each Worker isolate and each pod holds its own token (Google allows many).
 */
export class GoogleAccessTokens {
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<AccessTokenResult> | undefined;
  private key: Promise<CryptoKey> | undefined;

  constructor(
    private readonly account: ServiceAccount,
    private readonly scope: string,
    private readonly deps: Pick<ChannelDeps, 'fetch' | 'now'>,
    private readonly timeoutMs: number,
  ) {}

  /** A valid access token (cached, or a fresh one). Never throws. */
  token(): Promise<AccessTokenResult> {
    const now = this.deps.now().getTime();
    if (this.cached && now < this.cached.refreshAt) return Promise.resolve({ ok: true, token: this.cached.token });
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Drops `token` from the cache (the API answered 401 with it), so the next call fetches another. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<AccessTokenResult> {
    let assertion: string;
    try {
      assertion = await this.assertion();
    } catch (error) {
      return { ok: false, transient: false, error: `google_oauth: cannot sign the assertion: ${error instanceof Error ? error.message : String(error)}` };
    }
    const answer = await providerRequest(
      this.deps,
      this.account.tokenUri,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      },
      this.timeoutMs,
    );
    if (answer.kind !== 'response') return { ok: false, transient: true, error: noAnswerError('google_oauth', answer) };
    const body = jsonObject(answer.text);
    if (answer.status === 200 && typeof body?.access_token === 'string' && body.access_token !== '') {
      const expiresInMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600) * 1000;
      const obtained = this.deps.now().getTime();
      this.cached = { token: body.access_token, refreshAt: obtained + expiresInMs - Math.min(REFRESH_MARGIN_MS, expiresInMs / 2) };
      return { ok: true, token: body.access_token };
    }
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const detail = body ? `${text(body.error)}${text(body.error_description) ? `: ${text(body.error_description)}` : ''}` : clip(answer.text, 120);
    const transient = answer.status === 429 || answer.status >= 500;
    const after = retryAfterMs(answer.headers.get('retry-after'), this.deps.now());
    return { ok: false, transient, error: clip(`google_oauth ${answer.status}: ${detail}`), ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }

  private async assertion(): Promise<string> {
    this.key ??= importPKCS8(this.account.privateKey, 'RS256');
    const key = await this.key.catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    const iat = Math.floor(this.deps.now().getTime() / 1000);
    return new SignJWT({ scope: this.scope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.account.privateKeyId ? { kid: this.account.privateKeyId } : {}) })
      .setIssuer(this.account.clientEmail)
      .setAudience(this.account.tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_S)
      .sign(key);
  }
}
