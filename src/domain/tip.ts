/**
 * Tips after delivery (issue 19): how much a tip is, and the bounds it must keep. Pure, no I/O.
 *
 * - The base is the order's final total (the weighed price; a delivered order always has one),
 *   in minor units.
 * - Presets: 10, 15 or 20 % of the base, rounded half up to a whole minor unit, then down to the
 *   currency's step (a multiple of 10 in the three-decimal currencies: Stripe requires it,
 *   https://docs.stripe.com/currencies#three-decimal).
 * - Bounds: at least one major unit of the currency (100 cents, 1 yen, 1000 fils), and never
 *   below Stripe's minimum charge (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
 *   at most half the base (rounded down to the step). An order too small for both has no tip.
 *   An amount that is not a multiple of the step is refused too. All of these are 422
 *   `invalid_tip_amount` with `details: {min, max, step}`.
 */
import { currencyRules, minimumCharge, toChargeableAmount } from './currency.js';
import { DomainError } from './errors.js';

export const TIP_PRESETS = [10, 15, 20] as const;
export type TipPreset = (typeof TIP_PRESETS)[number];

/** A tip asked for: a preset percentage of the final total, or an amount in minor units. */
export type TipRequest = { percent: TipPreset } | { amount: number };

/** The largest share of the final total a tip may be, in basis points (50 %). */
export const TIP_MAX_SHARE_BPS = 5_000;

export interface TipBounds {
  min: number;
  max: number;
  step: number;
}

/** The smallest and largest tip on an order of `base` minor units in `currency`. */
export function tipBounds(base: number, currency: string): TipBounds {
  const rules = currencyRules(currency);
  const step = rules?.step ?? 1;
  const oneUnit = 10 ** (rules?.exponent ?? 2);
  const min = Math.max(oneUnit, minimumCharge(currency) ?? 0);
  const half = Math.floor((Math.max(0, base) * TIP_MAX_SHARE_BPS) / 10_000);
  return { min, max: half - (half % step), step };
}

/** A preset's amount: `percent` % of `base`, half up to a minor unit, then down to the currency's step. */
export function presetAmount(base: number, percent: TipPreset, currency: string): number {
  const exact = Math.floor((base * percent + 50) / 100);
  return currencyRules(currency) ? toChargeableAmount(currency, exact) : exact;
}

/**
 * The tip's amount in minor units for `request` on an order of `base` in `currency`, checked
 * against the bounds. Throws DomainError `invalid_tip_amount` (422) outside them.
 */
export function tipAmount(base: number, currency: string, request: TipRequest): number {
  const bounds = tipBounds(base, currency);
  const amount = 'percent' in request ? presetAmount(base, request.percent, currency) : request.amount;
  const details = { ...bounds, amount, currency: currency.toUpperCase() };
  if (bounds.max < bounds.min) {
    throw new DomainError('invalid_tip_amount', `This order (${base}) is too small for a tip: half of it is below the smallest tip (${bounds.min})`, details);
  }
  if (!Number.isSafeInteger(amount) || amount < bounds.min || amount > bounds.max) {
    throw new DomainError('invalid_tip_amount', `A tip on this order must be between ${bounds.min} and ${bounds.max} (minor units)`, details);
  }
  if (amount % bounds.step !== 0) {
    throw new DomainError('invalid_tip_amount', `A tip in ${currency.toUpperCase()} must be a multiple of ${bounds.step} (minor units)`, details);
  }
  return amount;
}
