import { z } from 'zod';
import { and, eq, sql } from 'drizzle-orm';
import { fingerprintRequest } from '../../domain/idempotency.js';
import { pgError } from '../../db/errors.js';
import { idempotencyKeys } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { cachedContext, readContext, staleRows, type OrderContext } from './create-context.js';
import { planOrder, type OrderPlan } from './plan.js';
import { creditSpent, redeem, redemptionRefusals, throwPromoRefusal } from './redeem.js';
import { newOrderRows, toLineRecord } from './create-rows.js';
import { OrderSchema, type CreateOrderInput, type OrderDto } from './schemas.js';

/**
 * The create statement's answer: whether this call claimed the key, and whether every step held;
 * on the one-statement path also which remembered rows no longer match (`stale`, empty when all
 * held) and the answer already stored for this key (`prior`).
 */
const CreatedRow = z.object({
  claimed: z.number(),
  ok: z.number(),
  stale: z.array(z.string()).nullable(),
  prior: z.object({ fingerprint: z.string(), statusCode: z.number(), response: z.unknown() }).nullable(),
});
type StoredAnswer = NonNullable<z.infer<typeof CreatedRow>['prior']>;

export interface CreateOrderResult {
  status: number;
  /** The order as created, or exactly as the first call with this key answered. */
  body: OrderDto;
  /** True when this call created the order; false for a replay of an earlier one. */
  created: boolean;
}

/**
 * Creates an order, in the common case in ONE round trip: the order is planned in code on the
 * rows remembered in `deps.orderInputs` (src/db/order-inputs.ts), then one statement re-checks
 * each of those rows against the database (the address is the caller's and unchanged, the
 * active zones, the services and add-ons, both slots' zone/kind/times/cut-off, the caller's
 * synthetic flag), claims the idempotency key, reserves a unit in both slots and writes the
 * order, its lines and its first timeline entry. When a remembered row is missing, or the plan
 * on them fails, or the statement reports one changed (and so wrote nothing), the order takes
 * the read-then-write path: one read of every row (`readContext`), the rules in code on those,
 * then the same statement without the checks: 2 round trips (3 after a stale row).
 * Errors are only ever decided on fresh rows: a plan that fails on remembered ones is re-planned
 * on the database's.
 *
 * If either slot cannot be reserved the statement aborts itself, so nothing is written
 * (409 `slot_unavailable`). A promo code is redeemed in the same statement (`redeem`): an
 * exhausted code, a per-customer limit reached or a first-order code on a later order aborts it
 * too (409 `promo_code_exhausted` / `promo_code_already_used` / `promo_code_first_order_only`).
 * Credit (`useCredit`) is spent in it with its ledger entry; a balance a concurrent order spent
 * first aborts it and the order is read and planned again (at most MAX_CREDIT_RETRIES passes).
 * A promo or credit adds no round trip: both are read by the same read, remembered like the
 * other rows and re-checked by the same statement.
 *
 * Concurrent calls with one key serialize on the key's primary key: exactly one creates, the
 * others replay its stored response (Stripe's idempotency rule: same key and same body, same
 * answer; another body, 422 `idempotency_key_reused`).
 */
export async function createOrder(
  deps: Deps,
  userId: string,
  key: string,
  input: CreateOrderInput,
): Promise<CreateOrderResult> {
  if (input.paymentMethod === 'card' && !deps.payments) {
    throw new ApiError('payments_not_configured', 'Card payments are not configured on this server; choose pay on delivery.');
  }
  const fingerprint = await fingerprintRequest({ method: 'POST', path: '/v1/orders', body: input }, deps.sha256Hex);
  const remembered = cachedContext(deps, userId, input);
  const quick = remembered && planOrQuiet(deps, input, remembered);
  if (remembered && quick) {
    const done = await writeOrder(deps, { userId, key, fingerprint, input, ctx: remembered, plan: quick, verify: true });
    if (done) return done;
  }
  // Only credit spent by a concurrent order between the read and the write sends the order round again.
  for (let attempt = 1; ; attempt++) {
    const ctx = await readContext(deps, userId, key, input);
    if (ctx.idem) return replay(deps, ctx.idem, fingerprint);
    const plan = planOrder(deps, input, ctx);
    const done = await writeOrder(deps, { userId, key, fingerprint, input, ctx, plan, verify: false });
    if (done) return done;
    if (attempt === MAX_CREDIT_RETRIES) throw new ApiError('conflict', 'Your credit balance changed while the order was placed; try again.');
  }
}

