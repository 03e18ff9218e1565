import type { OrderStatus } from '../../domain/order-status.js';
import type { OrderContext } from './create-context.js';
import type { OrderPlan } from './plan.js';
import { toOrderDto } from './shared.js';
import type { CreateOrderInput, OrderDto } from './schemas.js';

/**
 * The rows a new order is written as, built in code from its plan (src/modules/orders/plan.ts)
 * before the one write statement (src/modules/orders/create.ts) sends them: the `orders` row, its
 * `order_lines` (priced: minor units, grams), its first timeline entry, and the answer the API
 * gives for it (OrderSchema), which is also what the idempotency key stores for replays.
 *
 * A card order starts `pending_payment` (confirmed when its PaymentIntent is authorised), a
 * pay-on-delivery order `confirmed`. The id is a fresh UUID (v4) chosen here, so the answer can be
 * built before the write.
 */
export function newOrderRows(userId: string, input: CreateOrderInput, ctx: OrderContext, plan: OrderPlan) {
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
    notify: null,
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
    promoCodeId: plan.promo?.id ?? null,
    discountAmount: estimate.discount?.amount ?? 0,
    creditApplied: estimate.creditApplied ?? 0,
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
    creditEntries: [],
  });

  return { orderId, status, lineRows, event, order, body };
}

/** An `order_lines` row as the statement's `jsonb_to_recordset` reads it (snake_case columns). */
export function toLineRecord(l: {
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
