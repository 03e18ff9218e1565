import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import type { OAuthConfig, OAuthProviderConfig } from '../config.js';
import type { IdentityProvider } from '../db/schema-identities.js';
import { ApiError } from '../errors.js';
import { textProblem } from '../domain/text.js';

/*
 * Verifying the ID tokens of Sign in with Apple and Google (OpenID Connect ID tokens, JWS over a
 * JWT), with `jose`, against each provider's published JWKS.
 *
 * The checks, per provider documentation:
 * - Google, "Verify the integrity of the ID token"
 *   (https://developers.google.com/identity/sign-in/web/backend-auth,
 *   https://developers.google.com/identity/gsi/web/guides/verify-google-id-token): signed by one
 *   of Google's keys (https://www.googleapis.com/oauth2/v3/certs, rotated: refetch per
 *   Cache-Control); `aud` one of the app's client ids; `iss` `accounts.google.com` or
 *   `https://accounts.google.com`; `exp` not passed. `email_verified` is a boolean
 *   (google-auth-library's TokenPayload). The nonce the app set (Credential Manager `setNonce`,
 *   GIS `nonce`) comes back unchanged in the `nonce` claim.
 * - Apple, "Verifying a user"
 *   (https://developer.apple.com/documentation/sign_in_with_apple/sign_in_with_apple_rest_api/verifying_a_user)
 *   and the `id_token` claims
 *   (https://developer.apple.com/documentation/signinwithapplejs/authorizationi/id_token):
 *   signed by one of Apple's keys (https://appleid.apple.com/auth/keys, RS256 today); `iss`
 *   `https://appleid.apple.com`; `aud` our client id (the bundle id for the iOS app, the Services
 *   ID on the web and Android); `exp` not passed; `nonce` present only when the request set one.
 *   The native flow (ASAuthorizationAppleIDRequest.nonce) is given the SHA-256 of the app's raw
 *   nonce as lowercase hex, which is what the claim then holds (as in Apple's sample code and
 *   Firebase's guide), so we compare the claim with SHA-256(raw nonce). `email_verified` and
 *   `is_private_email` are a boolean or the string "true"/"false"; private-relay addresses
 *   (…@privaterelay.appleid.com) are real, verified addresses that forward to the user.
 *
 * Algorithms: RS256 and ES256 only. A token's `alg` must be one of these AND match a key the
 * provider published for it, so `alg: none`, HS256 (a JWKS public key used as an HMAC secret)
 * and any algorithm swap are refused before any key is looked at (RFC 8725 §3.1).
 */

/** Why an ID token was refused: `details.reason` of 401 `invalid_id_token`. */
export type IdTokenFailure =
  /** Not a JWS/JWT at all, or a required claim (`sub`, `iat`, `exp`) missing or of the wrong type. */
  | 'malformed'
  /** The signature does not verify, or the `alg` is not RS256/ES256 (`none`, HS256, …). */
  | 'signature'
  /** No published key has the token's `kid`, even after refetching the JWKS (or within the refetch cooldown). */
  | 'unknown_key'
  | 'issuer'
  | 'audience'
  /** `exp` has passed (beyond the clock tolerance). */
  | 'expired'
  /** `iat` or `nbf` is in the future (beyond the clock tolerance). */
  | 'not_yet_valid'
  /** No `nonce` claim, or not the one the app sent (Apple: not its SHA-256). */
  | 'nonce'
  /**
   * Valid, but without an `email` while no account is linked to it yet, so none can be found or
   * made (Google: the app must request the `email` scope; Apple: the `email` scope on first sign-in).
   */
  | 'email_missing'
  /** Valid, but no account is linked to it yet and the provider does not vouch for its email: none is linked or made with it. */
  | 'email_unverified';

/** What a verified token says about the user. */
export interface VerifiedIdToken {
  provider: IdentityProvider;
  /** `sub`: the provider's stable user id. */
  subject: string;
  /** Lower-cased; undefined when the token carries none (Google without the `email` scope) or none that is a valid address. */
  email: string | undefined;
  /** The provider vouches that the address is the user's (Apple: always for a present email). */
  emailVerified: boolean;
  /** Google's `name` claim (Apple never puts the name in the token: the app sends it). */
  name: string | undefined;
}

export interface IdTokenVerifier {
  /**
   * Verifies `idToken` from `provider` for the raw `nonce` the app used, at `now`. Throws
   * ApiError: 503 `provider_not_configured` (Retry-After) when the provider has no client ids;
   * 401 `invalid_id_token` with `details.reason` (IdTokenFailure); 503 `service_unavailable`
   * (Retry-After) when the provider's JWKS cannot be fetched.
   */
  verify(provider: IdentityProvider, idToken: string, nonce: string, now: Date): Promise<VerifiedIdToken>;
}

/** Seconds of clock skew tolerated on `exp`, `iat` and `nbf` (phones and servers drift). */
export const ID_TOKEN_CLOCK_TOLERANCE_S = 60;
/**
 * The oldest `iat` accepted, in seconds, on top of `exp`: also what makes jose refuse an `iat` in
 * the future. Apple's tokens live 10 minutes and Google's an hour; a day leaves room for both.
 */
export const ID_TOKEN_MAX_AGE_S = 24 * 60 * 60;
/** How long one JWKS fetch may take, ms. */
export const JWKS_TIMEOUT_MS = 5_000;
/**
 * The JWKS is refetched after this long even when every `kid` is known (jose's default is 10
 * minutes; both providers rotate keys over days and publish a new key before signing with it).
 */
