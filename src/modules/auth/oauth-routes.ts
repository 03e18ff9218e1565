import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../errors.js';
import { createRouter, type Handler } from '../../http/context.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { signInWithProvider } from './oauth.js';
import { OAuthBody, SessionSchema } from './schemas.js';

/** Sign in with Apple and Google: POST /v1/auth/oauth/{apple,google}, mounted by ./routes.ts. */

const common = (provider: 'Apple' | 'Google', specifics: string) =>
  [
    `Verifies the ${provider} ID token (signature against ${provider}’s published keys, issuer, audience = one of our configured client ids, expiry with 60 s of clock tolerance, nonce), then logs in the account linked to that ${provider} account; else links the account with the token’s email when ${provider} says it is verified; else creates a customer account with that email (201). An account made this way has no password: a password login for it fails like a wrong one.`,
    specifics,
    'Refusals: 401 `invalid_id_token` with `details.reason` = `malformed`, `signature` (including `alg` other than RS256/ES256), `unknown_key` (no published key has the token’s `kid`, even after refetching the key set), `issuer`, `audience`, `expired`, `not_yet_valid`, `nonce`, or `email_missing` (no account is linked yet and the token has no email: request the email scope). 409 `account_exists_unverified_email`: an account has this email but the provider does not vouch for it; log in with the password. 401 `invalid_credentials`: the account is disabled (as login answers). 503 `provider_not_configured` (with `Retry-After`) when the server has no client ids for the provider; 503 `service_unavailable` (with `Retry-After`) when the provider’s keys cannot be fetched.',
  ].join('\n\n');

const appleRoute = createRoute({
  method: 'post',
  path: '/v1/auth/oauth/apple',
  operationId: 'signInWithApple',
  tags: ['Auth'],
  summary: 'Sign in with Apple',
  description: common(
    'Apple',
    'Send Apple’s `identityToken` and the raw nonce whose SHA-256 (lowercase hex) the app gave `ASAuthorizationAppleIDRequest.nonce`. Apple gives the user’s name only to the app and only on the first sign-in: send it as `name`. Private-relay addresses (…@privaterelay.appleid.com) are verified addresses like any other.',
  ),
  request: { body: jsonBody(OAuthBody) },
  responses: {
    200: jsonResponse(SessionSchema, 'Signed in to an existing account (linked now or before).'),
    201: jsonResponse(SessionSchema, 'A customer account was created; the caller is signed in.'),
    ...problems('invalid_id_token', 'invalid_credentials', 'account_exists_unverified_email', 'provider_not_configured', 'service_unavailable', 'busy'),
  },
});

const googleRoute = createRoute({
  method: 'post',
  path: '/v1/auth/oauth/google',
  operationId: 'signInWithGoogle',
  tags: ['Auth'],
  summary: 'Sign in with Google',
  description: common(
    'Google',
    'Send Google’s ID token (Credential Manager’s `GoogleIdTokenCredential.idToken`, Google Sign-In’s `idToken`) and the nonce the app set on the request, as is. The token’s `name` is used when the account is created, unless `name` is sent.',
  ),
  request: { body: jsonBody(OAuthBody) },
  responses: {
    200: jsonResponse(SessionSchema, 'Signed in to an existing account (linked now or before).'),
    201: jsonResponse(SessionSchema, 'A customer account was created; the caller is signed in.'),
    ...problems('invalid_id_token', 'invalid_credentials', 'account_exists_unverified_email', 'provider_not_configured', 'service_unavailable', 'busy'),
  },
});

const appleHandler: Handler<typeof appleRoute> = async (c) => {
  const { session, created } = await signInWithProvider(c.get('deps'), 'apple', c.req.valid('json'));
  return created ? c.json(session, 201) : c.json(session, 200);
};

const googleHandler: Handler<typeof googleRoute> = async (c) => {
  const { session, created } = await signInWithProvider(c.get('deps'), 'google', c.req.valid('json'));
  return created ? c.json(session, 201) : c.json(session, 200);
};

export const oauthRoutes = createRouter().openapi(appleRoute, appleHandler).openapi(googleRoute, googleHandler);
