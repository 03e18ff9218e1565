import type { NotificationChannel, NotificationType, OutboxType } from '../db/schema-notification-kinds.js';

export type { NotificationChannel, NotificationType, OutboxType };

/**
 * One message rendered for one recipient on one channel (src/notifications/templates.ts):
 * what a channel client sends. `data` is what a push payload carries for the app to open the
 * right screen (`{ type, orderId }`), never more personal data than that.
 */
export interface RenderedMessage {
  channel: NotificationChannel;
  /** An order notification's type, or an account email's (ACCOUNT_EMAIL_TYPES: email only). */
  type: OutboxType;
  /** Device token (push), E.164 number (sms), email address (email). */
  recipient: string;
  /** Push title and email subject. */
  title: string;
  /** Push body, SMS text, email text body. */
  body: string;
  /** Push data (string values only, as FCM requires). */
  data: Record<string, string>;
  /**
   * Stable per (event, channel, recipient): `notification_deliveries.id` as text. Sent as the
   * provider's idempotency key where it has one (the email API), logged otherwise.
   */
  idempotencyKey: string;
}

/**
 * What a provider answered. `retry` = try again later (429, 5xx, a timeout, a network error),
 * after `retryAfterMs` when the provider said (Retry-After); `failed` = never retry (a 4xx that
 * will not change); `unregistered` = the push token is dead (FCM `UNREGISTERED`): the device row
 * is deleted and the delivery is skipped.
 */
export type SendOutcome =
  | { kind: 'sent'; providerMessageId: string }
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  | { kind: 'failed'; error: string }
  | { kind: 'unregistered'; error: string };

/** A provider client over `fetch` (both runtimes). Never throws: every failure is an outcome. */
export interface ChannelClient {
  readonly channel: NotificationChannel;
  /** `fcm`, `twilio`, `resend`, or `log` (development: logs what would be sent). */
  readonly provider: string;
  send(message: RenderedMessage): Promise<SendOutcome>;
}
