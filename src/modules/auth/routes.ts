import { createRoute } from '@hono/zod-openapi';
import { ApiError, problemResponses } from '../../errors.js';
import { createRouter, runInBackground } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { LoginBody, RefreshBody, RegisterBody, SessionSchema, UserSchema } from './schemas.js';
import {
  beginLogin,
  findUser,
  registerCustomer,
  revokeRefreshFamily,
  rotateRefreshToken,
  updatePasswordHash,
} from './sessions.js';
import { countRegistration, REGISTER_MAX_PER_WINDOW, REGISTER_WINDOW_S } from './throttle.js';

const bearer = [{ bearerAuth: [] }];

const register = createRoute({
  method: 'post',
  path: '/v1/auth/register',
  tags: ['Auth'],
  summary: 'Create a customer account',
  description: [
    'Always creates a `customer`. Staff and admins are created with the CLI.',
    `Throttled per client address (an IPv6 /64 counts as one): at most ${REGISTER_MAX_PER_WINDOW} attempts per ${REGISTER_WINDOW_S / 60} minutes, counted before the password is hashed; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  ].join('\n\n'),
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonResponse(SessionSchema, 'Account created; the caller is logged in.'),
    ...problemResponses(400, 409, 413, 415, 422, 429, 503),
  },
});

const login = createRoute({
  method: 'post',
  path: '/v1/auth/login',
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
    ...problemResponses(400, 401, 413, 415, 422, 429, 503),
  },
});

const refresh = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  tags: ['Auth'],
  summary: 'Rotate a refresh token',
  description:
    'Returns a new access token and a new refresh token; the presented one stops working. Presenting an already-rotated token revokes its whole chain (`refresh_token_reused`).',
  request: { body: jsonBody(RefreshBody) },
  responses: {
    200: jsonResponse(SessionSchema, 'Rotated.'),
    ...problemResponses(400, 401, 413, 415, 422),
  },
});

const logout = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  tags: ['Auth'],
  summary: 'Revoke a refresh token and its chain',
  description: 'Idempotent. Access tokens already issued stay valid until they expire (minutes).',
  request: { body: jsonBody(RefreshBody) },
  responses: {
    204: { description: 'Revoked (or was not active).' },
    ...problemResponses(400, 413, 415, 422),
  },
});

const me = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['Auth'],
  summary: 'The authenticated user',
  security: bearer,
  middleware: [requireAuth()],
  responses: {
    200: jsonResponse(UserSchema, 'The caller.'),
    ...problemResponses(401),
  },
});

export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const deps = c.get('deps');
    const body = c.req.valid('json');
    const retryAfter = await countRegistration(deps, deps.clientIp(c));
    if (retryAfter !== undefined) {
      throw new ApiError('too_many_attempts', `Too many registrations from this network; try again in ${retryAfter} s.`, {
        details: { retryAfterSeconds: retryAfter },
        retryAfterSeconds: retryAfter,
      });
    }
    const passwordHash = await deps.passwords.hash(body.password);
    const session = await registerCustomer(deps, { email: body.email, passwordHash, name: body.name ?? null });
    return c.json(session, 201);
  })
  .openapi(login, async (c) => {
    const deps = c.get('deps');
    const { email, password } = c.req.valid('json');
    const attempt = await beginLogin(deps, email);
    if (attempt.refusedForSeconds !== undefined) {
      const seconds = attempt.refusedForSeconds;
      throw new ApiError('too_many_attempts', `Too many login attempts for this email; try again in ${seconds} s.`, {
        details: { retryAfterSeconds: seconds },
        retryAfterSeconds: seconds,
      });
    }
    let ok: boolean;
    try {
      ok = await deps.passwords.verify(password, attempt.user?.password_hash ?? null);
    } catch (err) {
      runInBackground(c, attempt.release, 'release login attempt');
      throw err;
    }
    // Awaited, not in the background: the next guess must see this one settled.
    if (!attempt.user || !ok) {
      await attempt.recordFailure();
      throw new ApiError('invalid_credentials', 'The email or password is wrong.');
    }
    // A success gives its place back (and forgives the failures it saw). With no failures to
    // forgive nobody waits on it, so it stays off the response path: login is one round trip.
    if (attempt.failures === 0) runInBackground(c, attempt.recordSuccess, 'release login place');
    else await attempt.recordSuccess();
    if (deps.passwords.needsRehash(attempt.user.password_hash)) {
      const userId = attempt.user.id;
      runInBackground(c, async () => updatePasswordHash(deps, userId, await deps.passwords.hash(password)), 'rehash password');
    }
    return c.json(await attempt.session(), 200);
  })
  .openapi(refresh, async (c) => {
    const session = await rotateRefreshToken(c.get('deps'), c.req.valid('json').refreshToken);
    return c.json(session, 200);
  })
  .openapi(logout, async (c) => {
    await revokeRefreshFamily(c.get('deps'), c.req.valid('json').refreshToken);
    return c.body(null, 204);
  })
  .openapi(me, async (c) => {
    const user = await findUser(c.get('deps'), principalOf(c).userId);
    if (!user) throw new ApiError('invalid_token', 'The account behind this token no longer exists.');
    return c.json(user, 200);
  });
