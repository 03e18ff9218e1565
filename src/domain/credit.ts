/**
 * Account credit on an order (issue 19): how much of a customer's balance an order spends.
 * Pure; the balance itself is only ever changed by the statement that writes its ledger entry.
 *
 * Rule: credit is spent after the promo discount, on what the customer would otherwise pay, and
 * - never more than the balance, never more than that payable amount (so never below zero);
 * - rounded down to the currency's Stripe step, so the rest is still an amount Stripe accepts;
 * - on a **card** order it leaves at least Stripe's minimum charge for the currency on the card
 *   (the hold must be a chargeable amount, and the weigh-in may raise the price): an order of
 *   less than that spends no credit. A pay-on-delivery order may be paid by credit in full.
 */
import { minimumCharge } from './currency.js';
import { discountFor, floorToStep, type AdjustedPricingRules, type AppliedPromo } from './promo.js';
import type { PriceBreakdown } from './pricing.js';

export function creditToApply(available: number, payable: number, order: { currency: string; paymentMethod: 'card' | 'on_delivery' }): number {
  if (available <= 0 || payable <= 0) return 0;
  const keepOnCard = order.paymentMethod === 'card' ? (minimumCharge(order.currency) ?? 0) : 0;
  const room = Math.max(0, payable - keepOnCard);
  return floorToStep(order.currency, Math.min(available, room));
}

/** The breakdown with its discount line and credit, `total` being what the card or the door pays. */
export interface AdjustedBreakdown extends PriceBreakdown {
  discount?: { code: string; amount: number };
  creditApplied?: number;
}

/**
 * Takes the promo discount (src/domain/promo.ts) and then the credit off `breakdown`. The lines,
 * subtotal and fees are unchanged; `total` is the rest to pay. `credit` is the balance available
 * (0 = none), or, at the weigh-in, the credit already spent at creation (never more).
 */
export function adjustBreakdown(
  breakdown: PriceBreakdown,
  opts: { promo?: AppliedPromo; minimumOrder: number; credit: number; paymentMethod: 'card' | 'on_delivery' },
): AdjustedBreakdown {
  const discount = opts.promo ? discountFor(opts.promo, breakdown, opts.minimumOrder) : 0;
  const afterDiscount = breakdown.total - discount;
  const credit = creditToApply(opts.credit, afterDiscount, { currency: breakdown.currency, paymentMethod: opts.paymentMethod });
  return {
    ...breakdown,
    ...(opts.promo ? { discount: { code: opts.promo.code, amount: discount } } : {}),
    ...(credit > 0 ? { creditApplied: credit } : {}),
    total: afterDiscount - credit,
  };
}

/**
 * The weigh-in's final price with what the order was created with: the same code's discount
 * recomputed on the final subtotal (a percent code follows the weight; the minimum-subtotal
 * rule is not asked again), and the credit spent at creation, at most what is left to pay.
 */
export function readjustFinal(final: PriceBreakdown, rules: AdjustedPricingRules): AdjustedBreakdown {
  if (!rules.promo && !rules.creditApplied) return final;
  return adjustBreakdown(final, {
    ...(rules.promo ? { promo: rules.promo } : {}),
    minimumOrder: rules.minimumOrder,
    credit: rules.creditApplied ?? 0,
    // Already spent: no minimum is kept on the card now (the hold exists; capturing less is allowed).
    paymentMethod: 'on_delivery',
  });
}
