/**
 * The recurring pickups' part of the scheduled job (src/modules/payments/exclusive.ts,
 * runScheduledJobs, under the `payments-job` lease): each active schedule's occurrences from today
 * through RECURRING_DAYS_AHEAD local days ahead become orders, through the app's own
 * `createOrder` (pricing, promo and credit rules, atomic capacity, idempotency), never a copy.
 *
 * Exactly once per (schedule, local date), even when two runs overlap (the lease normally
 * prevents it; a lease that expired mid-run, or a CLI run beside the cron, does not):
 * 1. the date is claimed by an INSERT into `recurring_occurrences`, whose primary key is
 *    (schedule_id, date): a concurrent or later run gets no row and does nothing. A skip claims
 *    the date the same way (manage.ts), so a skipped date is never created;
 * 2. the order's Idempotency-Key is `recurring:<schedule id>:<date>`, so a run that died between
 *    its claim and its record is retried (the claim is taken over once it is CLAIM_STALE_MINUTES
 *    old) into a replay of the order it made, not a second one.
 *
 * A full slot: the pickup window nearest the schedule's on the same local date is taken (ties:
 * the earlier), with the delivery window nearest the schedule's on the delivery date that starts
 * after the pickup ends; up to MAX_PAIRS pairs are tried, since a concurrent booking can take the
 * last place between the read and the write. None left, or another rule failing (the address no
 * longer served, a service withdrawn…): the occurrence is recorded `needs_attention` with the
 * error code, shown in GET /v1/me/recurring-pickups, and the customer is told (a
 * `recurring_needs_attention` notification, once per (schedule, date): `recordOccurrence`).
 *
 * A disabled account's schedules are left out (read and claim both check it): nothing is placed
 * for an account that cannot sign in; enabled again, its future dates are placed as usual.
 *
 * Card occurrences: the order starts `pending_payment`, exactly as an app order does, and its
 * hold (estimate plus buffer, manual capture) is then authorised off-session on the customer's
 * saved card (`holdCard`: src/modules/payments/recurring-hold.ts, handed in by the payments module, which sits above this one), landing in the same payment row and state as a completed
 * PaymentSheet: the order is `confirmed` and the weigh-in captures it. Declined, authentication
 * required, or no saved card yet: the order stays `pending_payment`, payable with the
 * PaymentSheet (POST /v1/orders/{id}/payment-sheet), and the customer is told
 * (`payment_action_required`, once per (schedule, date)). Stripe giving no answer throws: the
 * date stays claimed and is retried after CLAIM_STALE_MINUTES (the retry replays the order and
 * looks the hold up at Stripe before sending: one PaymentIntent per order).
 *
 * Round trips: 1 read per SCHEDULES_PER_PAGE active schedules; per due date 1 (claim with the candidate slots),
 * then createOrder's (1–3) per pair tried, then for a card order the hold's (1 read; with a saved
 * card 1 to record the attempt and 1 to record Stripe's answer; Stripe: the saved hold read and one
 * PaymentIntent), then 1 to record the outcome and tell the customer.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { isDomainError } from '../../domain/errors.js';
import { addDays, dueOccurrences } from '../../domain/recurrence.js';
import { zonedWallTimeToUtc } from '../../domain/zoned-time.js';
import { ApiError } from '../../errors.js';
import { createOrder } from '../orders/create.js';
import type { CreateOrderInput } from '../orders/schemas.js';
import { ruleOf, ScheduleRow, scheduleRows } from './shared.js';

/** Active schedules read per statement (keyset pages by id; every active schedule is looked at each run). */
export const SCHEDULES_PER_PAGE = 500;
/** A claim left `creating` this long was a run that died: the next run takes it over. */
export const CLAIM_STALE_MINUTES = 15;
/** Slot pairs tried per occurrence before it is `needs_attention`. */
const MAX_PAIRS = 4;
/** Errors that mean "this pair is taken", so the next pair is tried. */
const TRY_NEXT = new Set(['slot_unavailable', 'delivery_too_early']);

export interface RecurringReport {
  created: number;
  needsAttention: Array<{ scheduleId: string; date: string; reason: string }>;
  /** Card occurrences placed without a hold (declined, authentication required, no saved card): the customer was told and pays with the PaymentSheet. */
  paymentNeeded: Array<{ scheduleId: string; date: string; orderId: string; reason: string }>;
  /** Dates that could not be handled this run (database or Stripe trouble): left claimed, retried after CLAIM_STALE_MINUTES. */
  failed: Array<{ scheduleId: string; date: string; detail: string }>;
}

const Slot = z.object({ id: z.string(), startsAt: z.string(), endsAt: z.string() });
const Claim = z.object({ claimed: z.number(), pickups: z.array(Slot), deliveries: z.array(Slot) });
type Slot = z.infer<typeof Slot>;

/**
 * `held`: authorised, the order is confirmed. `customer_needed`: no hold; the order stays
 * `pending_payment` for the customer's PaymentSheet; `reason` is Stripe's code
 * (`authentication_required`, a decline code) or `no_saved_card`; `amount` the hold asked (minor
 * units). `none`: nothing to do (not awaiting payment, or payments not configured here).
 */
