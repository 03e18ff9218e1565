import { ACCOUNT_EMAIL_TYPES } from '../../db/schema-notification-kinds.js';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { AccountExportSchema, type AccountExport } from './schemas.js';

/** ISO 8601 UTC with milliseconds, as every response carries it, from a timestamptz column. */
const iso = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
/** A json array of `obj` over `from`, `[]` when empty. */
const list = (obj: ReturnType<typeof sql>, from: ReturnType<typeof sql>) => sql`COALESCE((SELECT json_agg(${obj}) FROM ${from}), '[]'::json)`;

const ExportRow = z.object({ doc: AccountExportSchema.omit({ exportVersion: true, exportedAt: true }) });

/**
 * GET /v1/me/export: the account as one JSON document (AccountExportSchema), built by ONE
 * statement (one round trip) with json_agg, every part filtered by the caller's user id: the
 * profile, linked identities (provider, the email the provider gave, never tokens), addresses,
 * orders with their pickup and delivery windows, price breakdowns, lines, timeline (with its
 * evidence, less the staff member it may name: who acted is never exported), payments and refunds (what the customer's order views show, no Stripe ids in these rows; a
 * timeline entry's evidence may name the customer's own PaymentIntent or refund, as the order view does), devices (platform, app version, locale: never the push token), notification
 * preferences (overrides of the defaults), the inbox, the sessions (device label and times,
 * never tokens), the credit, the tips the customer gave (no Stripe ids) and the recurring pickups
 * with every date the job handled. 401 `invalid_token` when the account is gone.
 */
