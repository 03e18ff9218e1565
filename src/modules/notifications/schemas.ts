import { z } from '@hono/zod-openapi';
import { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES } from '../../db/schema-notification-kinds.js';
import { cursorParam } from '../../http/cursor.js';
import { instantOut, integerOut, queryInteger, text, uuidOut } from '../../http/schemas.js';
import { localeTag } from '../auth/schemas.js';

/**
 * Longest push token accepted (characters). FCM registration tokens are about 150–300 ASCII
 * characters today and Google documents no maximum, so the bound leaves room to grow while no
 * request can store an unbounded string.
 */
export const MAX_DEVICE_TOKEN_LENGTH = 4096;

/**
 * FCM registration tokens are URL-safe ASCII (letters, digits, `-`, `_`, `:`); the pattern also
 * allows the other unreserved characters of RFC 3986 (`.`, `~`). Anything else (a control
 * character, a space, `%`, `/`, non-ASCII) is never part of one, and a path segment Hono could
 * not decode (invalid UTF-8) arrives with `%` and is refused too.
 */
const DEVICE_TOKEN = /^[A-Za-z0-9._~:-]+$/;

/**
 * The path parameter is named `device`, not `token`: OWASP's API2:2023 rule (Spectral,
 * `npm run lint:openapi`) refuses a path parameter named like a credential. It IS the device's
 * FCM registration token, which identifies the phone; it is not a credential of this API.
 */
export const DeviceTokenParam = z.object({
  device: text({ min: 1, max: MAX_DEVICE_TOKEN_LENGTH, trim: false })
    .regex(DEVICE_TOKEN, 'must be an FCM registration token: letters, digits and - . _ ~ : only')
    .openapi({
      param: { name: 'device', in: 'path' },
      description: `The FCM registration token as the SDK gave it: 1–${MAX_DEVICE_TOKEN_LENGTH} characters of A–Z a–z 0–9 \`-._~:\` (anything else is 422 \`validation_failed\` on \`param.device\`).`,
      example: 'dQw4w9WgXcQ:APA91bH7x0e9kLmN3pQrStUvWxYz0123456789abcdefGHIJ',
    }),
});

export const RegisterDeviceBody = z
  .object({
    platform: z.enum(['ios', 'android']).openapi({ example: 'android' }),
    appVersion: text({ min: 1, max: 50 }).optional().openapi({ example: '3.12.0' }),
    locale: localeTag().optional(),
  })
  .strict()
  .openapi('RegisterDeviceRequest');

export const DeviceSchema = z
  .object({
    token: z.string(),
    platform: z.enum(['ios', 'android']),
    appVersion: z.string().nullable(),
    locale: z.string().nullable(),
    createdAt: instantOut(),
    updatedAt: instantOut(),
  })
  .openapi('Device');

export const DeviceListSchema = z.object({ data: z.array(DeviceSchema) }).openapi('DeviceList');

const ChannelFlags = z
  .object({ push: z.boolean(), sms: z.boolean(), email: z.boolean() })
  .openapi('NotificationChannels');

export const NotificationPreferencesSchema = z
  .object({
    matrix: z
      .object(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, ChannelFlags])) as Record<(typeof NOTIFICATION_TYPES)[number], typeof ChannelFlags>)
      .openapi({ description: 'Per notification type, whether each channel carries it: the defaults with the customer’s own choices applied.' }),
    mandatory: z.array(z.enum(NOTIFICATION_TYPES)).openapi({
      description: 'Types that cannot be silenced: at least one channel of each stays on (a PATCH that turns all off is 422 `preference_required`).',
    }),
  })
  .openapi('NotificationPreferences');

const PartialFlags = z
  .object({ push: z.boolean(), sms: z.boolean(), email: z.boolean() })
  .partial()
  .strict();

export const UpdatePreferencesBody = z
  .object(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, PartialFlags.optional()])) as Record<(typeof NOTIFICATION_TYPES)[number], z.ZodOptional<typeof PartialFlags>>)
  .strict()
  .refine((b) => Object.values(b).some((flags) => flags && Object.keys(flags).length > 0), 'send at least one type and channel to change')
  .openapi('UpdateNotificationPreferencesRequest', {
    description: 'A partial matrix: only the cells sent change; the others keep their value.',
    example: { out_for_delivery: { sms: false }, delivered: { email: false } },
  });

/** An outbox row's id: a positive decimal sequence number, as text (it is a PostgreSQL bigint). */
export const SEQUENCE_ID_PATTERN = '^[1-9][0-9]{0,17}$';

export const NotificationIdParam = z.object({
  id: text({ min: 1, max: 18, trim: false })
    .regex(new RegExp(SEQUENCE_ID_PATTERN), 'must be a notification id')
    .openapi({ param: { name: 'id', in: 'path' }, example: '1042' }),
});

export const NotificationSchema = z
  .object({
    id: z.string().regex(new RegExp(SEQUENCE_ID_PATTERN)).openapi({ description: 'A sequence number as text.', example: '1042' }),
    type: z.enum(NOTIFICATION_TYPES),
    orderId: uuidOut().nullable().openapi({ description: 'The order it is about; null for `recurring_needs_attention` (a recurring pickup date that could not be booked: there is no order).' }),
    title: z.string().openapi({ example: 'Your order is on its way' }),
    body: z.string().openapi({ example: 'Your driver is on the way with your laundry.' }),
    createdAt: instantOut(),
    readAt: instantOut().nullable(),
  })
  .openapi('Notification');

export const NotificationPageSchema = z
  .object({
    data: z.array(NotificationSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    unreadCount: integerOut().openapi({ description: 'The caller’s unread notifications, all pages together.', example: 2 }),
  })
  .openapi('NotificationPage');

export const ListNotificationsQuery = z.object({
  limit: queryInteger({ min: 1, max: 100 }).default(20),
  cursor: cursorParam().optional(),
});

export const CHANNELS = NOTIFICATION_CHANNELS;
export type RegisterDeviceInput = z.infer<typeof RegisterDeviceBody>;
export type DeviceDto = z.infer<typeof DeviceSchema>;
export type UpdatePreferencesInput = z.infer<typeof UpdatePreferencesBody>;
export type NotificationDto = z.infer<typeof NotificationSchema>;
