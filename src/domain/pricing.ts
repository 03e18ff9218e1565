import { chargeableOrAsIs } from './currency.js';
import { DomainError } from './errors.js';

export type PricingModel = 'per_kg' | 'per_item';

export interface PricedService {
  id: string;
  pricingModel: PricingModel;
  /** Minor units per kg (per_kg) or per item (per_item). */
  unitPrice: number;
  currency: string;
  turnaroundHours: number;
  /** Basis points on the line's base + add-ons; null = the service has no express option. */
  expressSurchargeBps: number | null;
  /** Null with a non-null surcharge = express costs more but is not faster. */
  expressTurnaroundHours: number | null;
}

export interface PricedAddOn {
  id: string;
  serviceId: string;
  /** Flat per line, minor units. */
  price: number;
}

export interface LineInput {
  service: PricedService;
  /** per_item only: whole items. */
  quantity?: number;
  /** per_kg only: integer grams. */
  weightGrams?: number;
  addOns: PricedAddOn[];
}

export interface PricingRules {
  /** A subtotal below this is topped up by a fee equal to the shortfall. */
  minimumOrder: number;
  deliveryFee: number;
  /** A subtotal at or above this pays no delivery fee; null = never waived. */
  freeDeliveryFrom: number | null;
  currency: string;
}

export interface PricedLine {
  serviceId: string;
  pricingModel: PricingModel;
  unitPrice: number;
  quantity: number | null;
  weightGrams: number | null;
  baseAmount: number;
  addOnIds: string[];
  addOnsAmount: number;
  expressSurcharge: number;
  lineTotal: number;
}

export interface PriceBreakdown {
  currency: string;
  lines: PricedLine[];
  /** Sum of line totals, express surcharges included. */
  subtotal: number;
  /** Already inside the line totals; repeated here only for display. */
  expressSurcharge: number;
  minimumOrderFee: number;
  deliveryFee: number;
  /**
   * Taken off the sum so that the total is an amount Stripe accepts (three-decimal
   * currencies: a multiple of 10; see ./currency.ts). Present only when not zero.
   */
  roundingAdjustment?: number;
  total: number;
}

export const MAX_ITEMS_PER_LINE = 1_000_000;
export const MAX_GRAMS_PER_LINE = 1_000_000;

const GRAMS_PER_KG = 1000n;
const BPS_DENOMINATOR = 10_000n;

/**
 * Rounds numerator/denominator half up. Inputs are non-negative, so "half up" and "half away
 * from zero" agree; BigInt keeps the intermediate product exact past 2^53.
 */
function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

function toSafeAmount(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DomainError('amount_overflow', `${what} is too large to represent exactly`, { what });
  }
  return Number(value);
}

function requireMoney(value: unknown, what: string): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DomainError('invalid_price_config', `${what} must be a non-negative safe integer`, {
      what,
      value,
    });
  }
  return BigInt(value);
}

function requireCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

function invalidQuantity(lineIndex: number, reason: string): DomainError {
  return new DomainError('invalid_quantity', `Line ${lineIndex}: ${reason}`, { lineIndex, reason });
}

function measureLine(line: LineInput, lineIndex: number): { units: bigint; divisor: bigint } {
  const hasQuantity = line.quantity !== undefined && line.quantity !== null;
  const hasWeight = line.weightGrams !== undefined && line.weightGrams !== null;
  if (hasQuantity && hasWeight) {
    throw invalidQuantity(lineIndex, 'give either quantity or weightGrams, not both');
  }
  if (line.service.pricingModel === 'per_kg') {
    if (!hasWeight) throw invalidQuantity(lineIndex, 'per_kg service needs weightGrams');
    if (!requireCount(line.weightGrams, MAX_GRAMS_PER_LINE)) {
      throw invalidQuantity(lineIndex, `weightGrams must be an integer 1..${MAX_GRAMS_PER_LINE}`);
    }
    return { units: BigInt(line.weightGrams), divisor: GRAMS_PER_KG };
  }
  if (!hasQuantity) throw invalidQuantity(lineIndex, 'per_item service needs quantity');
  if (!requireCount(line.quantity, MAX_ITEMS_PER_LINE)) {
    throw invalidQuantity(lineIndex, `quantity must be an integer 1..${MAX_ITEMS_PER_LINE}`);
  }
  return { units: BigInt(line.quantity), divisor: 1n };
}

function sumAddOns(line: LineInput, lineIndex: number): bigint {
  const seen = new Set<string>();
  let total = 0n;
  for (const addOn of line.addOns) {
    if (addOn.serviceId !== line.service.id) {
      const message = `Line ${lineIndex}: add-on ${addOn.id} does not belong to service ${line.service.id}`;
      throw new DomainError('invalid_add_on', message, {
        lineIndex,
        addOnId: addOn.id,
        reason: 'wrong_service',
      });
    }
    if (seen.has(addOn.id)) {
      throw new DomainError('invalid_add_on', `Line ${lineIndex}: add-on ${addOn.id} is listed twice`, {
        lineIndex,
        addOnId: addOn.id,
        reason: 'duplicate',
      });
    }
    seen.add(addOn.id);
    total += requireMoney(addOn.price, `add-on ${addOn.id} price`);
  }
  return total;
}

function expressUnavailable(serviceId: string): DomainError {
  return new DomainError('express_unavailable', `Service ${serviceId} has no express option`, {
    serviceId,
  });
}