export type HoldOutcome = { kind: 'held' } | { kind: 'customer_needed'; reason: string; amount: number } | { kind: 'none' };

/** Holds a just-placed card order off-session; throws when the provider gave no answer (the date is retried). */
export type HoldCard = (deps: Deps, orderId: string, userId: string, scheduleId: string) => Promise<HoldOutcome>;

export async function runRecurringPickups(deps: Deps, holdCard: HoldCard, daysAhead = deps.config.recurring.daysAhead): Promise<RecurringReport> {
  const report: RecurringReport = { created: 0, needsAttention: [], paymentNeeded: [], failed: [] };
  // Every active schedule, a page at a time (keyset on id): a schedule with nothing due costs no round trip of its own.
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const page = await deps.database.rows(ScheduleRow, sql`${scheduleRows(
      // A disabled account's schedules place nothing (it cannot sign in to see, pay or cancel them).
      sql`(SELECT * FROM recurring_pickups WHERE status = 'active' AND id > ${after}::uuid
             AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL) ORDER BY id LIMIT ${SCHEDULES_PER_PAGE})`,
    )} ORDER BY r.id`);
    for (const s of page) await handleSchedule(deps, holdCard, s, daysAhead, report);
    if (page.length < SCHEDULES_PER_PAGE) return report;
    after = page.at(-1)!.id;
  }
}

async function handleSchedule(deps: Deps, holdCard: HoldCard, s: ScheduleRow, daysAhead: number, report: RecurringReport): Promise<void> {
  if (!s.time_zone || !s.zone_id) return; // no zone serves the address now: nothing can be booked; GET shows no next dates
  const handled = new Set(s.recent.filter((o) => o.status !== 'creating').map((o) => o.date));
  for (const date of dueOccurrences(ruleOf(s, s.time_zone), deps.clock.now(), daysAhead)) {
    if (handled.has(date)) continue;
    try {
      await occurrence(deps, holdCard, s, s.zone_id, s.time_zone, date, report);
    } catch (err) {
      report.failed.push({ scheduleId: s.id, date, detail: err instanceof Error ? err.message : String(err) });
      deps.logger.error('recurring pickup occurrence failed', { scheduleId: s.id, date, error: err });
    }
  }
}

async function occurrence(deps: Deps, holdCard: HoldCard, s: ScheduleRow, zoneId: string, timeZone: string, date: string, report: RecurringReport): Promise<void> {
  const now = deps.clock.now().toISOString();
  const deliveryDate = addDays(date, s.delivery_days_after);
  const candidates = (kind: 'pickup' | 'delivery', day: string, start: string) => sql`coalesce((
    SELECT json_agg(json_build_object('id', c.id, 'startsAt', c.starts_at, 'endsAt', c.ends_at) ORDER BY c.distance, c.starts_at)
    FROM (SELECT s.id, s.starts_at, s.ends_at, abs(extract(epoch FROM s.starts_at - ${zonedWallTimeToUtc(day, start, timeZone).toISOString()}::timestamptz)) AS distance
          FROM slots s
          WHERE s.zone_id = ${zoneId}::uuid AND s.kind = ${kind}::slot_kind AND NOT s.closed AND s.reserved < s.capacity
            AND s.starts_at >= ${zonedWallTimeToUtc(day, '00:00', timeZone).toISOString()}::timestamptz
            AND s.starts_at < ${zonedWallTimeToUtc(addDays(day, 1), '00:00', timeZone).toISOString()}::timestamptz
            AND s.starts_at - make_interval(mins => s.cutoff_minutes) > ${now}::timestamptz) c), '[]'::json)`;
  const [claim] = await deps.database.rows(Claim, sql`
    WITH claim AS (
      INSERT INTO recurring_occurrences (schedule_id, date, status, claimed_at, created_at, updated_at)
      SELECT r.id, ${date}::date, 'creating', ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz
      FROM recurring_pickups r WHERE r.id = ${s.id}::uuid AND r.status = 'active' AND NOT (${date}::date = ANY(r.skipped_dates))
        AND EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id AND u.disabled_at IS NULL)
      ON CONFLICT (schedule_id, date) DO UPDATE SET claimed_at = excluded.claimed_at, updated_at = excluded.updated_at
        WHERE recurring_occurrences.status = 'creating'
          AND recurring_occurrences.claimed_at < excluded.claimed_at - make_interval(mins => ${CLAIM_STALE_MINUTES})
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM claim)::int AS claimed,
           ${candidates('pickup', date, s.pickup_start)} AS pickups,
           ${candidates('delivery', deliveryDate, s.delivery_start)} AS deliveries`);
  if (!claim || claim.claimed === 0) return; // another run has it, or it was skipped or paused meanwhile

  const outcome = await placeOrder(deps, s, date, pairsOf(claim.pickups, claim.deliveries));
  const hold = outcome.orderId && s.payment_method === 'card' ? await holdCard(deps, outcome.orderId, s.user_id, s.id) : undefined;
  await recordOccurrence(deps, s, date, outcome, hold);
  if (outcome.orderId) report.created++;
  else report.needsAttention.push({ scheduleId: s.id, date, reason: outcome.reason ?? 'slot_unavailable' });
  if (hold?.kind === 'customer_needed') report.paymentNeeded.push({ scheduleId: s.id, date, orderId: outcome.orderId!, reason: hold.reason });
}

