import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { deliveryState, notificationChannel, notificationType } from './schema-notification-kinds.js';
import { orders } from './schema-orders.js';
import { users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export * from './schema-notification-kinds.js';

/**
 * The transactional outbox: one row per event a customer cares about, written in the same
 * statement as the change that caused it. It is also the customer's in-app inbox (`read_at`).
 * `dispatched_at` is set once the row has been fanned out into `notification_deliveries`; the
 * scheduled sweep finds rows a crash left behind by it (no `dispatched_at` a minute after
 * `created_at`). `enqueued_at` is reserved and stays null: the Worker's wake-up message names no
 * row (naming one would cost the request a round trip).
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orderId: uuid('order_id').references(() => orders.id, { onDelete: 'cascade' }),
    type: notificationType('type').notNull(),
    /**
     * Unique per event: `order_event:<order_events.id>` from the trigger, `pickup_reminder:<order id>`
     * from the reminder job. A second write of the same event is a no-op (ON CONFLICT DO NOTHING).
     */
    dedupeKey: text('dedupe_key').notNull(),
    /**
     * What the templates need, no more: `{ orderId, status?, bagCount?, cancelledBy?, amount?, currency? }`;
     * for an account email `{ sealed? }`: the token, sealed (src/auth/seal.ts), removed once the
     * delivery reaches a final state (src/notifications/dispatch-claims.ts recordResults).
     */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /**
     * An account email's address (ACCOUNT_EMAIL_TYPES; issue 18): the only recipient of the row
     * (for an email change, the NEW address). Null for order notifications, which go to the
     * customer's channels. Personal data: erased with the account.
     */
    recipient: text('recipient'),
    createdAt: ts('created_at').notNull(),
    enqueuedAt: ts('enqueued_at'),
    dispatchedAt: ts('dispatched_at'),
    /** In-app inbox: when the customer marked it read. */
    readAt: ts('read_at'),
  },
  (t) => [
    unique('notification_outbox_dedupe_key').on(t.dedupeKey),
    index('notification_outbox_undispatched_idx').on(t.createdAt).where(sql`dispatched_at IS NULL`),
    index('notification_outbox_user_idx').on(t.userId, t.id.desc()),
  ],
);

/**
 * One row per (outbox row, channel, recipient): the unit that is sent, retried and recorded.
 * The unique key is what makes a retry or a second dispatcher unable to send twice: a send is
 * claimed by one UPDATE that takes a lease (`locked_until`) on a `pending` row.
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    outboxId: bigint('outbox_id', { mode: 'number' })
      .notNull()
      .references(() => notificationOutbox.id, { onDelete: 'cascade' }),
    channel: notificationChannel('channel').notNull(),
    /** A device token (push), an E.164 number (sms), an address (email). */
    recipient: text('recipient').notNull(),
    state: deliveryState('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** UTC; a pending row is due from this instant. */
    nextAttemptAt: ts('next_attempt_at').notNull(),
    /** A claimed row's lease: nobody else sends it before this instant. */
    lockedUntil: ts('locked_until'),
    lastError: text('last_error'),
    /** The provider's id for the accepted message (FCM name, Twilio SID, email id). */
    providerMessageId: text('provider_message_id'),
    sentAt: ts('sent_at'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    unique('notification_deliveries_once').on(t.outboxId, t.channel, t.recipient),
    index('notification_deliveries_due_idx').on(t.nextAttemptAt).where(sql`state = 'pending'`),
    index('notification_deliveries_state_idx').on(t.state, t.updatedAt),
  ],
);

/** A phone's push token (FCM registration token; one send reaches Android and iOS). */
export const devices = pgTable(
  'devices',
  {
    token: text('token').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    appVersion: text('app_version'),
    /** BCP 47, e.g. `en-GB`, `es`: picks the message language. */
    locale: text('locale'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('devices_user_idx').on(t.userId), check('devices_platform', sql`${t.platform} IN ('ios', 'android')`)],
);

/** Overrides of the default preferences (src/notifications/preferences.ts): absent row = default. */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: notificationType('type').notNull(),
    channel: notificationChannel('channel').notNull(),
    enabled: boolean('enabled').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.type, t.channel] })],
);