export const JWKS_MAX_AGE_MS = 60 * 60 * 1000;
/** Retry-After, seconds, of 503 `provider_not_configured` (an operator must set the client ids). */
export const PROVIDER_NOT_CONFIGURED_RETRY_S = 3600;
/** Retry-After, seconds, when the provider's JWKS could not be fetched. */
export const JWKS_UNAVAILABLE_RETRY_S = 5;

const ISSUERS: Record<IdentityProvider, string[]> = {
  apple: ['https://appleid.apple.com'],
  google: ['https://accounts.google.com', 'accounts.google.com'],
};

const ALGORITHMS = ['RS256', 'ES256'];

export const refused = (reason: IdTokenFailure, detail: string) => new ApiError('invalid_id_token', detail, { details: { reason } });

/**
 * The `email` claim, lower-cased, when it is an address registration would accept (at most 254
 * characters, a valid address); else undefined, as if absent: it becomes the account's email and
 * is answered as one (`format: email`), so a signed token cannot store what the API refuses.
 */
const ProviderEmail = z.email().max(254);
const usableEmail = (v: unknown) => {
  if (typeof v !== 'string') return undefined;
  const email = v.trim().toLowerCase();
  return ProviderEmail.safeParse(email).success ? email : undefined;
};

/** `true`, or the string "true" (Apple sends either). */
const isTrue = (v: unknown) => v === true || v === 'true';

/**
 * The verifier for `config` (one per Deps: per isolate on Workers, per process on Node). Each
 * provider's key set is jose's createRemoteJWKSet: fetched on first use, kept for
 * JWKS_MAX_AGE_MS, and refetched at once when a token names a `kid` it does not hold, but not
 * more often than every `config.jwksCooldownSeconds`, so a flood of made-up `kid`s costs at most
 * one fetch per cooldown. `sha256Hex` is Deps.sha256Hex (lowercase hex).
 */
export function createIdTokenVerifier(config: OAuthConfig, sha256Hex: (text: string) => Promise<string>): IdTokenVerifier {
  const keySets = new Map<IdentityProvider, JWTVerifyGetKey>();
  const keySet = (provider: IdentityProvider, p: OAuthProviderConfig) => {
    let set = keySets.get(provider);
    if (!set) {
      set = createRemoteJWKSet(new URL(p.jwksUrl), {
        cooldownDuration: config.jwksCooldownSeconds * 1000,
        cacheMaxAge: JWKS_MAX_AGE_MS,
        timeoutDuration: JWKS_TIMEOUT_MS,
      });
      keySets.set(provider, set);
    }
    return set;
  };

  return {
    async verify(provider, idToken, nonce, now) {
      const p = config[provider];
      if (!p) {
        throw new ApiError('provider_not_configured', `Sign in with ${provider === 'apple' ? 'Apple' : 'Google'} is not configured on this server.`, {
          retryAfterSeconds: PROVIDER_NOT_CONFIGURED_RETRY_S,
        });
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(idToken, keySet(provider, p), {
          algorithms: ALGORITHMS,
          issuer: ISSUERS[provider],
          audience: p.clientIds,
          clockTolerance: ID_TOKEN_CLOCK_TOLERANCE_S,
          maxTokenAge: ID_TOKEN_MAX_AGE_S,
          currentDate: now,
          requiredClaims: ['sub', 'iat', 'exp'],
        }));
      } catch (err) {
        throw asIdTokenError(err);
      }
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) throw refused('malformed', 'The ID token has no usable `sub`.');
      const expected = provider === 'apple' ? await sha256Hex(nonce) : nonce;
      if (payload.nonce !== expected) throw refused('nonce', 'The ID token was not issued for this nonce.');
      const email = usableEmail(payload.email);
      return {
        provider,
        subject: payload.sub,
        email,
        emailVerified: email !== undefined && isTrue(payload.email_verified),
        name: provider === 'google' && typeof payload.name === 'string' && payload.name.trim() !== '' && textProblem(payload.name) === null ? payload.name.trim().slice(0, 100) : undefined,
      };
    },
  };
}

/** jose's error → 401 `invalid_id_token` with its reason, or 503 when the keys could not be fetched. */
function asIdTokenError(err: unknown): ApiError {
  const e = joseErrors;
  if (err instanceof e.JWTExpired) return refused('expired', 'The ID token has expired.');
  if (err instanceof e.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return refused('issuer', 'The ID token was not issued by this provider.');
    if (err.claim === 'aud') return refused('audience', 'The ID token was issued for another app.');
    if ((err.claim === 'iat' || err.claim === 'nbf') && err.reason === 'check_failed') return refused('not_yet_valid', 'The ID token is not valid yet.');
    return refused('malformed', `The ID token's claims are incomplete: ${err.message}.`);
  }
  if (err instanceof e.JWSSignatureVerificationFailed || err instanceof e.JOSEAlgNotAllowed) return refused('signature', 'The ID token’s signature does not verify.');
  if (err instanceof e.JWKSNoMatchingKey) return refused('unknown_key', 'The ID token was signed with a key the provider does not publish.');
  if (err instanceof e.JWKSMultipleMatchingKeys) return refused('signature', 'The ID token does not name its key.');
  if (err instanceof e.JWSInvalid || err instanceof e.JWTInvalid || err instanceof e.JOSENotSupported) return refused('malformed', 'Not a signed JWT.');
  // The key set could not be fetched or read (timeout, network, not 200, not a JWKS).
  if (err instanceof e.JWKSTimeout || err instanceof e.JWKSInvalid || err instanceof e.JOSEError || err instanceof TypeError) {
    return new ApiError('service_unavailable', 'The sign-in provider’s keys could not be fetched; try again shortly.', { retryAfterSeconds: JWKS_UNAVAILABLE_RETRY_S });
  }
  return refused('malformed', 'Not a signed JWT.');
}