/**
 * ONE statement: the date's outcome, and only if this run moved it from `creating` (so once per
 * (schedule, date) whatever runs overlap or are retried), the customer told:
 * - no order: a `recurring_needs_attention` outbox row (no order to hang it on; dedupe key
 *   `recurring_needs_attention:<schedule>:<date>`; never for a synthetic customer), with the reason;
 * - an order whose card could not be held off-session: a timeline entry with
 *   `notify = payment_action_required` (the outbox trigger of migration 0014 queues it), which
 *   says why and what is to pay on the PaymentSheet.
 */
async function recordOccurrence(deps: Deps, s: ScheduleRow, date: string, outcome: { orderId?: string; reason?: string }, hold: HoldOutcome | undefined): Promise<void> {
  const now = deps.clock.now().toISOString();
  const reason = outcome.orderId ? null : (outcome.reason ?? 'slot_unavailable');
  const pay = hold?.kind === 'customer_needed' ? hold : undefined;
  await deps.database.rows(z.object({}).loose(), sql`
    WITH occ AS (
      UPDATE recurring_occurrences SET status = ${outcome.orderId ? 'created' : 'needs_attention'}, order_id = ${outcome.orderId ?? null}::uuid,
             reason = ${reason}, updated_at = ${now}::timestamptz
      WHERE schedule_id = ${s.id}::uuid AND date = ${date}::date AND status = 'creating'
      RETURNING schedule_id, order_id
    ),
    told AS (
      INSERT INTO notification_outbox (user_id, order_id, type, dedupe_key, data, created_at)
      SELECT u.id, NULL, 'recurring_needs_attention', ${`recurring_needs_attention:${s.id}:${date}`},
             jsonb_build_object('scheduleId', occ.schedule_id, 'date', ${date}::text, 'reason', ${reason}::text), ${now}::timestamptz
      FROM occ JOIN users u ON u.id = ${s.user_id}::uuid
      WHERE occ.order_id IS NULL AND NOT u.synthetic
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING 1
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note, evidence, notify)
    SELECT occ.order_id, ${now}::timestamptz, 'system', 'payment',
           ${`The recurring pickup's card could not be held off-session (${pay?.reason ?? ''}); the customer pays with the PaymentSheet`},
           ${JSON.stringify({ amount: pay?.amount ?? 0, reason: pay?.reason ?? null, recurringPickupId: s.id, date })}::jsonb, 'payment_action_required'
    FROM occ WHERE occ.order_id IS NOT NULL AND ${pay !== undefined}::boolean`);
}

/** Pickup × delivery pairs, nearest first, the delivery starting after the pickup ends. */
function pairsOf(pickups: Slot[], deliveries: Slot[]): Array<[Slot, Slot]> {
  const pairs: Array<[Slot, Slot]> = [];
  for (const p of pickups) {
    for (const d of deliveries) {
      if (new Date(d.startsAt) >= new Date(p.endsAt)) pairs.push([p, d]);
      if (pairs.length === MAX_PAIRS) return pairs;
    }
  }
  return pairs;
}

async function placeOrder(deps: Deps, s: ScheduleRow, date: string, pairs: Array<[Slot, Slot]>): Promise<{ orderId?: string; reason?: string }> {
  const key = `recurring:${s.id}:${date}`;
  let reason = 'slot_unavailable';
  for (const [pickup, delivery] of pairs) {
    const input: CreateOrderInput = {
      items: s.items as CreateOrderInput['items'],
      express: s.express,
      addressId: s.address_id,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: s.payment_method,
      ...(s.notes ? { notes: s.notes } : {}),
    };
    try {
      const result = await createOrder(deps, s.user_id, key, input);
      return { orderId: result.body.id };
    } catch (err) {
      const code = err instanceof ApiError || isDomainError(err) ? err.code : undefined;
      if (code === undefined) throw err;
      // A run that died after its order was written, retried with other slots: that order is this date's.
      if (code === 'idempotency_key_reused') return orderOfKey(deps, s.user_id, key);
      reason = code;
      if (!TRY_NEXT.has(code)) break;
    }
  }
  return { reason };
}

async function orderOfKey(deps: Deps, userId: string, key: string): Promise<{ orderId?: string; reason?: string }> {
  const [row] = await deps.database.rows(z.object({ order_id: z.string().nullable() }), sql`
    SELECT order_id FROM idempotency_keys WHERE user_id = ${userId}::uuid AND key = ${key}`);
  return row?.order_id ? { orderId: row.order_id } : { reason: 'conflict' };
}
