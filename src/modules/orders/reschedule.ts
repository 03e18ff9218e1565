/**
 * Rescheduling a booked order (POST /v1/orders/{id}/reschedule for its customer, POST
 * /v1/staff/orders/{id}/reschedule for staff and admins): the rules are src/domain/reschedule.ts;
 * this is the one statement that applies them.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { fingerprintRequest } from '../../domain/idempotency.js';
import { DELIVERY_MOVABLE, PICKUP_MOVABLE, planReschedule, type RescheduleActor } from '../../domain/reschedule.js';
import type { SlotState } from '../../domain/slots.js';
import type { OrderStatus } from '../../domain/order-status.js';
import { parseRows } from '../../db/client.js';
import { pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { RescheduleResultSchema, type RescheduleInput, type RescheduleResult } from './reschedule-schemas.js';

const Slot = z.object({
  id: z.string(),
  zoneId: z.string(),
  kind: z.enum(['pickup', 'delivery']),
  startsAt: z.coerce.date(),
  endsAt: z.coerce.date(),
  capacity: z.number(),
  reserved: z.number(),
  cutoffMinutes: z.number(),
  closed: z.boolean(),
});
/** The rows the statement decided on, as it read them (after the order's lock): what the planner explains a refusal from. */
const State = z.object({
  status: z.string(),
  zoneId: z.string(),
  turnaroundHours: z.number(),
  pickup: Slot,
  delivery: Slot,
  newPickup: Slot.nullable(),
  newDelivery: Slot.nullable(),
});
const Answer = z.object({ fingerprint: z.string(), statusCode: z.number(), response: z.unknown() });
const ResultRow = z.object({ claimed: z.number(), moved: z.number(), state: State.nullable(), prior: Answer.nullable(), answer: RescheduleResultSchema.nullable() });

export interface RescheduleCommand {
  orderId: string;
  actor: { role: RescheduleActor; userId: string };
  key: string;
  input: RescheduleInput;
  /** The request path, for the key's fingerprint: the same key on another order is another request. */
  path: string;
}

export interface RescheduleOutcome {
  body: RescheduleResult;
  /** False for a replay of an earlier call with this key. */
  fresh: boolean;
}

const statuses = (list: readonly OrderStatus[]) => sql`${`{${list.join(',')}}`}::order_status[]`;
const iso = (column: SQL) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const slotJson = (s: string) => sql.raw(`CASE WHEN ${s}.id IS NULL THEN NULL ELSE json_build_object('id', ${s}.id, 'zoneId', ${s}.zone_id,
  'kind', ${s}.kind, 'startsAt', ${s}.starts_at, 'endsAt', ${s}.ends_at, 'capacity', ${s}.capacity, 'reserved', ${s}.reserved,
  'cutoffMinutes', ${s}.cutoff_minutes, 'closed', ${s}.closed) END`);
const slotRef = (s: string) => sql`json_build_object('id', ${sql.raw(s)}.id, 'startsAt', ${iso(sql.raw(`${s}.starts_at`))}, 'endsAt', ${iso(sql.raw(`${s}.ends_at`))})`;

/**
 * Moves the order's pickup and/or delivery slot in ONE round trip: one batch locks the order,
 * then one statement claims the idempotency key, checks every rule of src/domain/reschedule.ts
 * on the rows as they are now (the `allowed` column), gives back a unit of each slot left,
 * reserves one in each slot taken (`reserved < capacity`, so a concurrent booking of the last
 * place and this move cannot both have it: the loser aborts the statement, 409
 * `slot_unavailable`), moves the order and appends the `rescheduled` timeline entry, which
 * queues the customer's `rescheduled` notification (migration 0014's trigger). When a rule fails
 * nothing is written, and the planner, run on the rows the statement read, says which (the
 * domain's codes); the slots the order already has make a no-op (200, nothing written but the
 * key). The answer is built in the statement and stored with the key: a retry with the same key
 * and body gets it again (Stripe's rule; another body on the key: 422 `idempotency_key_reused`).
 * Round trips: 1; 2 when another request with the same key was in flight (its answer is read).
 */
