/**
 * The order's business rules in code, on the rows it names (read afresh or remembered): the
 * address's zone (the most specific covering prefix the viewer may see), the services and add-ons
 * on offer, the slot pair (kinds, zone, turnaround, bookability) and the price. Pure: it reads
 * nothing and writes nothing; src/modules/orders/create.ts writes what it returns.
 */
import { priceOrder, storableBreakdown, turnaroundHours, type LineInput } from '../../domain/pricing.js';
import { checkSlotPair, matchZone, normalizePostcode, type SlotState } from '../../domain/slots.js';
import type { AddressSnapshot } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { OrderContext } from './create-context.js';
import type { CreateOrderInput } from './schemas.js';

function bodyFieldError(field: string, message: string): ApiError {
  return new ApiError('validation_failed', `${field}: ${message}`, [{ field, message }]);
}

/**
 * Applies every business rule to the request and the rows it names. Throws ApiError
 * (404 `not_found`, 422 `postcode_not_served` / `validation_failed`) or DomainError (slot pair
 * and bookability: `slot_kind_mismatch`, `slot_zone_mismatch`, `delivery_too_early`, 409 `slot_unavailable`).
 */
export function planOrder(deps: Deps, input: CreateOrderInput, ctx: OrderContext) {
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

export type OrderPlan = ReturnType<typeof planOrder>;
