import { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES, type NotificationChannel, type NotificationType } from '../db/schema-notification-kinds.js';

/**
 * Which channels carry which notification when the customer has said nothing: push for every
 * moment of the order; SMS only where a customer must act or be at the door (the driver is on the
 * way, a payment needs them); email for what a customer files (confirmation, receipt on delivery,
 * cancellation, refund) and for payments. A row in `notification_preferences` overrides one cell.
 */
export const DEFAULT_PREFERENCES: Readonly<Record<NotificationType, Readonly<Record<NotificationChannel, boolean>>>> = {
  order_confirmed: { push: true, sms: false, email: true },
  picked_up: { push: true, sms: false, email: false },
  ready: { push: true, sms: false, email: false },
  out_for_delivery: { push: true, sms: true, email: false },
  delivered: { push: true, sms: false, email: true },
  cancelled: { push: true, sms: false, email: true },
  payment_action_required: { push: true, sms: true, email: true },
  refund_issued: { push: true, sms: false, email: true },
  pickup_reminder: { push: true, sms: false, email: false },
  rescheduled: { push: true, sms: false, email: true },
  pickup_missed: { push: true, sms: true, email: true },
  recurring_needs_attention: { push: true, sms: false, email: true },
};

/**
 * Transactional payment messages (a payment needs the customer; money was returned; a missed
 * pickup's fee was charged): the
 * customer may choose the channels, but not silence them. A change that would leave one of these
 * types with no channel on is refused with 422 `preference_required`; the default channels of
 * such a type stay on for email (the channel that needs no app and no phone number).
 */
export const MANDATORY_TYPES: readonly NotificationType[] = ['payment_action_required', 'refund_issued', 'pickup_missed'];

export interface PreferenceOverride {
  type: NotificationType;
  channel: NotificationChannel;
  enabled: boolean;
}

/** The effective matrix: the defaults with the customer's overrides applied. */
export function effectivePreferences(overrides: readonly PreferenceOverride[]): Record<NotificationType, Record<NotificationChannel, boolean>> {
  const out = {} as Record<NotificationType, Record<NotificationChannel, boolean>>;
  for (const type of NOTIFICATION_TYPES) out[type] = { ...DEFAULT_PREFERENCES[type] };
  for (const o of overrides) out[o.type][o.channel] = o.enabled;
  return out;
}

/**
 * The mandatory types a matrix silences (every channel off), empty when it is acceptable.
 * Source of the rule: issue 17 ("transactional payment messages cannot be switched off").
 */
export function silencedMandatoryTypes(matrix: Record<NotificationType, Record<NotificationChannel, boolean>>): NotificationType[] {
  return MANDATORY_TYPES.filter((type) => NOTIFICATION_CHANNELS.every((channel) => !matrix[type][channel]));
}

/** Whether `type` goes out on `channel` for a customer with these overrides. */
export function wants(overrides: readonly PreferenceOverride[], type: NotificationType, channel: NotificationChannel): boolean {
  const own = overrides.find((o) => o.type === type && o.channel === channel);
  return own ? own.enabled : DEFAULT_PREFERENCES[type][channel];
}
