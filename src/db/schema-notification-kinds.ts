import { pgEnum } from 'drizzle-orm/pg-core';

/**
 * What a customer can be told about. The status types are written by a trigger on
 * `order_events` (migration 0014, `notification_outbox_from_order_event`): a timeline entry whose
 * `to_status` is one of these statuses, or whose `notify` column names a type, becomes one outbox
 * row in the same statement, so no change path can forget it and none pays a round trip for it.
 * `recurring_needs_attention` has no order: the recurring job (src/modules/recurring/job.ts) writes
 * it when a schedule's date could not be booked, in the statement that records the date.
 */
export const NOTIFICATION_TYPES = [
  'order_confirmed',
  'picked_up',
  'ready',
  'out_for_delivery',
  'delivered',
  'cancelled',
  'payment_action_required',
  'refund_issued',
  'pickup_reminder',
  'rescheduled',
  'pickup_missed',
  'recurring_needs_attention',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/**
 * Account emails (issue 18: password reset, email verification, the notice of an email change):
 * an outbox row of one of these types carries its own address (`notification_outbox.recipient`)
 * and goes out by email only, to that address, whatever the preferences say; it is never in the
 * in-app inbox. Not part of NOTIFICATION_TYPES: no preference can name them.
 */
export const ACCOUNT_EMAIL_TYPES = ['password_reset', 'email_verification', 'email_changed'] as const;
export type AccountEmailType = (typeof ACCOUNT_EMAIL_TYPES)[number];

/** Every type an outbox row can have. */
export const OUTBOX_TYPES = [...NOTIFICATION_TYPES, ...ACCOUNT_EMAIL_TYPES] as const;
export type OutboxType = (typeof OUTBOX_TYPES)[number];
export const isAccountEmailType = (type: string): type is AccountEmailType => (ACCOUNT_EMAIL_TYPES as readonly string[]).includes(type);

export const NOTIFICATION_CHANNELS = ['push', 'sms', 'email'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/**
 * A delivery's life: `pending` (due at `next_attempt_at`), then `sent`; `failed` (the provider
 * refused it for good, e.g. an invalid number), `dead` (the attempt limit was reached: the
 * dead letters of the runbook), `skipped` (the customer's preferences, or the channel is not
 * configured).
 */
export const DELIVERY_STATES = ['pending', 'sent', 'failed', 'dead', 'skipped'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const notificationType = pgEnum('notification_type', OUTBOX_TYPES);
export const notificationChannel = pgEnum('notification_channel', NOTIFICATION_CHANNELS);
export const deliveryState = pgEnum('notification_delivery_state', DELIVERY_STATES);