function priceLine(
  line: LineInput,
  lineIndex: number,
  express: boolean,
  rules: PricingRules,
): { priced: PricedLine; total: bigint; surcharge: bigint } {
  const { service } = line;
  if (service.currency !== rules.currency) {
    const message = `Service ${service.id} is priced in ${service.currency}, the shop in ${rules.currency}`;
    throw new DomainError('currency_mismatch', message, {
      lineIndex,
      serviceId: service.id,
      serviceCurrency: service.currency,
      currency: rules.currency,
    });
  }
  const unitPrice = requireMoney(service.unitPrice, `service ${service.id} unitPrice`);
  const { units, divisor } = measureLine(line, lineIndex);
  const base = divideRoundHalfUp(unitPrice * units, divisor);
  const addOns = sumAddOns(line, lineIndex);

  let surcharge = 0n;
  if (express) {
    if (service.expressSurchargeBps === null) throw expressUnavailable(service.id);
    const bps = requireMoney(service.expressSurchargeBps, `service ${service.id} expressSurchargeBps`);
    surcharge = divideRoundHalfUp((base + addOns) * bps, BPS_DENOMINATOR);
  }
  const total = base + addOns + surcharge;
  const what = `line ${lineIndex}`;
  const priced: PricedLine = {
    serviceId: service.id,
    pricingModel: service.pricingModel,
    unitPrice: service.unitPrice,
    quantity: service.pricingModel === 'per_item' ? (line.quantity ?? null) : null,
    weightGrams: service.pricingModel === 'per_kg' ? (line.weightGrams ?? null) : null,
    baseAmount: toSafeAmount(base, `${what} base amount`),
    addOnIds: line.addOns.map((addOn) => addOn.id),
    addOnsAmount: toSafeAmount(addOns, `${what} add-ons`),
    expressSurcharge: toSafeAmount(surcharge, `${what} express surcharge`),
    lineTotal: toSafeAmount(total, `${what} total`),
  };
  return { priced, total, surcharge };
}

/**
 * Computes the server-side price of an order. Every amount is an integer in minor units;
 * anything that cannot be priced exactly is rejected rather than approximated. The total is
 * then made a valid Stripe amount: in a three-decimal currency it is rounded down to a
 * multiple of 10 (the customer's favour; `roundingAdjustment` says by how much), so the
 * hold, the capture and any overage computed from it are amounts Stripe accepts.
 */
export function priceOrder(
  lines: LineInput[],
  opts: { express: boolean },
  rules: PricingRules,
): PriceBreakdown {
  if (lines.length === 0) throw new DomainError('empty_order', 'An order needs at least one line');
  const minimumOrder = requireMoney(rules.minimumOrder, 'minimumOrder');
  const deliveryFee = requireMoney(rules.deliveryFee, 'deliveryFee');
  const freeDeliveryFrom =
    rules.freeDeliveryFrom === null ? null : requireMoney(rules.freeDeliveryFrom, 'freeDeliveryFrom');

  const pricedLines: PricedLine[] = [];
  let subtotal = 0n;
  let surchargeTotal = 0n;
  lines.forEach((line, index) => {
    const { priced, total, surcharge } = priceLine(line, index, opts.express, rules);
    pricedLines.push(priced);
    subtotal += total;
    surchargeTotal += surcharge;
  });

  const minimumOrderFee = subtotal < minimumOrder ? minimumOrder - subtotal : 0n;
  const effectiveDeliveryFee = freeDeliveryFrom !== null && subtotal >= freeDeliveryFrom ? 0n : deliveryFee;
  const sum = toSafeAmount(subtotal + minimumOrderFee + effectiveDeliveryFee, 'total');
  // The one place prices become chargeable: estimate and final total both come from here.
  const total = chargeableOrAsIs(rules.currency, sum);
  return {
    currency: rules.currency,
    lines: pricedLines,
    subtotal: toSafeAmount(subtotal, 'subtotal'),
    expressSurcharge: toSafeAmount(surchargeTotal, 'express surcharge'),
    minimumOrderFee: toSafeAmount(minimumOrderFee, 'minimum order fee'),
    deliveryFee: toSafeAmount(effectiveDeliveryFee, 'delivery fee'),
    ...(sum !== total ? { roundingAdjustment: sum - total } : {}),
    total,
  };
}

/**
 * The largest amount an order can be stored with: totals are PostgreSQL `integer` columns
 * (int4, 2^31 - 1 minor units). priceOrder is exact up to 2^53; this is the storage bound.
 */
export const MAX_STORED_AMOUNT = 2_147_483_647;

/** The breakdown, if every amount in it fits the order's columns; else 422 amount_overflow. */
export function storableBreakdown(breakdown: PriceBreakdown): PriceBreakdown {
  // Amounts are non-negative and the total is their sum, so bounding the total bounds them all.
  if (breakdown.total > MAX_STORED_AMOUNT) {
    throw new DomainError('amount_overflow', `The order total exceeds ${MAX_STORED_AMOUNT} minor units`, { what: 'total' });
  }
  return breakdown;
}

/** The order is ready only when its slowest line is, so the longest turnaround governs. */
export function turnaroundHours(lines: ReadonlyArray<Pick<LineInput, 'service'>>, express: boolean): number {
  if (lines.length === 0) throw new DomainError('empty_order', 'An order needs at least one line');
  let longest = 0;
  for (const { service } of lines) {
    let hours = service.turnaroundHours;
    if (express) {
      if (service.expressSurchargeBps === null) throw expressUnavailable(service.id);
      hours = service.expressTurnaroundHours ?? service.turnaroundHours;
    }
    if (!Number.isFinite(hours) || hours < 0) {
      throw new DomainError('invalid_price_config', `Service ${service.id} has an invalid turnaround`, {
        serviceId: service.id,
        hours,
      });
    }
    longest = Math.max(longest, hours);
  }
  return longest;
}
