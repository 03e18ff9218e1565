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

const bearer = [{ bearerAuth: [] }];

const register = createRoute({
  method: 'post',
  path: '/v1/auth/register',
  tags: ['Auth'],
  summary: 'Create a customer account',
  description: 'Always creates a `customer`. Staff and admins are created with the CLI.',
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonResponse(SessionSchema, 'Account created; the caller is logged in.'),
    ...problemResponses(400, 409, 413, 415, 422, 503),
  },
});

const login = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  tags: ['Auth'],
  summary: 'Log in with email and password',
  description: [
    'A wrong password and an unknown email get the same answer, after the same hashing work.',
    'Throttled per email (known or not): the 5th failure in a row within 15 minutes locks the address for 1 minute, each further one for twice as long (at most 15 minutes). While locked, every attempt, even with the right password, is 429 `too_many_attempts` with `Retry-After`; a successful login ends the run.',
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
    const passwordHash = await deps.passwords.hash(body.password);
    const session = await registerCustomer(deps, { email: body.email, passwordHash, name: body.name ?? null });
    return c.json(session, 201);
  })
  .openapi(login, async (c) => {
    const deps = c.get('deps');
    const { email, password } = c.req.valid('json');
    const attempt = await beginLogin(deps, email);
    if (attempt.lockedUntil) {
      const seconds = Math.max(1, Math.ceil((attempt.lockedUntil.getTime() - deps.clock.now().getTime()) / 1000));
      throw new ApiError('too_many_attempts', `Too many failed logins for this email; try again in ${seconds} s.`, {
        details: { retryAfterSeconds: seconds },
        retryAfterSeconds: seconds,
      });
    }
    const ok = await deps.passwords.verify(password, attempt.user?.password_hash ?? null);
    if (!attempt.user || !ok) {
      // Awaited, not in the background: the next guess must see this one counted.
      await attempt.recordFailure();
      throw new ApiError('invalid_credentials', 'The email or password is wrong.');
    }
    if (attempt.failures > 0) await attempt.clearFailures();
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
