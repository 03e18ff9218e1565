import { z } from 'zod';
import { and, eq, sql } from 'drizzle-orm';
import { fingerprintRequest } from '../../domain/idempotency.js';
import type { OrderStatus } from '../../domain/order-status.js';
import { priceOrder, storableBreakdown, turnaroundHours, type LineInput } from '../../domain/pricing.js';
import { checkSlotPair, matchZone, normalizePostcode, type SlotState } from '../../domain/slots.js';
import { pgError } from '../../db/errors.js';
import { idempotencyKeys, type AddressSnapshot } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { readContext, type OrderContext } from './create-context.js';
import { toOrderDto } from './shared.js';
import { OrderSchema, type CreateOrderInput, type OrderDto } from './schemas.js';

/** The create statement's answer: whether this call claimed the key, and whether every step held. */
const CreatedRow = z.object({ claimed: z.number(), ok: z.number() });

export interface CreateOrderResult {
  status: number;
  /** The order as created, or exactly as the first call with this key answered. */
  body: OrderDto;
  /** True when this call created the order; false for a replay of an earlier one. */
  created: boolean;
}


function bodyFieldError(field: string, message: string): ApiError {
  return new ApiError('validation_failed', `${field}: ${message}`, [{ field, message }]);
}

/** Applies every business rule to the request and the rows it names; pure. */
function planOrder(deps: Deps, input: CreateOrderInput, ctx: OrderContext) {
  // Another customer's address reads exactly like a missing one.
  if (!ctx.address) throw new ApiError('not_found', 'No such address.');
  const postcode = normalizePostcode(ctx.address.postcode);
  const match = matchZone(postcode, ctx.zoneRows, ctx.viewer);
  const zone = match && ctx.zoneRows.find((z) => z.id === match.zoneId);
  if (!zone) throw new ApiError('postcode_not_served', `We do not serve ${postcode} yet.`);

  const slotState = (id: string, field: string): SlotState => {
    const s = ctx.slotRows.find((r) => r.id === id);
    if (!s) throw bodyFieldError(field, 'no such slot');
    return { ...s, reserved: s.reserved };
  };
  const pickup = slotState(input.pickupSlotId, 'body.pickupSlotId');
  const delivery = slotState(input.deliverySlotId, 'body.deliverySlotId');

  const lines: LineInput[] = input.items.map((item, i) => {
    const service = ctx.serviceRows.find((s) => s.id === item.serviceId);
    if (!service || !service.active) throw bodyFieldError(`body.items.${i}.serviceId`, 'this service is not offered');
    const addOns = item.addOnIds.map((id) => {
      const a = service.addOns.find((x) => x.id === id && x.active);
      if (!a) throw bodyFieldError(`body.items.${i}.addOnIds`, `add-on ${id} is not offered with this service`);
      return { id: a.id, serviceId: a.serviceId, price: a.price };
    });
    return {
      service,
      ...(item.quantity !== undefined ? { quantity: item.quantity } : {}),
      ...(item.estimatedWeightGrams !== undefined ? { weightGrams: item.estimatedWeightGrams } : {}),
      addOns,
    };
  });

  const now = deps.clock.now();
  checkSlotPair({ pickup, delivery, zoneId: zone.id, turnaroundHours: turnaroundHours(lines, input.express), now });
  const rules = {
    minimumOrder: zone.minimumOrder,
    deliveryFee: zone.deliveryFee,
    freeDeliveryFrom: zone.freeDeliveryFrom,
    currency: deps.config.currency,
  };
  const estimate = storableBreakdown(priceOrder(lines, { express: input.express }, rules));
  const address: AddressSnapshot = {
    label: ctx.address.label,
    line1: ctx.address.line1,
    line2: ctx.address.line2,
    city: ctx.address.city,
    postcode,
    instructions: ctx.address.instructions,
  };
  return { zone, pickup, delivery, lines, estimate, rules, address, now };
}