/** Read-then-write passes an order may take when concurrent orders keep spending the same credit. */
const MAX_CREDIT_RETRIES = 3;

/** The plan on remembered rows, or undefined when a rule fails on them: that is decided again on fresh rows. */
function planOrQuiet(deps: Deps, input: CreateOrderInput, ctx: OrderContext): OrderPlan | undefined {
  try {
    return planOrder(deps, input, ctx);
  } catch {
    return undefined;
  }
}

/**
 * The write statement. With `verify`, it first compares `ctx` with the database and, when a row
 * differs, writes nothing and resolves to undefined (the caller re-reads); it also answers a key
 * already used, from the stored answer. Without `verify`, `ctx` was read by `readContext`.
 */
async function writeOrder(
  deps: Deps,
  w: { userId: string; key: string; fingerprint: string; input: CreateOrderInput; ctx: OrderContext; plan: OrderPlan; verify: boolean },
): Promise<CreateOrderResult | undefined> {
  const { userId, key, fingerprint, input, ctx, plan } = w;
  const { orderId, status, lineRows, order, body } = newOrderRows(userId, input, ctx, plan);
  const { now, estimate } = plan;
  const nowIso = now.toISOString();
  const reserve = (slotId: string) => sql`
    UPDATE slots SET reserved = reserved + 1, updated_at = ${nowIso}::timestamptz
    WHERE id = ${slotId}::uuid AND EXISTS (SELECT 1 FROM idem)
      AND NOT closed AND reserved < capacity
      AND starts_at - make_interval(mins => cutoff_minutes) > ${nowIso}::timestamptz
    RETURNING id`;
  let rows: Array<z.infer<typeof CreatedRow>>;
  try {
    rows = await deps.database.rows(CreatedRow, sql`
      WITH ${w.verify ? sql`chk AS (${staleRows(userId, input, ctx)}),
      prior AS (
        SELECT json_build_object('fingerprint', k.fingerprint, 'statusCode', k.status_code, 'response', k.response) AS answer
        FROM idempotency_keys k WHERE k.user_id = ${userId}::uuid AND k.key = ${key}
      ),` : sql``}
      idem AS (
        INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, order_id, created_at)
        SELECT ${userId}::uuid, ${key}, ${fingerprint}, 201, ${JSON.stringify(body)}::json, ${orderId}::uuid, ${nowIso}::timestamptz
        ${w.verify ? sql`WHERE cardinality((SELECT stale FROM chk)) = 0` : sql``}
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING 1
      ),
      pickup AS (${reserve(plan.pickup.id)}),
      delivery AS (${reserve(plan.delivery.id)}),
      ${redeem(userId, plan, nowIso)}
      ord AS (
        INSERT INTO orders (id, user_id, status, payment_method, zone_id, address_id, address, pickup_slot_id, delivery_slot_id,
                            express, notes, currency, estimate, estimated_total, pricing_rules, promo_code_id, discount_amount, credit_applied,
                            created_at, updated_at)
        SELECT ${orderId}::uuid, ${userId}::uuid, ${status}::order_status, ${input.paymentMethod}::payment_method, ${plan.zone.id}::uuid,
               ${input.addressId}::uuid, ${JSON.stringify(plan.address)}::jsonb, ${plan.pickup.id}::uuid, ${plan.delivery.id}::uuid,
               ${input.express}, ${input.notes ?? null}, ${estimate.currency}, ${JSON.stringify(estimate)}::jsonb, ${estimate.total}::int,
               ${JSON.stringify(plan.rules)}::jsonb, ${order.promoCodeId}::uuid, ${order.discountAmount}::int, ${order.creditApplied}::int,
               ${nowIso}::timestamptz, ${nowIso}::timestamptz
        WHERE EXISTS (SELECT 1 FROM idem)
        RETURNING id
      ),
      lines AS (
        INSERT INTO order_lines (order_id, position, service_id, service_name, pricing_model, unit_price, express_surcharge_bps,
                                 quantity, estimated_weight_grams, add_ons, estimated_total)
        SELECT ord.id, l.position, l.service_id, l.service_name, l.pricing_model::pricing_model, l.unit_price, l.express_surcharge_bps,
               l.quantity, l.estimated_weight_grams, l.add_ons, l.estimated_total
        FROM ord, jsonb_to_recordset(${JSON.stringify(lineRows.map(toLineRecord))}::jsonb) AS l(
          position int, service_id uuid, service_name text, pricing_model text, unit_price int, express_surcharge_bps int,
          quantity int, estimated_weight_grams int, add_ons jsonb, estimated_total int)
      ),
      ev AS (
        INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, to_status, note)
        SELECT ord.id, ${nowIso}::timestamptz, 'customer', ${userId}::uuid, 'created', ${status}::order_status, ${input.notes ?? null}
        FROM ord
      )${creditSpent(userId, plan, nowIso)}
      SELECT (SELECT count(*) FROM idem)::int AS claimed,
             CASE
               WHEN NOT EXISTS (SELECT 1 FROM idem) THEN 0
               WHEN NOT EXISTS (SELECT 1 FROM pickup) THEN laundry_abort('slot_unavailable:pickup:' || ${whyNot(plan.pickup.id, nowIso)})
               WHEN NOT EXISTS (SELECT 1 FROM delivery) THEN laundry_abort('slot_unavailable:delivery:' || ${whyNot(plan.delivery.id, nowIso)})
               ${redemptionRefusals(userId, plan)}
               ELSE 1
             END AS ok,
             ${w.verify ? sql`(SELECT stale FROM chk) AS stale, (SELECT answer FROM prior) AS prior` : sql`NULL::text[] AS stale, NULL::json AS prior`}`);
  } catch (err) {
    const info = pgError(err);
    // The database's own message (pgError), never drizzle's wrapper, whose message quotes the whole statement and so names both slots.
    if (info?.code === 'P0001' && info.message === 'credit_changed') return undefined;
    if (info?.code === 'P0001') throwPromoRefusal(info.message, plan);
    const reason = info?.code === 'P0001' ? /^slot_unavailable:(pickup|delivery):(\w+)$/.exec(info.message) : null;
    if (reason) {
      const which = reason[1]!;
      throw new ApiError('slot_unavailable', `The ${which} slot cannot be booked: ${reason[2]}`, {
        details: { slot: which, slotId: which === 'pickup' ? plan.pickup.id : plan.delivery.id, reason: reason[2] },
      });
    }
    throw err;
  }
  const row = rows[0];
  if (row?.claimed === 1) {
    deps.metrics.orderCreated({ paymentMethod: input.paymentMethod });
    if (input.useCredit) deps.orderInputs.putCreditBalance(userId, ctx.creditBalance - order.creditApplied);
    return { status: 201, body, created: true };
  }
  if (row?.prior) return replay(deps, row.prior, fingerprint);
  if (row?.stale && row.stale.length > 0) {
    deps.logger.debug('order inputs changed since they were remembered; reading them afresh', { stale: row.stale.join(',') });
    return undefined;
  }
  // Another request with this key won the race; answer exactly as it did.
  const [stored] = await deps.database.db
    .select({ fingerprint: idempotencyKeys.fingerprint, statusCode: idempotencyKeys.statusCode, response: idempotencyKeys.response })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
  if (!stored) throw new ApiError('conflict', 'A concurrent request with this Idempotency-Key failed; retry.');
  return replay(deps, stored, fingerprint);
}

