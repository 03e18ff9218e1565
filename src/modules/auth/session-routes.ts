import { createRoute, z } from '@hono/zod-openapi';
import { problems } from '../../errors.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { IdParam, instantOut, integerOut, text, uuidOut } from '../../http/schemas.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { NewPassword } from './schemas.js';
import { CHANGE_PASSWORD_MAX_PER_WINDOW, CHANGE_PASSWORD_WINDOW_S, changePassword, listSessions, revokeAllSessions, revokeSession, SESSIONS_LISTED_MAX } from './sessions.js';

const SessionInfoSchema = z
  .object({
    id: uuidOut().openapi({ description: 'The session id: what DELETE /v1/me/sessions/{id} takes.' }),
    deviceLabel: z.string().nullable().openapi({ description: 'The User-Agent the app sent when it logged in (cleaned, at most 200 characters); null if none.', example: 'LaundryApp/1.4.0 (iPhone; iOS 18.1)' }),
    createdAt: instantOut().openapi({ description: 'The login or registration that started the session (UTC).' }),
    lastUsedAt: instantOut().openapi({ description: 'Its latest token refresh, or the login (UTC).' }),
    expiresAt: instantOut().openapi({ description: 'When it ends unless the app refreshes before (UTC).' }),
    current: z.boolean().openapi({ description: 'The session of the access token this request was made with.' }),
  })
  .openapi('SessionInfo');

const SessionListSchema = z.object({ data: z.array(SessionInfoSchema) }).openapi('SessionList');

const EndedSchema = z
  .object({ endedSessions: integerOut().openapi({ description: 'How many sessions this ended.', example: 2 }) })
  .openapi('EndedSessions');

const ChangePasswordBody = z
  .object({
    currentPassword: text({ min: 1, max: 128, trim: false }),
    newPassword: NewPassword,
  })
  .strict()
  .openapi('ChangePasswordRequest');

const own = { tags: ['Auth'], security: [{ bearerAuth: [] }], middleware: requireAuth() };

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
    'Its refresh token stops working at once (the device is logged out at its next refresh); an access token it already holds runs out within its lifetime (`expiresIn`). Idempotent for a session already ended.',
  request: { params: IdParam },
  responses: { 204: { description: 'Ended (or had ended).' }, ...problems('not_found') },
});

const revokeAllSessionsRoute = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/me/sessions',
  operationId: 'deleteAllSessions',
  summary: 'Log out everywhere',
  description: 'Ends every session of the account, this one included: every device must log in again.',
  responses: { 200: jsonResponse(EndedSchema, 'How many sessions were ended.') },
});

const changePasswordRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/password',
  operationId: 'changePassword',
  summary: 'Change the password',
  description: `Needs the current password. Ends every other session of the account; this one stays signed in. At most ${CHANGE_PASSWORD_MAX_PER_WINDOW} attempts per ${CHANGE_PASSWORD_WINDOW_S / 60} minutes per account (429 with Retry-After).`,
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

/** The caller's sessions and password (src/modules/auth/sessions.ts). */
export const sessionRoutes = createRouter()
  .openapi(listSessionsRoute, listSessionsHandler)
  .openapi(revokeSessionRoute, revokeSessionHandler)
  .openapi(revokeAllSessionsRoute, revokeAllSessionsHandler)
  .openapi(changePasswordRoute, changePasswordHandler);
