import { z } from '@hono/zod-openapi';
import { CADENCES, SCHEDULE_STATUSES } from '../../domain/recurrence.js';
import { date, dateOut, instantOut, integer, integerOut, text, uuid, uuidOut } from '../../http/schemas.js';
import { OrderItemInput } from '../orders/schemas.js';

const HHMM = z
  .string()
  .max(5)
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (00:00–23:59)')
  .openapi({ example: '18:00' });

const fields = {
  cadence: z.enum(CADENCES).openapi({ description: '`weekly`: every 7 days from `anchorDate`; `biweekly`: every 14 days from it.' }),
  anchorDate: date().openapi({
    description: 'The first occurrence, a local date in the zone that serves the address; its weekday is the schedule’s weekday. Not in the past.',
    example: '2026-12-07',
  }),
  pickupStart: HHMM.openapi({
    description: 'Local start of the pickup window: one of the zone’s pickup windows on that weekday (422 `recurring_window_unavailable` otherwise).',
  }),
  deliveryDaysAfter: integer({ min: 0, max: 14 }).openapi({ description: 'The delivery is this many local days after the pickup.', example: 2 }),
  deliveryStart: HHMM.openapi({ description: 'Local start of the delivery window: one of the zone’s delivery windows on the delivery weekday.' }),
  addressId: uuid().openapi({ description: 'One of the caller’s addresses (another customer’s answers 404).' }),
  items: z.array(OrderItemInput).min(1, 'a schedule needs at least one item').max(20).openapi({ description: 'The usual items, exactly as `POST /v1/orders` takes them.' }),
  express: z.boolean().default(false),
  paymentMethod: z.enum(['card', 'on_delivery']).openapi({
    description:
      '`card`: each occurrence’s order starts `pending_payment`, as an app order does, and the job then holds the estimate plus buffer off-session on the card saved with the customer’s last PaymentSheet hold (the order is then `confirmed`); declined, authentication required or no card saved yet, it stays `pending_payment`, the customer is told (`payment_action_required`) and pays with the PaymentSheet. `on_delivery`: confirmed at once.',
  }),
  notes: text({ max: 1000 }).optional(),
};

export const CreateScheduleBody = z.object(fields).strict().openapi('CreateRecurringPickupRequest', {
  example: {
    cadence: 'weekly',
    anchorDate: '2026-12-07',
    pickupStart: '18:00',
    deliveryDaysAfter: 2,
    deliveryStart: '18:00',
    addressId: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
    items: [{ serviceId: '7eceaf28-2b38-41fe-ba85-6d05eafd41a1', estimatedWeightGrams: 6000, addOnIds: [] }],
    express: false,
    paymentMethod: 'on_delivery',
  },
});
export type CreateScheduleInput = z.infer<typeof CreateScheduleBody>;

export const UpdateScheduleBody = z
  .object({
    ...fields,
    express: z.boolean(),
    notes: text({ max: 1000 }).nullable(),
    status: z.enum(SCHEDULE_STATUSES).openapi({ description: '`paused`: no order is created until `active` again (resume). Dates already created keep their orders.' }),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field' })
  .openapi('UpdateRecurringPickupRequest');
export type UpdateScheduleInput = z.infer<typeof UpdateScheduleBody>;

export const SkipBody = z
  .object({ date: date().openapi({ description: 'A future occurrence of the schedule (local date).', example: '2026-12-14' }) })
  .strict()
  .openapi('SkipRecurringPickupRequest');

const OccurrenceSchema = z.object({
  date: dateOut(),
  status: z.enum(['creating', 'created', 'needs_attention', 'skipped']).openapi({
    description: '`created`: the order exists (`orderId`). `skipped`: skipped by the customer. `needs_attention`: no order could be placed (`reason`: an error code such as `slot_unavailable`); the customer was told (`recurring_needs_attention`); book this date by hand. `creating`: the job is placing it now.',
  }),
  orderId: uuidOut().nullable(),
  reason: z.string().nullable().openapi({ example: 'slot_unavailable' }),
});

export const ScheduleSchema = z
  .object({
    id: uuidOut(),
    cadence: z.enum(CADENCES),
    weekday: integerOut().openapi({ description: '0 = Sunday … 6 = Saturday: the weekday of `anchorDate`.', example: 1 }),
    anchorDate: dateOut(),
    pickupStart: z.string().openapi({ example: '18:00' }),
    deliveryDaysAfter: integerOut(),
    deliveryStart: z.string().openapi({ example: '18:00' }),
    addressId: uuidOut(),
    items: z.array(OrderItemInput),
    express: z.boolean(),
    paymentMethod: z.enum(['card', 'on_delivery']),
    notes: z.string().nullable(),
    status: z.enum(SCHEDULE_STATUSES),
    timeZone: z.string().nullable().openapi({ description: 'The IANA zone of the zone serving the address now; null when no zone serves it (no order can be created).', example: 'Europe/London' }),
    skippedDates: z.array(dateOut()),
    nextDates: z.array(dateOut()).openapi({ description: 'The next (up to 5) dates an order will be created for: not skipped, not paused, not in the past.' }),
    recentOccurrences: z.array(OccurrenceSchema).openapi({ description: 'The latest 10 dates the job handled, newest first.' }),
    createdAt: instantOut(),
    updatedAt: instantOut(),
  })
  .openapi('RecurringPickup');
export type ScheduleDto = z.infer<typeof ScheduleSchema>;

export const ScheduleListSchema = z.object({ items: z.array(ScheduleSchema) }).openapi('RecurringPickupList');