/** Why a slot cannot be reserved, as `slotAvailability` names it (read in the statement's snapshot: a slot taken by a concurrent order reads as full). */
function whyNot(slotId: string, nowIso: string) {
  return sql`coalesce((SELECT CASE WHEN s.closed THEN 'closed'
      WHEN s.starts_at - make_interval(mins => s.cutoff_minutes) <= ${nowIso}::timestamptz THEN 'past_cutoff' ELSE 'full' END
    FROM slots s WHERE s.id = ${slotId}::uuid), 'full')`;
}


/**
 * The first call's answer, exactly as it was stored: a retry must get what the first call got, even
 * when a release in between changed OrderSchema (keys live a day, across rolling deploys). It was
 * stored from an OrderDto; a stored answer the current schema no longer accepts is logged, not refused.
 */
function replay(deps: Deps, stored: StoredAnswer, fingerprint: string): CreateOrderResult {
  if (stored.fingerprint !== fingerprint) {
    throw new ApiError(
      'idempotency_key_reused',
      'This Idempotency-Key was used for a different request. Use a new key for a new order.',
    );
  }
  const checked = OrderSchema.safeParse(stored.response);
  if (!checked.success) deps.logger.warn('replaying a stored order that OrderSchema no longer accepts', { error: checked.error.message });
  return { status: stored.statusCode, body: stored.response as OrderDto, created: false };
}
