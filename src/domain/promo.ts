/**
 * Promo codes: the pure rules (issue 19). The server alone computes a discount; these functions
 * read nothing and write nothing. The counted limits (total redemptions, per customer, first
 * order) are decided by the order's one write statement (src/modules/orders/create.ts), because
 * only the database sees concurrent orders.
 *
 * The discount rule, in order:
 * 1. It is taken off the order **subtotal** (the lines, express surcharges included). The
 *    delivery fee, free delivery and the minimum-order fee are decided on the undiscounted
 *    subtotal, as before: a code never makes a customer pay a fee they would not have paid.
 * 2. `percent`: subtotal × bps / 10 000, rounded **half up** to the minor unit (as the express
 *    surcharge is, src/domain/pricing.ts). `amount`: the code's value, in the shop's currency.
 * 3. Never more than `subtotal + minimumOrderFee − minimumOrder` (0 when negative): the goods
 *    part of the payable total never falls below the zone's minimum order. With no minimum
 *    order, a code can make the subtotal free, never negative.
 * 4. Rounded **down** to the currency's Stripe step (10 in three-decimal currencies, 100 in ISK;
 *    src/domain/currency.ts), so the discounted total is still an amount Stripe accepts.
 */
import { currencyRules } from './currency.js';
import { DomainError } from './errors.js';
import type { PriceBreakdown, PricingRules } from './pricing.js';

export const PROMO_CODE_PATTERN = /^[A-Z0-9-]{3,32}$/;

/** A code as customers type it, normalised: trimmed and upper case; undefined when it cannot be a code. */
export function normalizePromoCode(raw: string): string | undefined {
  const code = raw.trim().toUpperCase();
  return PROMO_CODE_PATTERN.test(code) ? code : undefined;
}

export type PromoKind = 'percent' | 'amount';

/** A promo code's definition as orders are priced on it (the counters live in the database only). */
export interface PromoDefinition {
  id: string;
  code: string;
  kind: PromoKind;
  /** `percent`: basis points 1..10000. `amount`: minor units of `currency`. */
  value: number;
  currency: string | null;
  minimumSubtotal: number | null;
  /** ISO 8601 instants, or null for an open end. */
  validFrom: string | null;
  validUntil: string | null;
  maxRedemptions: number | null;
  perCustomerLimit: number;
  firstOrderOnly: boolean;
  active: boolean;
}

/** What the order remembers of its code, so the weigh-in takes the same discount off the final price. */
export interface AppliedPromo {
  code: string;
  kind: PromoKind;
  value: number;
}

/** The pricing rules an order is stored with (orders.pricing_rules), with what was taken off. */
export interface AdjustedPricingRules extends PricingRules {
  promo?: AppliedPromo;
  /** Minor units of account credit spent on the order at creation. */
  creditApplied?: number;
}

function refuse(code: 'promo_code_inactive' | 'promo_code_not_yet_valid' | 'promo_code_expired' | 'promo_code_minimum_not_met', message: string, details: Record<string, unknown>): never {
  throw new DomainError(code, message, details);
}

/**
 * The rules a code's definition alone decides, for an order of `subtotal` in `currency` at `now`.
 * Throws DomainError: 422 `promo_code_inactive`, `promo_code_not_yet_valid` (before `validFrom`),
 * `promo_code_expired` (at or after `validUntil`), `promo_code_minimum_not_met`, or
 * `currency_mismatch` (an amount code in another currency).
 */
export function checkPromo(promo: PromoDefinition, order: { now: Date; currency: string; subtotal: number }): void {
  const details = { promoCode: promo.code };
  if (!promo.active) refuse('promo_code_inactive', `The code ${promo.code} is no longer offered.`, details);
  if (promo.validFrom !== null && order.now.getTime() < Date.parse(promo.validFrom)) {
    refuse('promo_code_not_yet_valid', `The code ${promo.code} is valid from ${promo.validFrom}.`, { ...details, validFrom: promo.validFrom });
  }
  if (promo.validUntil !== null && order.now.getTime() >= Date.parse(promo.validUntil)) {
    refuse('promo_code_expired', `The code ${promo.code} expired at ${promo.validUntil}.`, { ...details, validUntil: promo.validUntil });
  }
  if (promo.kind === 'amount' && promo.currency !== order.currency) {
    throw new DomainError('currency_mismatch', `The code ${promo.code} is in ${promo.currency}, the shop in ${order.currency}.`, details);
  }
  if (promo.minimumSubtotal !== null && order.subtotal < promo.minimumSubtotal) {
    refuse('promo_code_minimum_not_met', `The code ${promo.code} needs a subtotal of at least ${promo.minimumSubtotal}.`, {
      ...details,
      minimumSubtotal: promo.minimumSubtotal,
      subtotal: order.subtotal,
    });
  }
}

/** Half up, exact past 2^53 (inputs are non-negative). */
function percentOf(amount: number, bps: number): number {
  return Number((BigInt(amount) * BigInt(bps) * 2n + 10_000n) / 20_000n);
}

/** Rounds down to the currency's Stripe step (1 when the currency has no rules). */
export function floorToStep(currency: string, amount: number): number {
  const step = currencyRules(currency)?.step ?? 1;
  return amount - (amount % step);
}

/** The discount, in minor units, that `promo` takes off `breakdown` under `minimumOrder` (rules 1–4 above). */
export function discountFor(promo: AppliedPromo, breakdown: Pick<PriceBreakdown, 'currency' | 'subtotal' | 'minimumOrderFee'>, minimumOrder: number): number {
  const raw = promo.kind === 'percent' ? percentOf(breakdown.subtotal, promo.value) : promo.value;
  const room = Math.max(0, breakdown.subtotal + breakdown.minimumOrderFee - minimumOrder);
  return floorToStep(breakdown.currency, Math.min(raw, room, breakdown.subtotal));
}
