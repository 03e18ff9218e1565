/**
 * Private to the recurring module: the checked write of create and change (`saveSchedule`), and
 * the row a schedule is read back as (with the zone serving its
 * address now, found in SQL by `zoneForPostcode`, and its latest occurrences), and its DTO.
 * Every customer statement of the module filters by user_id: another customer's schedule reads
 * exactly like a missing one (404).
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { addDays, nextOccurrences, weekdayOf, type RecurrenceRule } from '../../domain/recurrence.js';
import { ApiError } from '../../errors.js';
import { zoneForPostcode } from '../scheduling/zone-match.js';
import type { CreateScheduleInput, ScheduleDto } from './schemas.js';

/** How many next dates and past occurrences GET shows per schedule. */
const NEXT_DATES = 5;
const RECENT_OCCURRENCES = 10;

const Occurrence = z.object({ date: z.string(), status: z.enum(['creating', 'created', 'needs_attention', 'skipped']), orderId: z.string().nullable(), reason: z.string().nullable() });

export const ScheduleRow = z.object({
  id: z.string(),
  user_id: z.string(),
  cadence: z.enum(['weekly', 'biweekly']),
  anchor_date: z.string(),
  pickup_start: z.string(),
  delivery_days_after: z.number(),
  delivery_start: z.string(),
  address_id: z.string(),
  items: z.array(z.looseObject({})),
  express: z.boolean(),
  payment_method: z.enum(['card', 'on_delivery']),
  notes: z.string().nullable(),
  status: z.enum(['active', 'paused']),
  skipped_dates: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  /** The zone serving the address now, or null. */
  zone_id: z.string().nullable(),
  time_zone: z.string().nullable(),
  recent: z.array(Occurrence),
});
export type ScheduleRow = z.infer<typeof ScheduleRow>;

/** The row columns of the schedules in relation `source` (aliased `r`), with zone and occurrences. */
export const scheduleRows = (source: SQL) => sql`
  SELECT r.id, r.user_id, r.cadence, to_char(r.anchor_date, 'YYYY-MM-DD') AS anchor_date, r.pickup_start, r.delivery_days_after,
         r.delivery_start, r.address_id, r.items, r.express, r.payment_method::text AS payment_method, r.notes, r.status,
         ARRAY(SELECT to_char(d, 'YYYY-MM-DD') FROM unnest(r.skipped_dates) d ORDER BY d) AS skipped_dates,
         r.created_at::text AS created_at, r.updated_at::text AS updated_at, m.id AS zone_id, m.time_zone,
         coalesce((SELECT json_agg(json_build_object('date', to_char(o.date, 'YYYY-MM-DD'), 'status', o.status, 'orderId', o.order_id,
                                                     'reason', o.reason) ORDER BY o.date DESC)
                   FROM (SELECT * FROM recurring_occurrences o WHERE o.schedule_id = r.id ORDER BY o.date DESC LIMIT ${RECENT_OCCURRENCES}) o),
                  '[]'::json) AS recent
  FROM ${source} r
  JOIN addresses a ON a.id = r.address_id
  LEFT JOIN LATERAL (${zoneForPostcode(sql`a.postcode`, { userId: sql`a.user_id` })}) m ON true`;

/** The expansion rule of a schedule whose address has a zone. */
export function ruleOf(r: ScheduleRow, timeZone: string): RecurrenceRule {
  return {
    cadence: r.cadence,
    anchorDate: r.anchor_date,
    pickupStart: r.pickup_start,
    timeZone,
    status: r.status,
    skippedDates: r.skipped_dates,
  };
}

export function toScheduleDto(deps: Deps, r: ScheduleRow): ScheduleDto {
  const now = deps.clock.now();
  return {
    id: r.id,
    cadence: r.cadence,
    weekday: weekdayOf(r.anchor_date),
    anchorDate: r.anchor_date,
    pickupStart: r.pickup_start,
    deliveryDaysAfter: r.delivery_days_after,
    deliveryStart: r.delivery_start,
    addressId: r.address_id,
    items: r.items as CreateScheduleInput['items'],
    express: r.express,
    paymentMethod: r.payment_method,
    notes: r.notes,
    status: r.status,
    timeZone: r.time_zone,
    skippedDates: r.skipped_dates,
    nextDates: r.time_zone ? nextOccurrences(ruleOf(r, r.time_zone), now, NEXT_DATES) : [],
    recentOccurrences: r.recent,
    createdAt: isoOf(r.created_at),
    updatedAt: isoOf(r.updated_at),
  };
}

/** 404 `not_found`: no such schedule, or another customer's. */
export const scheduleNotFound = () => new ApiError('not_found', 'No such recurring pickup.');

/** How far back a generated slot still counts as evidence of the zone's template windows. */
const TEMPLATE_EVIDENCE_DAYS = 28;

export type Fields = Omit<CreateScheduleInput, 'notes'> & { notes: string | null };

const Checked = z.object({
  found: z.boolean(),
  zone_id: z.string().nullable(),
  anchor_ok: z.boolean().nullable(),
  pickup_ok: z.boolean().nullable(),
  delivery_ok: z.boolean().nullable(),
  saved: ScheduleRow.nullable(),
});

/**
 * The one checked write of create and change: the address is the caller's and served by a zone,
 * the zone has a pickup window starting at `pickupStart` on the anchor's weekday and a delivery
 * window at `deliveryStart` on the delivery's weekday (its slots generated within the last
 * TEMPLATE_EVIDENCE_DAYS or later are the template's evidence: templates are not stored), and a
 * new anchor is not before the zone's today. One statement; nothing is written unless all hold.
 * A change also requires the row to be as it was read (else 409 `conflict`).
 */