/**
 * Creates an order: one read (batch), the pure rules, then ONE statement that claims the
 * idempotency key, reserves a unit in both slots, and writes the order, its lines and the
 * first timeline entry. If either slot cannot be reserved the statement aborts itself, so
 * nothing is written. Concurrent calls with one key serialize on the key's primary key:
 * exactly one creates, the others replay its stored response.
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
  const ctx = await readContext(deps, userId, key, input);
  if (ctx.idem) return replay(deps, ctx.idem, fingerprint);

  const plan = planOrder(deps, input, ctx);
  const orderId = crypto.randomUUID();
  const status: OrderStatus = input.paymentMethod === 'card' ? 'pending_payment' : 'confirmed';
  const { now, estimate } = plan;
  const lineRows = plan.lines.map((l, i) => {
    const priced = estimate.lines[i]!;
    const service = ctx.serviceRows.find((s) => s.id === l.service.id)!;
    return {
      orderId,
      position: i,
      serviceId: service.id,
      serviceName: service.name,
      pricingModel: service.pricingModel,
      unitPrice: service.unitPrice,
      expressSurchargeBps: input.express ? service.expressSurchargeBps : null,
      quantity: priced.quantity,
      estimatedWeightGrams: priced.weightGrams,
      finalQuantity: null,
      finalWeightGrams: null,
      addOns: l.addOns.map((a) => ({ id: a.id, name: service.addOns.find((x) => x.id === a.id)!.name, price: a.price })),
      estimatedTotal: priced.lineTotal,
      finalTotal: null,
    };
  });
  const event = {
    id: 0,
    orderId,
    at: now,
    actorRole: 'customer' as const,
    actorUserId: userId,
    type: 'created',
    fromStatus: null,
    toStatus: status,
    note: input.notes ?? null,
    evidence: null,
  };
  const order = {
    id: orderId,
    userId,
    status,
    paymentMethod: input.paymentMethod,
    zoneId: plan.zone.id,
    addressId: input.addressId,
    address: plan.address,
    pickupSlotId: plan.pickup.id,
    deliverySlotId: plan.delivery.id,
    express: input.express,
    notes: input.notes ?? null,
    currency: estimate.currency,
    estimate,
    estimatedTotal: estimate.total,
    pricingRules: plan.rules,
    finalBreakdown: null,
    finalTotal: null,
    weighedAt: null,
    bagCount: null,
    cancelledAt: null,
    flags: [] as string[],
    flaggedReason: null,
    overageApprovalRequired: false,
    overageApprovedAt: null,
    createdAt: now,
    updatedAt: now,
  } as const;
  const body: OrderDto = toOrderDto({
    ...order,
    lines: lineRows.map((l) => ({ ...l, id: '' })),
    events: [event],
    pickupSlot: plan.pickup,
    deliverySlot: plan.delivery,
    // A new order has no money recorded yet: its balance is the estimate, all outstanding.
    payments: [],
    waivers: [],
  });

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
      WITH idem AS (
        INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, order_id, created_at)
        VALUES (${userId}::uuid, ${key}, ${fingerprint}, 201, ${JSON.stringify(body)}::json, ${orderId}::uuid, ${nowIso}::timestamptz)
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING 1
      ),
      pickup AS (${reserve(plan.pickup.id)}),
      delivery AS (${reserve(plan.delivery.id)}),
      ord AS (
        INSERT INTO orders (id, user_id, status, payment_method, zone_id, address_id, address, pickup_slot_id, delivery_slot_id,
                            express, notes, currency, estimate, estimated_total, pricing_rules, created_at, updated_at)
        SELECT ${orderId}::uuid, ${userId}::uuid, ${status}::order_status, ${input.paymentMethod}::payment_method, ${plan.zone.id}::uuid,
               ${input.addressId}::uuid, ${JSON.stringify(plan.address)}::jsonb, ${plan.pickup.id}::uuid, ${plan.delivery.id}::uuid,
               ${input.express}, ${input.notes ?? null}, ${estimate.currency}, ${JSON.stringify(estimate)}::jsonb, ${estimate.total}::int,
               ${JSON.stringify(plan.rules)}::jsonb, ${nowIso}::timestamptz, ${nowIso}::timestamptz
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
      )
      SELECT (SELECT count(*) FROM idem)::int AS claimed,
             CASE
               WHEN NOT EXISTS (SELECT 1 FROM idem) THEN 0
               WHEN NOT EXISTS (SELECT 1 FROM pickup) THEN laundry_abort('slot_unavailable:pickup')
               WHEN NOT EXISTS (SELECT 1 FROM delivery) THEN laundry_abort('slot_unavailable:delivery')
               ELSE 1
             END AS ok`);
  } catch (err) {
    const info = pgError(err);
    const reason = info?.code === 'P0001' ? /slot_unavailable:(pickup|delivery)/.exec(String((err as Error).message) + String((err as { cause?: Error }).cause?.message)) : null;
    if (reason) {
      throw new ApiError('slot_unavailable', `The ${reason[1]} slot was just taken or closed; pick another.`, { details: { slot: reason[1], slotId: reason[1] === 'pickup' ? plan.pickup.id : plan.delivery.id } });
    }
    throw err;
  }
  if (rows[0]?.claimed === 1) deps.metrics.orderCreated({ paymentMethod: input.paymentMethod });
  if (rows[0]?.claimed === 1) return { status: 201, body, created: true };
  // Another request with this key won the race; answer exactly as it did.
  const [stored] = await deps.database.db
    .select({ fingerprint: idempotencyKeys.fingerprint, statusCode: idempotencyKeys.statusCode, response: idempotencyKeys.response })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
  if (!stored) throw new ApiError('conflict', 'A concurrent request with this Idempotency-Key failed; retry.');
  return replay(deps, stored, fingerprint);
}

function toLineRecord(l: {
  position: number;
  serviceId: string;
  serviceName: string;
  pricingModel: string;
  unitPrice: number;
  expressSurchargeBps: number | null;
  quantity: number | null;
  estimatedWeightGrams: number | null;
  addOns: unknown;
  estimatedTotal: number;
}) {
  return {
    position: l.position,
    service_id: l.serviceId,
    service_name: l.serviceName,
    pricing_model: l.pricingModel,
    unit_price: l.unitPrice,
    express_surcharge_bps: l.expressSurchargeBps,
    quantity: l.quantity,
    estimated_weight_grams: l.estimatedWeightGrams,
    add_ons: l.addOns,
    estimated_total: l.estimatedTotal,
  };
}

/**
 * The first call's answer, exactly as it was stored: a retry must get what the first call got, even
 * when a release in between changed OrderSchema (keys live a day, across rolling deploys). It was
 * stored from an OrderDto; a stored answer the current schema no longer accepts is logged, not refused.
 */
function replay(deps: Deps, stored: { fingerprint: string; statusCode: number; response: unknown }, fingerprint: string): CreateOrderResult {
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
