import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { listDevices, registerDevice, removeDevice } from './devices.js';
import { listNotifications, markAllNotificationsRead, markNotificationRead } from './inbox.js';
import { getPreferences, updatePreferences } from './preferences.js';
import {
  DeviceListSchema,
  DeviceSchema,
  DeviceTokenParam,
  ListNotificationsQuery,
  NotificationIdParam,
  NotificationPageSchema,
  NotificationPreferencesSchema,
  RegisterDeviceBody,
  UpdatePreferencesBody,
} from './schemas.js';

/* Any signed-in user: their own devices, preferences and inbox only. */
const own = { tags: ['Notifications'], security: [{ bearerAuth: [] }], middleware: [requireAuth()] };

const registerDeviceRoute = createRoute({
  ...own,
  method: 'put',
  path: '/v1/me/devices/{device}',
  operationId: 'registerDevice',
  summary: 'Register this phone for push notifications',
  description:
    'Registers (or refreshes) an FCM registration token for the caller: 201 when the token was not the caller’s before, 200 when it was (platform, app version and locale replaced; a field not sent is cleared). ' +
    'A token registered to another account moves to the caller: one phone, one signed-in account. The locale (BCP 47) picks the language of what this phone is sent. ' +
    'The token is 1–4096 characters of A–Z a–z 0–9 `-._~:` (422 `validation_failed` on `param.device` otherwise).',
  request: { params: DeviceTokenParam, body: jsonBody(RegisterDeviceBody) },
  responses: { 200: jsonResponse(DeviceSchema, 'Already the caller’s: updated.'), 201: jsonResponse(DeviceSchema, 'Registered to the caller.') },
});

const deleteDeviceRoute = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/me/devices/{device}',
  operationId: 'deleteDevice',
  summary: 'Stop push notifications to this phone',
  description: 'Idempotent: 204 whether or not the caller had the token. Another account’s token is never removed (204 too, nothing changed).',
  request: { params: DeviceTokenParam },
  responses: { 204: { description: 'The caller no longer has this token.' } },
});

const listDevicesRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/me/devices',
  operationId: 'listDevices',
  summary: 'The caller’s registered phones',
  description: 'Most recently registered first, at most 100.',
  responses: { 200: jsonResponse(DeviceListSchema, 'Devices.') },
});

const getPreferencesRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/me/notification-preferences',
  operationId: 'getNotificationPreferences',
  summary: 'Which notifications reach the caller on which channel',
  description:
    'The effective matrix, per type and channel (push, SMS, email): the defaults, with the caller’s own choices applied. `mandatory` lists the types that cannot be silenced (payment messages).',
  responses: { 200: jsonResponse(NotificationPreferencesSchema, 'The effective preferences.') },
});

const updatePreferencesRoute = createRoute({
  ...own,
  method: 'patch',
  path: '/v1/me/notification-preferences',
  operationId: 'updateNotificationPreferences',
  summary: 'Change notification preferences',
  description:
    'Send a partial matrix: only the cells sent change. A change that would leave a mandatory type with every channel off is 422 `preference_required` (`details.types`), and nothing is written. Answers the effective matrix after the change.',
  request: { body: jsonBody(UpdatePreferencesBody) },
  responses: { 200: jsonResponse(NotificationPreferencesSchema, 'The effective preferences.'), ...problems('preference_required') },
});

const listNotificationsRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/me/notifications',
  operationId: 'listNotifications',
  summary: 'The caller’s in-app inbox, newest first',
  description: 'Every notification the caller was sent (whatever its channels), with `readAt`, and `unreadCount` over all pages. Paged with `cursor` like GET /v1/orders.',
  request: { query: ListNotificationsQuery },
  responses: { 200: jsonResponse(NotificationPageSchema, 'One page of notifications.') },
});

const markReadRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/notifications/{id}/read',
  operationId: 'markNotificationRead',
  summary: 'Mark one notification read',
  description: 'Idempotent: a notification already read keeps its first `readAt`. Another customer’s answers 404, exactly like a missing one.',
  request: { params: NotificationIdParam },
  responses: { 204: { description: 'Read.' }, ...problems('not_found') },
});

const markAllReadRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/notifications/read-all',
  operationId: 'markAllNotificationsRead',
  summary: 'Mark every notification read',
  description: 'Idempotent. Notifications written after this request are unread.',
  responses: { 204: { description: 'All read.' } },
});

// ---- handlers: validate → call the operation → respond ----------------------------------------

const registerDeviceHandler: Handler<typeof registerDeviceRoute> = async (c) => {
  const { device, created } = await registerDevice(c.get('deps'), principalOf(c).userId, c.req.valid('param').device, c.req.valid('json'));
  return created ? c.json(device, 201) : c.json(device, 200);
};

const deleteDeviceHandler: Handler<typeof deleteDeviceRoute> = async (c) => {
  await removeDevice(c.get('deps'), principalOf(c).userId, c.req.valid('param').device);
  return c.body(null, 204);
};

const listDevicesHandler: Handler<typeof listDevicesRoute> = async (c) =>
  c.json({ data: await listDevices(c.get('deps'), principalOf(c).userId) }, 200);

const getPreferencesHandler: Handler<typeof getPreferencesRoute> = async (c) =>
  c.json(await getPreferences(c.get('deps'), principalOf(c).userId), 200);

const updatePreferencesHandler: Handler<typeof updatePreferencesRoute> = async (c) =>
  c.json(await updatePreferences(c.get('deps'), principalOf(c).userId, c.req.valid('json')), 200);

const listNotificationsHandler: Handler<typeof listNotificationsRoute> = async (c) =>
  c.json(await listNotifications(c.get('deps'), principalOf(c).userId, c.req.valid('query')), 200);

const markReadHandler: Handler<typeof markReadRoute> = async (c) => {
  await markNotificationRead(c.get('deps'), principalOf(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

const markAllReadHandler: Handler<typeof markAllReadRoute> = async (c) => {
  await markAllNotificationsRead(c.get('deps'), principalOf(c).userId);
  return c.body(null, 204);
};

export const notificationRoutes = createRouter()
  .openapi(listDevicesRoute, listDevicesHandler)
  .openapi(registerDeviceRoute, registerDeviceHandler)
  .openapi(deleteDeviceRoute, deleteDeviceHandler)
  .openapi(getPreferencesRoute, getPreferencesHandler)
  .openapi(updatePreferencesRoute, updatePreferencesHandler)
  .openapi(listNotificationsRoute, listNotificationsHandler)
  .openapi(markAllReadRoute, markAllReadHandler)
  .openapi(markReadRoute, markReadHandler);
