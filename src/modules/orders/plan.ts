/**
 * The order's business rules in code, on the rows it names (read afresh or remembered): the
 * address's zone (the most specific covering prefix the viewer may see), the services and add-ons
 * on offer, the slot pair (kinds, zone, turnaround, bookability) and the price. Pure: it reads
 * nothing and writes nothing; src/modules/orders/create.ts writes what it returns.
 */
import { adjustBreakdown } from '../../domain/credit.js';
import { DomainError } from '../../domain/errors.js';
import { priceOrder, storableBreakdown, turnaroundHours, type LineInput } from '../../domain/pricing.js';
import { checkPromo, type AdjustedPricingRules, type AppliedPromo, type PromoDefinition } from '../../domain/promo.js';
import { checkSlotPair, matchZone, normalizePostcode, type SlotState } from '../../domain/slots.js';
import type { AddressSnapshot } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { promoCodeOf, type OrderContext } from './create-context.js';
import type { CreateOrderInput } from './schemas.js';

function bodyFieldError(field: string, message: string): ApiError {
  return new ApiError('validation_failed', `${field}: ${message}`, [{ field, message }]);
}

/**
 * Applies every business rule to the request and the rows it names. Throws ApiError
 * (404 `not_found`, 422 `postcode_not_served` / `validation_failed`) or DomainError (slot pair
 * and bookability: `slot_kind_mismatch`, `slot_zone_mismatch`, `delivery_too_early`, 409 `slot_unavailable`;
 * the promo code's own rules: 422 `promo_code_unknown`, `promo_code_inactive`, `promo_code_not_yet_valid`,
 * `promo_code_expired`, `promo_code_minimum_not_met` (also when the zone minimum leaves nothing to take off), `currency_mismatch`). The code's counted limits
 * (total, per customer, first order) are the write statement's (src/modules/orders/create.ts).
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
  const gross = storableBreakdown(priceOrder(lines, { express: input.express }, rules));
  const promo = promoFor(input, ctx, { now, currency: rules.currency, subtotal: gross.subtotal });
  const applied: AppliedPromo | undefined = promo && { code: promo.code, kind: promo.kind, value: promo.value };
  const estimate = adjustBreakdown(gross, {
    ...(applied ? { promo: applied } : {}),
    minimumOrder: rules.minimumOrder,
    credit: ctx.creditBalance,
    paymentMethod: input.paymentMethod,
  });
  // A code that would take nothing off (the order is at the zone's minimum) is refused, so no redemption is spent on it.
  if (applied && estimate.discount?.amount === 0) {
    throw new DomainError('promo_code_minimum_not_met', `The code ${applied.code} takes nothing off an order at the zone's minimum order of ${rules.minimumOrder}.`, {
      promoCode: applied.code,
      zoneMinimumOrder: rules.minimumOrder,
      subtotal: gross.subtotal,
    });
  }
  const storedRules: AdjustedPricingRules = {
    ...rules,
    ...(applied ? { promo: applied } : {}),
    ...(estimate.creditApplied ? { creditApplied: estimate.creditApplied } : {}),
  };
  const address: AddressSnapshot = {
    label: ctx.address.label,
    line1: ctx.address.line1,
    line2: ctx.address.line2,
    city: ctx.address.city,
    postcode,
    instructions: ctx.address.instructions,
  };
  return { zone, pickup, delivery, lines, estimate, rules: storedRules, address, now, promo };
}

/** The named code's definition once its own rules pass (undefined when the order names none). */
function promoFor(input: CreateOrderInput, ctx: OrderContext, order: { now: Date; currency: string; subtotal: number }): PromoDefinition | undefined {
  const code = promoCodeOf(input);
  if (code === undefined) return undefined;
  if (!ctx.promo || ctx.promo.code !== code) {
    throw new DomainError('promo_code_unknown', 'No such promo code.', { promoCode: input.promoCode });
  }
  checkPromo(ctx.promo, order);
  return ctx.promo;
}

export type OrderPlan = ReturnType<typeof planOrder>;