export async function rescheduleOrder(deps: Deps, cmd: RescheduleCommand): Promise<RescheduleOutcome> {
  const fingerprint = await fingerprintRequest({ method: 'POST', path: cmd.path, body: cmd.input }, deps.sha256Hex);
  const now = deps.clock.now().toISOString();
  const customer = cmd.actor.role === 'customer';
  const owner = customer ? sql` AND user_id = ${cmd.actor.userId}::uuid` : sql``;
  // Customers book as at creation (before the cut-off); staff until the window is over.
  const open = (s: string) =>
    customer ? sql`${sql.raw(s)}.starts_at - make_interval(mins => ${sql.raw(s)}.cutoff_minutes) > ${now}::timestamptz` : sql`${sql.raw(s)}.ends_at > ${now}::timestamptz`;
  const usable = (s: string, kind: 'pickup' | 'delivery') =>
    sql`(${sql.raw(s)}.kind = ${kind} AND ${sql.raw(s)}.zone_id = o.zone_id AND NOT ${sql.raw(s)}.closed AND ${sql.raw(s)}.reserved < ${sql.raw(s)}.capacity AND ${open(s)})`;
  const who = customer
    ? sql`o.status = ANY(${statuses(PICKUP_MOVABLE)}) AND cp.starts_at - make_interval(mins => cp.cutoff_minutes) > ${now}::timestamptz`
    : sql`(np.id = cp.id OR o.status = ANY(${statuses(PICKUP_MOVABLE)})) AND (nd.id = cd.id OR o.status = ANY(${statuses(DELIVERY_MOVABLE)}))`;
  const take = (which: 'pickup' | 'delivery', moves: string, to: string) => sql`
    UPDATE slots s SET reserved = s.reserved + 1, updated_at = ${now}::timestamptz
    FROM moved WHERE moved.${sql.raw(moves)} AND s.id = moved.${sql.raw(to)} AND NOT s.closed AND s.reserved < s.capacity AND ${open('s')}
    RETURNING s.id, ${which}::text AS which`;
  const giveBack = (moves: string, from: string) => sql`
    UPDATE slots s SET reserved = s.reserved - 1, updated_at = ${now}::timestamptz
    FROM moved WHERE moved.${sql.raw(moves)} AND s.id = moved.${sql.raw(from)} RETURNING s.id`;
  const abortUnless = (moves: string, taken: string, which: string, to: string) => sql`
    WHEN EXISTS (SELECT 1 FROM moved WHERE ${sql.raw(moves)}) AND NOT EXISTS (SELECT 1 FROM ${sql.raw(taken)})
      THEN laundry_abort('slot_unavailable:${sql.raw(which)}:' || (SELECT CASE WHEN s.closed THEN 'closed' ELSE 'full' END FROM slots s, moved WHERE s.id = moved.${sql.raw(to)}))`;

  let result: unknown;
  try {
    [, result] = await deps.database.batch((db) => [
      db.execute(sql`SELECT id FROM orders WHERE id = ${cmd.orderId}::uuid${owner} FOR UPDATE`),
      db.execute(sql`
        WITH prior AS (
          SELECT json_build_object('fingerprint', k.fingerprint, 'statusCode', k.status_code, 'response', k.response) AS answer
          FROM idempotency_keys k WHERE k.user_id = ${cmd.actor.userId}::uuid AND k.key = ${cmd.key}
        ),
        ta AS (
          SELECT max(CASE WHEN o.express THEN COALESCE(sv.express_turnaround_hours, sv.turnaround_hours) ELSE sv.turnaround_hours END)::int AS hours
          FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN services sv ON sv.id = l.service_id
          WHERE o.id = ${cmd.orderId}::uuid
        ),
        v AS (
          SELECT o.id, o.status, cp.id AS cp_id, cd.id AS cd_id, np.id AS np_id, nd.id AS nd_id,
                 np.id IS NOT NULL AND np.id <> cp.id AS mp, nd.id IS NOT NULL AND nd.id <> cd.id AS md,
                 (np.id IS NOT NULL AND nd.id IS NOT NULL AND (np.id <> cp.id OR nd.id <> cd.id) AND ${who}
                  AND (np.id = cp.id OR ${usable('np', 'pickup')}) AND (nd.id = cd.id OR ${usable('nd', 'delivery')})
                  AND nd.starts_at >= np.ends_at + make_interval(hours => ta.hours)) AS allowed,
                 (np.id = cp.id AND nd.id = cd.id) AS same,
                 json_build_object('status', o.status, 'zoneId', o.zone_id, 'turnaroundHours', ta.hours,
                   'pickup', ${slotJson('cp')}, 'delivery', ${slotJson('cd')}, 'newPickup', ${slotJson('np')}, 'newDelivery', ${slotJson('nd')}) AS state,
                 CASE WHEN np.id IS NOT NULL AND nd.id IS NOT NULL THEN json_build_object('orderId', o.id, 'status', o.status,
                   'changed', np.id <> cp.id OR nd.id <> cd.id, 'pickupSlot', ${slotRef('np')}, 'deliverySlot', ${slotRef('nd')}) END AS answer
          FROM orders o CROSS JOIN ta
          JOIN slots cp ON cp.id = o.pickup_slot_id JOIN slots cd ON cd.id = o.delivery_slot_id
          LEFT JOIN slots np ON np.id = COALESCE(${cmd.input.pickupSlotId ?? null}::uuid, o.pickup_slot_id)
          LEFT JOIN slots nd ON nd.id = COALESCE(${cmd.input.deliverySlotId ?? null}::uuid, o.delivery_slot_id)
          WHERE o.id = ${cmd.orderId}::uuid${owner}
        ),
        idem AS (
          INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, order_id, created_at)
          SELECT ${cmd.actor.userId}::uuid, ${cmd.key}, ${fingerprint}, 200, v.answer, v.id, ${now}::timestamptz
          FROM v WHERE NOT EXISTS (SELECT 1 FROM prior) AND (v.allowed OR v.same)
          ON CONFLICT (user_id, key) DO NOTHING
          RETURNING 1
        ),
        moved AS (
          UPDATE orders o SET pickup_slot_id = v.np_id, delivery_slot_id = v.nd_id, updated_at = ${now}::timestamptz
          FROM v WHERE o.id = v.id AND v.allowed AND EXISTS (SELECT 1 FROM idem)
          RETURNING o.id, v.mp, v.md, v.cp_id, v.cd_id, v.np_id, v.nd_id
        ),
        left_pickup AS (${giveBack('mp', 'cp_id')}),
        left_delivery AS (${giveBack('md', 'cd_id')}),
        took_pickup AS (${take('pickup', 'mp', 'np_id')}),
        took_delivery AS (${take('delivery', 'md', 'nd_id')}),
        ev AS (
          INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence, notify)
          SELECT id, ${now}::timestamptz, ${cmd.actor.role}::actor_role, ${cmd.actor.userId}::uuid, 'rescheduled', NULL,
                 jsonb_strip_nulls(jsonb_build_object(
                   'pickup', CASE WHEN mp THEN jsonb_build_object('fromSlotId', cp_id, 'toSlotId', np_id) END,
                   'delivery', CASE WHEN md THEN jsonb_build_object('fromSlotId', cd_id, 'toSlotId', nd_id) END)),
                 'rescheduled'::notification_type
          FROM moved
        )
        SELECT (SELECT count(*) FROM idem)::int AS claimed, (SELECT answer FROM prior) AS prior, (SELECT state FROM v) AS state, (SELECT answer FROM v) AS answer,
               CASE ${abortUnless('mp', 'took_pickup', 'pickup', 'np_id')}
                    ${abortUnless('md', 'took_delivery', 'delivery', 'nd_id')}
                    ELSE (SELECT count(*) FROM moved)::int END AS moved`),
    ]);
  } catch (err) {
    const info = pgError(err);
    const reason = info?.code === 'P0001' ? /^slot_unavailable:(pickup|delivery):(\w+)$/.exec(info.message) : null;
    if (!reason) throw err;
    const which = reason[1]!;
    const slotId = which === 'pickup' ? cmd.input.pickupSlotId : cmd.input.deliverySlotId;
    throw new ApiError('slot_unavailable', `The ${which} slot cannot be booked: ${reason[2]}`, { details: { slot: which, slotId, reason: reason[2] } });
  }
  const [row] = parseRows(ResultRow, result);
  if (row?.prior) return replay(row.prior, fingerprint);
  // The answer exactly as the statement stored it with the key.
  if (row?.claimed === 1 && row.answer) return { body: row.answer, fresh: true };
  if (!row?.state) throw new ApiError('not_found', 'No such order.');
  explain(cmd, row.state, deps.clock.now());
  // Every rule held on the rows read, yet nothing was claimed: a request with this key won the race.
  const stored = await deps.database.rows(Answer, sql`
    SELECT fingerprint, status_code AS "statusCode", response FROM idempotency_keys WHERE user_id = ${cmd.actor.userId}::uuid AND key = ${cmd.key}`);
  if (!stored[0]) throw new ApiError('conflict', 'A concurrent request with this Idempotency-Key failed; retry.');
  return replay(stored[0], fingerprint);
}

/** Throws why the statement refused, as the domain rules say on the rows it read; returns when they all hold. */
function explain(cmd: RescheduleCommand, state: z.infer<typeof State>, now: Date): void {
  const requested = (id: string | undefined, slot: SlotState | null, field: string) => {
    if (id === undefined) return undefined;
    if (!slot) throw new ApiError('validation_failed', `${field}: no such slot`, [{ field, message: 'no such slot' }]);
    return slot;
  };
  planReschedule({
    actor: cmd.actor.role,
    status: state.status as OrderStatus,
    zoneId: state.zoneId,
    pickup: state.pickup,
    delivery: state.delivery,
    newPickup: requested(cmd.input.pickupSlotId, state.newPickup, 'body.pickupSlotId'),
    newDelivery: requested(cmd.input.deliverySlotId, state.newDelivery, 'body.deliverySlotId'),
    turnaroundHours: state.turnaroundHours,
    now,
  });
}

function replay(stored: z.infer<typeof Answer>, fingerprint: string): RescheduleOutcome {
  if (stored.fingerprint !== fingerprint) {
    throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was used for a different request. Use a new key for a new reschedule.');
  }
  return { body: stored.response as RescheduleResult, fresh: false };
}
