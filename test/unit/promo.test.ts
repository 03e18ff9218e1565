import { describe, expect, it } from 'vitest';
import { adjustBreakdown, creditToApply, readjustFinal } from '../../src/domain/credit.js';
import { DomainError } from '../../src/domain/errors.js';
import type { PriceBreakdown } from '../../src/domain/pricing.js';
import { checkPromo, discountFor, normalizePromoCode, type PromoDefinition } from '../../src/domain/promo.js';

const breakdown = (currency: string, subtotal: number, extra: Partial<PriceBreakdown> = {}): PriceBreakdown => ({
  currency, lines: [], subtotal, expressSurcharge: 0, minimumOrderFee: 0, deliveryFee: 0, total: subtotal, ...extra,
});
const pct = (value: number) => ({ code: 'P', kind: 'percent' as const, value });
const amt = (value: number) => ({ code: 'A', kind: 'amount' as const, value });

describe('normalizePromoCode', () => {
  it('trims and upper-cases; refuses what cannot be a code', () => {
    expect(normalizePromoCode('  welcome-10 ')).toBe('WELCOME-10');
    for (const bad of ['ab', 'a b c', 'ÜBER', 'x'.repeat(33), 'semi;colon', '']) expect(normalizePromoCode(bad)).toBeUndefined();
  });
});

describe('discountFor', () => {
  it('percent rounds half up to the minor unit', () => {
    expect(discountFor(pct(1250), breakdown('USD', 1500), 0)).toBe(188); // 187.5
    expect(discountFor(pct(1250), breakdown('USD', 1499), 0)).toBe(187); // 187.375
    expect(discountFor(pct(10_000), breakdown('USD', 1500), 0)).toBe(1500);
    expect(discountFor(pct(1), breakdown('USD', 49), 0)).toBe(0); // 0.0049
  });
  it('zero-decimal JPY: whole yen, half up', () => {
    expect(discountFor(pct(1500), breakdown('JPY', 1003), 0)).toBe(150); // 150.45
    expect(discountFor(pct(500), breakdown('JPY', 1010), 0)).toBe(51); // 50.5
  });
  it('three-decimal KWD and ISK: rounded down to the Stripe step so the total stays chargeable', () => {
    expect(discountFor(pct(1000), breakdown('KWD', 5125), 0)).toBe(510); // 512.5 → 513 → 510
    expect(discountFor(amt(1234), breakdown('KWD', 5000), 0)).toBe(1230);
    expect(discountFor(pct(1000), breakdown('ISK', 12_345), 0)).toBe(1200);
  });
  it('never more than the subtotal, never below the zone minimum order', () => {
    expect(discountFor(amt(5000), breakdown('USD', 1500), 0)).toBe(1500);
    expect(discountFor(amt(1000), breakdown('USD', 1500), 1400)).toBe(100);
    // Already topped up to the minimum: nothing left to take off.
    expect(discountFor(amt(1000), breakdown('USD', 1200, { minimumOrderFee: 300 }), 1500)).toBe(0);
  });
});

describe('creditToApply', () => {
  it('never more than the balance or the payable amount; never negative', () => {
    expect(creditToApply(1000, 1999, { currency: 'USD', paymentMethod: 'on_delivery' })).toBe(1000);
    expect(creditToApply(5000, 1999, { currency: 'USD', paymentMethod: 'on_delivery' })).toBe(1999);
    expect(creditToApply(0, 1999, { currency: 'USD', paymentMethod: 'on_delivery' })).toBe(0);
    expect(creditToApply(-5, 1999, { currency: 'USD', paymentMethod: 'on_delivery' })).toBe(0);
  });
  it('card orders keep the Stripe minimum charge on the card; the step holds in KWD', () => {
    expect(creditToApply(5000, 1999, { currency: 'USD', paymentMethod: 'card' })).toBe(1949);
    expect(creditToApply(5000, 40, { currency: 'USD', paymentMethod: 'card' })).toBe(0);
    expect(creditToApply(5000, 30, { currency: 'JPY', paymentMethod: 'card' })).toBe(0);
    expect(creditToApply(1235, 5000, { currency: 'KWD', paymentMethod: 'on_delivery' })).toBe(1230);
  });
});

describe('adjustBreakdown and readjustFinal', () => {
  it('discount first, then credit; total is what is left to pay', () => {
    const b = breakdown('USD', 1500, { deliveryFee: 499, total: 1999 });
    expect(adjustBreakdown(b, { promo: pct(1000), minimumOrder: 0, credit: 300, paymentMethod: 'on_delivery' })).toMatchObject({
      discount: { code: 'P', amount: 150 }, creditApplied: 300, total: 1999 - 150 - 300,
    });
    expect(adjustBreakdown(b, { minimumOrder: 0, credit: 0, paymentMethod: 'card' })).toEqual(b);
  });
  it('the weigh-in recomputes a percent code on the final subtotal and keeps the credit, at most what is left', () => {
    const final = breakdown('USD', 1800, { deliveryFee: 499, total: 2299 });
    const rules = { minimumOrder: 0, deliveryFee: 499, freeDeliveryFrom: null, currency: 'USD', promo: pct(1250), creditApplied: 300 };
    expect(readjustFinal(final, rules)).toMatchObject({ discount: { amount: 225 }, creditApplied: 300, total: 2299 - 225 - 300 });
    expect(readjustFinal(breakdown('USD', 100, { total: 100 }), { ...rules, promo: amt(50) })).toMatchObject({ discount: { amount: 50 }, creditApplied: 50, total: 0 });
  });
});

describe('checkPromo', () => {
  const promo: PromoDefinition = {
    id: 'p', code: 'WELCOME', kind: 'amount', value: 500, currency: 'USD', minimumSubtotal: 2000,
    validFrom: '2026-11-01T00:00:00.000Z', validUntil: '2026-12-01T00:00:00.000Z', maxRedemptions: null, perCustomerLimit: 1, firstOrderOnly: false, active: true,
  };
  const order = { now: new Date('2026-11-15T00:00:00Z'), currency: 'USD', subtotal: 2500 };
  const codeOf = (fn: () => void) => {
    try {
      fn();
      return 'ok';
    } catch (err) {
      return (err as DomainError).code;
    }
  };
  it('passes inside its window and minimum; says which rule fails otherwise', () => {
    expect(codeOf(() => checkPromo(promo, order))).toBe('ok');
    expect(codeOf(() => checkPromo({ ...promo, active: false }, order))).toBe('promo_code_inactive');
    expect(codeOf(() => checkPromo(promo, { ...order, now: new Date('2026-10-31T23:59:59Z') }))).toBe('promo_code_not_yet_valid');
    expect(codeOf(() => checkPromo(promo, { ...order, now: new Date('2026-12-01T00:00:00Z') }))).toBe('promo_code_expired');
    expect(codeOf(() => checkPromo(promo, { ...order, subtotal: 1999 }))).toBe('promo_code_minimum_not_met');
    expect(codeOf(() => checkPromo(promo, { ...order, currency: 'EUR' }))).toBe('currency_mismatch');
  });
});
