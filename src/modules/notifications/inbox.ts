/**
 * The in-app inbox: the caller's outbox rows (the outbox row IS the inbox entry), newest first,
 * with `read_at`. Each operation is one statement; every statement filters by user_id, so
 * another customer's notification is indistinguishable from a missing one.
 */
import { z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { ACCOUNT_EMAIL_TYPES, NOTIFICATION_TYPES } from '../../db/schema-notification-kinds.js';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { renderMessage } from '../../notifications/templates.js';
import { SEQUENCE_ID_PATTERN, type NotificationDto } from './schemas.js';

/**
 * Account emails (password reset, email verification, email change: ACCOUNT_EMAIL_TYPES) share
 * the outbox but are not inbox entries: not listed, not counted unread, not markable.
 */
const inInbox = sql`recipient IS NULL AND type::text <> ALL(${`{${ACCOUNT_EMAIL_TYPES.join(',')}}`}::text[])`;

/** Keyset cursor over id DESC (identity order is write order). */
const InboxCursor = z.tuple([z.string().regex(new RegExp(SEQUENCE_ID_PATTERN))]);

const InboxRow = z.object({
  unread_count: z.coerce.number().int(),
  locale: z.string().nullable(),
  id: z.coerce.string().nullable(),
  type: z.enum(NOTIFICATION_TYPES).nullable(),
  order_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.string().nullable(),
  read_at: z.string().nullable(),
  time_zone: z.string().nullable(),
  pickup_starts_at: z.string().nullable(),
  pickup_ends_at: z.string().nullable(),
  delivery_starts_at: z.string().nullable(),
  delivery_ends_at: z.string().nullable(),
});

export interface InboxPage {
  data: NotificationDto[];
  nextCursor: string | null;
  unreadCount: number;
}

/**
 * One page and the unread count in one statement: the count row is always there (an empty page
 * still answers `unreadCount`), the page joined to it. One extra row tells whether a next page exists.
 */
export async function listNotifications(deps: Deps, userId: string, q: { limit: number; cursor?: string | undefined }): Promise<InboxPage> {
  const before = q.cursor ? decodeCursor(q.cursor, InboxCursor)[0] : null;
  const rows = await deps.database.rows(
    InboxRow,
    sql`
      SELECT c.unread_count, c.locale, n.id, n.type::text AS type, n.order_id, n.data, n.created_at, n.read_at,
             z.time_zone, ps.starts_at AS pickup_starts_at, ps.ends_at AS pickup_ends_at,
             ds.starts_at AS delivery_starts_at, ds.ends_at AS delivery_ends_at
      FROM (SELECT (SELECT count(*) FROM notification_outbox WHERE user_id = ${userId}::uuid AND read_at IS NULL AND ${inInbox}) AS unread_count,
                   (SELECT locale FROM users WHERE id = ${userId}::uuid) AS locale) c
      LEFT JOIN LATERAL (
        SELECT id, type, order_id, data, created_at, read_at FROM notification_outbox
        WHERE user_id = ${userId}::uuid AND ${inInbox} ${before ? sql`AND id < ${before}::bigint` : sql``}
        ORDER BY id DESC LIMIT ${q.limit + 1}
      ) n ON true
      LEFT JOIN orders o ON o.id = n.order_id
      LEFT JOIN zones z ON z.id = o.zone_id
      LEFT JOIN slots ps ON ps.id = o.pickup_slot_id
      LEFT JOIN slots ds ON ds.id = o.delivery_slot_id
      ORDER BY n.id DESC`,
  );
  const entries = rows.filter((r) => r.id !== null);
  const page = entries.slice(0, q.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => {
      // The same words as the push message (src/notifications/templates.ts), in the account's language.
      const date = (v: string | null) => (v === null ? null : new Date(isoOf(v)));
      const text = renderMessage({
        channel: 'push',
        type: r.type!,
        recipient: '',
        deliveryId: r.id!,
        locale: r.locale,
        orderId: r.order_id,
        timeZone: r.time_zone,
        pickupStartsAt: date(r.pickup_starts_at),
        pickupEndsAt: date(r.pickup_ends_at),
        deliveryStartsAt: date(r.delivery_starts_at),
        deliveryEndsAt: date(r.delivery_ends_at),
        data: r.data ?? {},
      });
      return {
        id: r.id!,
        type: r.type!,
        orderId: r.order_id,
        title: text.title,
        body: text.body,
        createdAt: isoOf(r.created_at!),
        readAt: r.read_at === null ? null : isoOf(r.read_at),
      };
    }),
    nextCursor: entries.length > q.limit && last ? encodeCursor([last.id!]) : null,
    unreadCount: rows[0]?.unread_count ?? 0,
  };
}

/** Marks one notification read (idempotent: a read one keeps its first `read_at`); 404 `not_found` when it is not the caller's. */
export async function markNotificationRead(deps: Deps, userId: string, id: string): Promise<void> {
  const rows = await deps.database.rows(
    z.object({ id: z.coerce.string() }),
    sql`UPDATE notification_outbox SET read_at = COALESCE(read_at, ${deps.clock.now().toISOString()}::timestamptz)
        WHERE id = ${id}::bigint AND user_id = ${userId}::uuid AND ${inInbox} RETURNING id`,
  );
  if (rows.length === 0) throw new ApiError('not_found', 'No such notification.');
}

/** Marks every unread notification of the caller read; answers how many changed. */
export async function markAllNotificationsRead(deps: Deps, userId: string): Promise<number> {
  const rows = await deps.database.rows(
    z.object({ changed: z.coerce.number().int() }),
    sql`WITH marked AS (
          UPDATE notification_outbox SET read_at = ${deps.clock.now().toISOString()}::timestamptz
          WHERE user_id = ${userId}::uuid AND read_at IS NULL AND ${inInbox} RETURNING 1)
        SELECT count(*) AS changed FROM marked`,
  );
  return rows[0]?.changed ?? 0;
}