export async function saveSchedule(
  deps: Deps,
  userId: string,
  f: Fields,
  opts: { checkAnchor: boolean; id?: string; status?: string; updatedAt?: string },
): Promise<ScheduleDto> {
  if (f.paymentMethod === 'card' && !deps.payments) {
    throw new ApiError('payments_not_configured', 'Card payments are not configured on this server; choose pay on delivery.');
  }
  if (f.deliveryDaysAfter === 0 && f.deliveryStart <= f.pickupStart) {
    throw new ApiError('delivery_too_early', 'A same-day delivery window must start after the pickup window.', {
      details: { pickupStart: f.pickupStart, deliveryStart: f.deliveryStart },
    });
  }
  const now = deps.clock.now().toISOString();
  const window = (kind: 'pickup' | 'delivery', start: string, dow: number) => sql`EXISTS (
    SELECT 1 FROM slots s WHERE s.zone_id = m.id AND s.kind = ${kind}::slot_kind
      AND s.starts_at > ${now}::timestamptz - make_interval(days => ${TEMPLATE_EVIDENCE_DAYS})
      AND to_char(s.starts_at AT TIME ZONE m.time_zone, 'HH24:MI') = ${start}
      AND extract(dow FROM s.starts_at AT TIME ZONE m.time_zone) = ${dow})`;
  const ok = sql`chk.zone_id IS NOT NULL AND chk.anchor_ok AND chk.pickup_ok AND chk.delivery_ok`;
  const items = JSON.stringify(f.items);
  const write = opts.id
    ? sql`UPDATE recurring_pickups r SET cadence = ${f.cadence}, anchor_date = ${f.anchorDate}::date, pickup_start = ${f.pickupStart},
            delivery_days_after = ${f.deliveryDaysAfter}, delivery_start = ${f.deliveryStart}, address_id = ${f.addressId}::uuid,
            items = ${items}::jsonb, express = ${f.express}, payment_method = ${f.paymentMethod}::payment_method, notes = ${f.notes},
            status = ${opts.status ?? 'active'}, updated_at = ${now}::timestamptz
          FROM chk WHERE r.id = ${opts.id}::uuid AND r.user_id = ${userId}::uuid AND r.updated_at = ${opts.updatedAt ?? null}::timestamptz AND ${ok}
          RETURNING r.*`
    : sql`INSERT INTO recurring_pickups (user_id, cadence, anchor_date, pickup_start, delivery_days_after, delivery_start, address_id,
                                         items, express, payment_method, notes, created_at, updated_at)
          SELECT ${userId}::uuid, ${f.cadence}, ${f.anchorDate}::date, ${f.pickupStart}, ${f.deliveryDaysAfter}, ${f.deliveryStart},
                 ${f.addressId}::uuid, ${items}::jsonb, ${f.express}, ${f.paymentMethod}::payment_method, ${f.notes},
                 ${now}::timestamptz, ${now}::timestamptz
          FROM chk WHERE ${ok}
          RETURNING *`;
  const [row] = await deps.database.rows(Checked, sql`
    WITH chk AS (
      SELECT m.id AS zone_id,
             ${opts.checkAnchor ? sql`(${f.anchorDate}::date >= (${now}::timestamptz AT TIME ZONE m.time_zone)::date)` : sql`true`} AS anchor_ok,
             ${window('pickup', f.pickupStart, weekdayOf(f.anchorDate))} AS pickup_ok,
             ${window('delivery', f.deliveryStart, weekdayOf(addDays(f.anchorDate, f.deliveryDaysAfter)))} AS delivery_ok
      FROM addresses a LEFT JOIN LATERAL (${zoneForPostcode(sql`a.postcode`, { userId: sql`a.user_id` })}) m ON true
      WHERE a.id = ${f.addressId}::uuid AND a.user_id = ${userId}::uuid
    ), w AS (${write})
    SELECT EXISTS (SELECT 1 FROM chk) AS found, chk.zone_id, chk.anchor_ok, chk.pickup_ok, chk.delivery_ok,
           (SELECT row_to_json(x) FROM (${scheduleRows(sql`w`)}) x) AS saved
    FROM (SELECT 1) one LEFT JOIN chk ON true`);
  if (!row?.found) throw new ApiError('not_found', 'No such address.', { details: { addressId: f.addressId } });
  if (!row.zone_id) throw new ApiError('postcode_not_served', 'No zone serves this address.', { details: { addressId: f.addressId } });
  if (!row.anchor_ok) {
    throw new ApiError('validation_failed', 'The first occurrence is in the past.', [{ field: 'body.anchorDate', message: 'must not be before today in the zone' }]);
  }
  for (const [which, good, start] of [['pickup', row.pickup_ok, f.pickupStart], ['delivery', row.delivery_ok, f.deliveryStart]] as const) {
    if (!good) {
      throw new ApiError('recurring_window_unavailable', `The zone has no ${which} window starting at ${start} on that weekday.`, {
        details: { window: which, start },
      });
    }
  }
  if (!row.saved) throw new ApiError('conflict', 'The recurring pickup changed while it was being saved; read it and try again.');
  return toScheduleDto(deps, row.saved);
}

export async function readSchedule(deps: Deps, userId: string, id: string): Promise<ScheduleRow> {
  const [row] = await deps.database.rows(ScheduleRow, scheduleRows(sql`(SELECT * FROM recurring_pickups WHERE id = ${id}::uuid AND user_id = ${userId}::uuid)`));
  if (!row) throw scheduleNotFound();
  return row;
}