export async function exportAccount(deps: Deps, userId: string): Promise<AccountExport> {
  const id = sql`${userId}::uuid`;
  const [row] = await deps.database.rows(ExportRow, sql`
    SELECT json_build_object(
      'account', json_build_object('id', u.id, 'email', u.email, 'emailVerified', u.email_verified_at IS NOT NULL, 'name', u.name, 'phone', u.phone, 'locale', u.locale, 'role', u.role, 'createdAt', ${iso('u.created_at')}),
      'identities', ${list(
        sql`json_build_object('provider', i.provider, 'email', i.email, 'linkedAt', ${iso('i.created_at')}, 'lastUsedAt', ${iso('i.last_used_at')}) ORDER BY i.created_at`,
        sql`user_identities i WHERE i.user_id = ${id}`,
      )},
      'addresses', ${list(
        sql`json_build_object('id', a.id, 'label', a.label, 'line1', a.line1, 'line2', a.line2, 'city', a.city, 'postcode', a.postcode, 'instructions', a.instructions, 'createdAt', ${iso('a.created_at')}) ORDER BY a.created_at`,
        sql`addresses a WHERE a.user_id = ${id}`,
      )},
      'orders', ${list(
        sql`json_build_object(
          'id', o.id, 'status', o.status, 'paymentMethod', o.payment_method, 'express', o.express, 'currency', o.currency,
          'address', o.address, 'notes', o.notes, 'estimatedTotal', o.estimated_total, 'finalTotal', o.final_total, 'bagCount', o.bag_count,
          'discountAmount', o.discount_amount, 'creditApplied', o.credit_applied,
          'pickupSlot', (SELECT json_build_object('startsAt', ${iso('s.starts_at')}, 'endsAt', ${iso('s.ends_at')}) FROM slots s WHERE s.id = o.pickup_slot_id),
          'deliverySlot', (SELECT json_build_object('startsAt', ${iso('s.starts_at')}, 'endsAt', ${iso('s.ends_at')}) FROM slots s WHERE s.id = o.delivery_slot_id),
          'estimate', o.estimate, 'final', o.final_breakdown, 'weighedAt', ${iso('o.weighed_at')},
          'createdAt', ${iso('o.created_at')},
          'lines', ${list(
            sql`json_build_object('position', l.position, 'serviceName', l.service_name, 'pricingModel', l.pricing_model, 'unitPrice', l.unit_price,
              'quantity', l.quantity, 'estimatedWeightGrams', l.estimated_weight_grams, 'finalQuantity', l.final_quantity, 'finalWeightGrams', l.final_weight_grams,
              'addOns', (SELECT COALESCE(json_agg(json_build_object('name', ao->>'name', 'price', (ao->>'price')::int)), '[]'::json) FROM jsonb_array_elements(l.add_ons) ao),
              'estimatedTotal', l.estimated_total, 'finalTotal', l.final_total) ORDER BY l.position`,
            sql`order_lines l WHERE l.order_id = o.id`,
          )},
          'timeline', ${list(
            sql`json_build_object('at', ${iso('e.at')}, 'actorRole', e.actor_role, 'type', e.type, 'fromStatus', e.from_status, 'toStatus', e.to_status, 'note', e.note,
              -- Who acted is left out (actorRole only): a waiver names the admin in its evidence too (adminId).
              'evidence', e.evidence - 'adminId') ORDER BY e.id`,
            sql`order_events e WHERE e.order_id = o.id`,
          )},
          'payments', ${list(
            sql`json_build_object('kind', p.kind, 'method', p.method, 'status', p.status, 'currency', p.currency, 'amount', p.amount,
              'amountCaptured', p.amount_captured, 'amountRefunded', p.amount_refunded, 'createdAt', ${iso('p.created_at')}) ORDER BY p.created_at`,
            sql`payments p WHERE p.order_id = o.id`,
          )},
          'refunds', ${list(
            sql`json_build_object('amount', r.amount, 'reason', r.reason, 'status', r.status, 'createdAt', ${iso('r.created_at')}) ORDER BY r.created_at`,
            sql`refunds r WHERE r.order_id = o.id`,
          )}) ORDER BY o.created_at DESC, o.id`,
        sql`orders o WHERE o.user_id = ${id}`,
      )},
      'devices', ${list(
        sql`json_build_object('platform', d.platform, 'appVersion', d.app_version, 'locale', d.locale, 'createdAt', ${iso('d.created_at')}) ORDER BY d.created_at`,
        sql`devices d WHERE d.user_id = ${id}`,
      )},
      'notificationPreferences', ${list(
        sql`json_build_object('type', np.type, 'channel', np.channel, 'enabled', np.enabled) ORDER BY np.type, np.channel`,
        sql`notification_preferences np WHERE np.user_id = ${id}`,
      )},
      'inbox', ${list(
        sql`json_build_object('type', n.type, 'orderId', n.order_id, 'data', n.data, 'createdAt', ${iso('n.created_at')}, 'readAt', ${iso('n.read_at')}) ORDER BY n.id DESC`,
        // The inbox as GET /v1/me/notifications shows it (src/modules/notifications/inbox.ts): not the account emails.
        sql`notification_outbox n WHERE n.user_id = ${id} AND n.recipient IS NULL AND n.type::text <> ALL(${`{${ACCOUNT_EMAIL_TYPES.join(',')}}`}::text[])`,
      )},
      'sessions', ${list(
        sql`json_build_object('deviceLabel', s.device_label, 'createdAt', ${iso('s.created_at')}, 'lastUsedAt', ${iso('s.last_used_at')}, 'ended', s.ended) ORDER BY s.last_used_at DESC`,
        sql`(SELECT (array_agg(t.device_label ORDER BY t.created_at DESC))[1] AS device_label, min(t.created_at) AS created_at, max(t.created_at) AS last_used_at,
                    bool_and(t.revoked_at IS NOT NULL) OR EXISTS (SELECT 1 FROM ended_sessions es WHERE es.family_id = t.family_id) AS ended
             FROM refresh_tokens t WHERE t.user_id = ${id} GROUP BY t.family_id) s`,
      )},
      'tips', ${list(
        sql`json_build_object('orderId', tp.order_id, 'amount', tp.amount, 'currency', tp.currency, 'percent', tp.percent, 'method', tp.method,
          'status', tp.status, 'createdAt', ${iso('tp.created_at')}) ORDER BY tp.created_at DESC, tp.id`,
        sql`tips tp WHERE tp.user_id = ${id}`,
      )},
      'recurringPickups', ${list(
        sql`json_build_object('id', r.id, 'cadence', r.cadence, 'anchorDate', to_char(r.anchor_date, 'YYYY-MM-DD'), 'pickupStart', r.pickup_start,
          'deliveryDaysAfter', r.delivery_days_after, 'deliveryStart', r.delivery_start, 'addressId', r.address_id, 'items', r.items,
          'express', r.express, 'paymentMethod', r.payment_method, 'notes', r.notes, 'status', r.status,
          'skippedDates', ARRAY(SELECT to_char(d, 'YYYY-MM-DD') FROM unnest(r.skipped_dates) d ORDER BY d), 'createdAt', ${iso('r.created_at')},
          'occurrences', ${list(
            sql`json_build_object('date', to_char(ro.date, 'YYYY-MM-DD'), 'status', ro.status, 'orderId', ro.order_id, 'reason', ro.reason) ORDER BY ro.date DESC`,
            sql`recurring_occurrences ro WHERE ro.schedule_id = r.id`,
          )}) ORDER BY r.created_at, r.id`,
        sql`recurring_pickups r WHERE r.user_id = ${id}`,
      )},
      'credit', json_build_object('balance', u.credit_balance, 'entries', ${list(
        sql`json_build_object('amount', ce.amount, 'currency', ce.currency, 'reason', ce.reason, 'note', ce.note, 'orderId', ce.order_id, 'createdAt', ${iso('ce.created_at')}) ORDER BY ce.created_at DESC, ce.id`,
        sql`credit_entries ce WHERE ce.user_id = ${id}`,
      )})
    ) AS doc
    FROM users u WHERE u.id = ${id} AND u.erased_at IS NULL`);
  if (!row) throw new ApiError('invalid_token', 'The account behind this token no longer exists.');
  return { exportVersion: 1, exportedAt: deps.clock.now().toISOString(), ...row.doc };
}
