import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, runInBackground, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { IdParam } from '../../http/schemas.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { CHANGE_PASSWORD_MAX_PER_WINDOW, CHANGE_PASSWORD_WINDOW_S, changePassword, listSessions, revokeAllSessions, revokeSession, SESSIONS_LISTED_MAX } from './sessions.js';
import { deviceLabelOf } from './shared.js';
import { getCurrentUser, updateCurrentUser } from './current-user.js';
import { logIn } from './login.js';
import { signInWithProvider } from './oauth.js';
import { revokeRefreshFamily } from './logout.js';
import { rotateRefreshToken } from './refresh.js';
import { register, REGISTER_MAX_PER_WINDOW, REGISTER_WINDOW_S } from './register.js';
import { ChangePasswordBody, CurrentUserSchema, EndedSchema, LoginBody, OAuthBody, SessionListSchema, RefreshBody, RegisterBody, SessionSchema, UpdateCurrentUserBody } from './schemas.js';

const bearer = [{ bearerAuth: [] }];

const registerRoute = createRoute({
  method: 'post',
  path: '/v1/auth/register',
  operationId: 'register',
  tags: ['Auth'],
  summary: 'Create a customer account',
  description: [
    'Always creates a `customer`. Staff and admins are created with the CLI.',
    `Throttled per client address (an IPv6 /64 counts as one): at most ${REGISTER_MAX_PER_WINDOW} attempts per ${REGISTER_WINDOW_S / 60} minutes, counted before the password is hashed; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  ].join('\n\n'),
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonResponse(SessionSchema, 'Account created; the caller is logged in.'),
    ...problems('email_taken', 'too_many_attempts', 'busy'),
  },
});

const loginRoute = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  operationId: 'login',
  tags: ['Auth'],
  summary: 'Log in with email and password',
  description: [
    'A wrong password and an unknown email get the same answer, after the same hashing work.',
    'Throttled per email (known or not), each attempt counted before any hashing: the 5th failure in a row within 15 minutes locks the address for 1 minute, each further one for twice as long (at most 15 minutes). While locked, every attempt, even with the right password, is 429 `too_many_attempts` with `Retry-After`. Attempts beyond the failures left while others for the same address are still being checked are also 429 (`Retry-After: 1`). A successful login ends the run it saw, unless a failure landed while it was being checked: failures of concurrent attempts always count.',
    'A disabled account answers exactly like a wrong password.',
  ].join('\n\n'),
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonResponse(SessionSchema, 'Logged in.'),
    ...problems('invalid_credentials', 'too_many_attempts', 'busy'),
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  operationId: 'refreshToken',
  tags: ['Auth'],
  summary: 'Rotate a refresh token',
  description: [
    'Returns a new access token and a new refresh token (the successor); the presented one is rotated.',
    'Within `REFRESH_REUSE_GRACE_SECONDS` (default 30 s) of its rotation, presenting the same token again, e.g. from concurrent refreshes when an app resumes, answers 200 with the same successor and a fresh access token and revokes nothing. After the window it is a replay: the whole session (every token descended from the same login) is revoked.',
    'Every refusal is 401; the `code` says what the app should do:',
    '- `refresh_token_superseded`: the token was exchanged and its successor has been exchanged since (by another request of this app); nothing was revoked. Use the newest refresh token the app holds.',
    '- `refresh_token_reused`: a replay after the grace window; the session is revoked. Log in again.',
    '- `refresh_token_revoked`: the session was ended by logout, a role change or a disabled account. Log in again.',
    '- `refresh_token_expired`: older than `REFRESH_TOKEN_TTL_DAYS`. Log in again.',
    '- `invalid_refresh_token`: not a token this API issued. Log in again.',
  ].join('\n'),
  request: { body: jsonBody(RefreshBody) },
  responses: {
    200: jsonResponse(SessionSchema, 'Rotated.'),
    ...problems('refresh_token_superseded', 'refresh_token_reused', 'refresh_token_revoked', 'refresh_token_expired', 'invalid_refresh_token'),
  },
});

const logoutRoute = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  operationId: 'logout',
  tags: ['Auth'],
  summary: 'Revoke a refresh token and its chain',
  description: 'Ends the session the refresh token belongs to, at once: its refresh tokens and the access tokens it issued are refused from their next request (401; an access token without `sid`, issued before sessions were named, runs out within its lifetime). Idempotent.',
  request: { body: jsonBody(RefreshBody) },
  responses: {
    204: { description: 'Revoked (or was not active).' },
  },
});

const meRoute = createRoute({
  method: 'get',
  path: '/v1/me',
  operationId: 'getCurrentUser',
  tags: ['Auth'],
  summary: 'The authenticated user',
  description:
    'The account the access token belongs to: id, email, role, name, phone, locale. Read from the database, so a changed name or role shows at once.',
  security: bearer,
  middleware: [requireAuth()],
  responses: {
    200: jsonResponse(CurrentUserSchema, 'The caller.'),
  },
});

const updateMeRoute = createRoute({
  method: 'patch',
  path: '/v1/me',
  operationId: 'updateCurrentUser',
  tags: ['Auth'],
  summary: 'Change the caller’s name, phone or locale',
  description:
    'Send only the fields to change; `null` clears one. `phone` is E.164 (`+447700900123`, no spaces): SMS notifications go to it. `locale` is a BCP 47 tag, stored canonicalised: the language of notifications.',
  security: bearer,
  middleware: [requireAuth()],
  request: { body: jsonBody(UpdateCurrentUserBody) },
  responses: {
    200: jsonResponse(CurrentUserSchema, 'The caller, changed.'),
  },
});

// ---- the caller's sessions and password (./sessions.ts) ----------------------------------

const own = { tags: ['Auth'], security: bearer, middleware: requireAuth() };

const listSessionsRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/me/sessions',
  operationId: 'listSessions',
  summary: 'The caller’s signed-in sessions',
  description: `One per login (its refresh tokens, rotated): device, started, last used, and which is this one. Most recently used first; at most ${SESSIONS_LISTED_MAX}.`,
  responses: { 200: jsonResponse(SessionListSchema, 'The live sessions.') },
});

const revokeSessionRoute = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/me/sessions/{id}',
  operationId: 'deleteSession',
  summary: 'End one session',
  description:
    'Takes effect at once: the session’s refresh token and the access tokens it already holds are refused from their next request (401 `invalid_token` on the access token, then `refresh_token_revoked`: the device must log in again). Idempotent for a session already ended.',
  request: { params: IdParam },
  responses: { 204: { description: 'Ended (or had ended).' }, ...problems('not_found') },
});

const revokeAllSessionsRoute = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/me/sessions',
  operationId: 'deleteAllSessions',
  summary: 'Log out everywhere',
  description: 'Ends every session of the account, this one included, at once: every refresh token and every access token of those sessions (the one sending this request too) is refused from its next request, so every device must log in again.',
  responses: { 200: jsonResponse(EndedSchema, 'How many sessions were ended.') },
});

const changePasswordRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/password',
  operationId: 'changePassword',
  summary: 'Change the password',
  description: `Needs the current password. Ends every other session of the account at once (their refresh and access tokens are refused from their next request); this one stays signed in. 403 \`current_password_incorrect\` for a wrong current password, and when the password changed (a reset) between the check and the write: the newer password stays. At most ${CHANGE_PASSWORD_MAX_PER_WINDOW} attempts per ${CHANGE_PASSWORD_WINDOW_S / 60} minutes per account (429 with Retry-After).`,
  request: { body: jsonBody(ChangePasswordBody) },
  responses: {
    200: jsonResponse(EndedSchema, 'Changed; how many other sessions were ended.'),
    ...problems('current_password_incorrect', 'too_many_attempts', 'busy'),
  },
});

const listSessionsHandler: Handler<typeof listSessionsRoute> = async (c) => {
  const p = principalOf(c);
  return c.json({ data: await listSessions(c.get('deps'), p.userId, p.sessionId) }, 200);
};

const revokeSessionHandler: Handler<typeof revokeSessionRoute> = async (c) => {
  await revokeSession(c.get('deps'), principalOf(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

const revokeAllSessionsHandler: Handler<typeof revokeAllSessionsRoute> = async (c) =>
  c.json({ endedSessions: await revokeAllSessions(c.get('deps'), principalOf(c).userId, 'logout_everywhere') }, 200);

const changePasswordHandler: Handler<typeof changePasswordRoute> = async (c) =>
  c.json(await changePassword(c.get('deps'), principalOf(c), c.req.valid('json')), 200);


// ---- handlers: validate → call the operation (one file each) → respond ----------------------

const registerHandler: Handler<typeof registerRoute> = async (c) => {
  const deps = c.get('deps');
  return c.json(await register(deps, deps.clientIp(c), c.req.valid('json'), deviceLabelOf(c.req.header('user-agent'))), 201);
};

const loginHandler: Handler<typeof loginRoute> = async (c) => {
  const session = await logIn(c.get('deps'), c.req.valid('json'), (task, what) => runInBackground(c, task, what), deviceLabelOf(c.req.header('user-agent')));
  return c.json(session, 200);
};

const refreshHandler: Handler<typeof refreshRoute> = async (c) => {
  const session = await rotateRefreshToken(c.get('deps'), c.req.valid('json').refreshToken);
  return c.json(session, 200);
};

const logoutHandler: Handler<typeof logoutRoute> = async (c) => {
  await revokeRefreshFamily(c.get('deps'), c.req.valid('json').refreshToken);
  return c.body(null, 204);
};

const meHandler: Handler<typeof meRoute> = async (c) => c.json(await getCurrentUser(c.get('deps'), principalOf(c).userId), 200);

const updateMeHandler: Handler<typeof updateMeRoute> = async (c) =>
  c.json(await updateCurrentUser(c.get('deps'), principalOf(c).userId, c.req.valid('json')), 200);


// ---- Sign in with Apple and Google (operation: ./oauth.ts; verification: src/auth/id-tokens.ts) ----


const common = (provider: 'Apple' | 'Google', specifics: string) =>
  [
    `Verifies the ${provider} ID token (signature against ${provider}’s published keys, issuer, audience = one of our configured client ids, expiry with 60 s of clock tolerance, nonce), then logs in the account linked to that ${provider} account; else links the account with the token’s email when ${provider} says it is verified (unless that account’s own email was verified, its password and other sessions then end: whoever set the password may not own the address; either way the email counts as verified); else creates a customer account with that email (201), when ${provider} says it is verified. An account made this way has no password: a password login for it fails like a wrong one.`,
    specifics,
    'Refusals: 401 `invalid_id_token` with `details.reason` = `malformed`, `signature` (including `alg` other than RS256/ES256), `unknown_key` (no published key has the token’s `kid`, even after refetching the key set), `issuer`, `audience`, `expired`, `not_yet_valid`, `nonce`, `email_missing` (no account is linked yet and the token has no email: request the email scope), or `email_unverified` (no account is linked yet and no account has this email, but the provider does not vouch for it: no account is made with an address nobody proved). 409 `account_exists_unverified_email`: an account has this email but the provider does not vouch for it; log in with the password. 401 `invalid_credentials`: the account is disabled (as login answers). 503 `provider_not_configured` (with `Retry-After`) when the server has no client ids for the provider; 503 `service_unavailable` (with `Retry-After`) when the provider’s keys cannot be fetched.',
  ].join('\n\n');

const appleRoute = createRoute({
  method: 'post',
  path: '/v1/auth/oauth/apple',
  operationId: 'loginWithApple',
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
  operationId: 'loginWithGoogle',
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
  const { session, created } = await signInWithProvider(c.get('deps'), 'apple', c.req.valid('json'), deviceLabelOf(c.req.header('user-agent')));
  return created ? c.json(session, 201) : c.json(session, 200);
};

const googleHandler: Handler<typeof googleRoute> = async (c) => {
  const { session, created } = await signInWithProvider(c.get('deps'), 'google', c.req.valid('json'), deviceLabelOf(c.req.header('user-agent')));
  return created ? c.json(session, 201) : c.json(session, 200);
};

export const authRoutes = createRouter()
  .openapi(registerRoute, registerHandler)
  .openapi(loginRoute, loginHandler)
  .openapi(refreshRoute, refreshHandler)
  .openapi(logoutRoute, logoutHandler)
  .openapi(meRoute, meHandler)
  .openapi(updateMeRoute, updateMeHandler)
  .openapi(listSessionsRoute, listSessionsHandler)
  .openapi(revokeSessionRoute, revokeSessionHandler)
  .openapi(revokeAllSessionsRoute, revokeAllSessionsHandler)
  .openapi(changePasswordRoute, changePasswordHandler)
  .openapi(appleRoute, appleHandler)
  .openapi(googleRoute, googleHandler);
