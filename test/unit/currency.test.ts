import { describe, expect, it } from 'vitest';
import {
  currencyRules,
  isBelowMinimum,
  isChargeableAmount,
  minimumCharge,
  SUPPORTED_CURRENCIES,
  toChargeableAmount,
} from '../../src/domain/currency.js';
import { priceOrder, type PricedService, type PricingRules } from '../../src/domain/pricing.js';
import { holdAmount } from '../../src/modules/payments/sheet.js';

// Stripe's lists, https://docs.stripe.com/currencies (read 2026-11-29).
const ZERO_DECIMAL = ['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'];
const THREE_DECIMAL = ['BHD', 'JOD', 'KWD', 'OMR', 'TND'];
const DOCUMENTED_MINIMUMS: Record<string, number> = {
  USD: 50, AED: 200, AUD: 50, BGN: 100, BRL: 50, CAD: 50, CHF: 50, CZK: 1500, DKK: 250, EUR: 50, GBP: 30, HKD: 400,
  HUF: 17500, INR: 50, JPY: 50, MXN: 1000, MYR: 200, NOK: 300, NZD: 50, PLN: 200, RON: 200, SEK: 300, SGD: 50, THB: 1000,
};

describe('the currency table', () => {
  it('holds every documented minimum, every zero-decimal and every three-decimal currency', () => {
    for (const code of [...Object.keys(DOCUMENTED_MINIMUMS), ...ZERO_DECIMAL, ...THREE_DECIMAL]) {
      expect(SUPPORTED_CURRENCIES, code).toContain(code);
    }
  });

  it('zero-decimal currencies have exponent 0, three-decimal ones exponent 3 and step 10, the rest exponent 2', () => {
    for (const code of SUPPORTED_CURRENCIES) {
      const rules = currencyRules(code)!;
      expect(rules.zeroDecimal, code).toBe(ZERO_DECIMAL.includes(code));
      expect(rules.threeDecimal, code).toBe(THREE_DECIMAL.includes(code));
      expect(rules.exponent, code).toBe(rules.zeroDecimal ? 0 : rules.threeDecimal ? 3 : 2);
      if (rules.threeDecimal) expect(rules.step, code).toBe(10);
    }
  });

  it('minimums are positive integers and match Stripe’s table', () => {
    for (const code of SUPPORTED_CURRENCIES) {
      const minimum = minimumCharge(code);
      if (minimum !== null) expect(Number.isInteger(minimum) && minimum > 0, code).toBe(true);
      expect(minimum, code).toBe(DOCUMENTED_MINIMUMS[code] ?? null);
    }
  });

  it('looks codes up in any case and knows nothing it was not told', () => {
    expect(currencyRules('usd')).toMatchObject({ code: 'USD', exponent: 2, minimumCharge: 50 });
    expect(currencyRules('XYZ')).toBeUndefined();
    expect(currencyRules('constructor')).toBeUndefined();
    expect(minimumCharge('XYZ')).toBeNull();
    expect(isBelowMinimum('XYZ', 1)).toBe(false);
    expect(() => toChargeableAmount('XYZ', 1)).toThrow(/Unsupported currency XYZ/);
  });
});

describe('toChargeableAmount', () => {
  it('rounds three-decimal amounts down to a multiple of 10, in the customer’s favour', () => {
    expect(toChargeableAmount('KWD', 5124)).toBe(5120);
    expect(toChargeableAmount('KWD', 5129)).toBe(5120);
    expect(toChargeableAmount('BHD', 5120)).toBe(5120);
    expect(toChargeableAmount('TND', 9)).toBe(0);
  });

  it('leaves two- and zero-decimal amounts alone, and whole krónur for ISK', () => {
    expect(toChargeableAmount('USD', 2409)).toBe(2409);
    expect(toChargeableAmount('JPY', 1234)).toBe(1234);
    expect(toChargeableAmount('ISK', 4010)).toBe(4000);
  });

  it('refuses what is not an amount', () => {
    expect(() => toChargeableAmount('USD', -1)).toThrow(RangeError);
    expect(() => toChargeableAmount('USD', 1.5)).toThrow(RangeError);
  });

  it('every rounded amount is chargeable', () => {
    for (const code of SUPPORTED_CURRENCIES) {
      for (const amount of [0, 1, 9, 10, 11, 99, 101, 2409, 123_457]) {
        expect(isChargeableAmount(code, toChargeableAmount(code, amount)), `${code} ${amount}`).toBe(true);
      }
    }
    expect(isChargeableAmount('KWD', 5125)).toBe(false);
  });
});

describe('isBelowMinimum', () => {
  it('compares with the documented minimum', () => {
    expect(isBelowMinimum('USD', 10)).toBe(true);
    expect(isBelowMinimum('USD', 49)).toBe(true);
    expect(isBelowMinimum('USD', 50)).toBe(false);
    expect(isBelowMinimum('GBP', 30)).toBe(false);
    expect(isBelowMinimum('JPY', 49)).toBe(true);
  });

  it('says no where Stripe documents no fixed minimum: Stripe answers for those', () => {
    expect(isBelowMinimum('KWD', 10)).toBe(false);
    expect(isBelowMinimum('KRW', 1)).toBe(false);
  });
});

describe('priceOrder: totals Stripe accepts (the one place prices become chargeable)', () => {
  const perKg: PricedService = {
    id: 'svc_wash', pricingModel: 'per_kg', unitPrice: 2_501, currency: 'KWD',
    turnaroundHours: 48, expressSurchargeBps: null, expressTurnaroundHours: null,
  };
  const kg = (weightGrams: number, service = perKg) => ({ service, weightGrams, addOns: [] });
  const kwd: PricingRules = { minimumOrder: 0, deliveryFee: 1_995, freeDeliveryFrom: null, currency: 'KWD' };

  it('rounds a three-decimal total down to a multiple of 10 and says by how much', () => {
    // 1.234 kg at 2.501 KWD/kg = 3.086234 → 3.086; + 1.995 delivery = 5.081 → 5.080.
    const result = priceOrder([kg(1234)], { express: false }, kwd);
    expect(result).toMatchObject({ subtotal: 3_086, deliveryFee: 1_995, roundingAdjustment: 1, total: 5_080 });
    expect(result.subtotal + result.deliveryFee - result.roundingAdjustment!).toBe(result.total);
  });

  it('adds no adjustment when the sum is already a multiple of 10, nor in two-decimal currencies', () => {
    const even = priceOrder([kg(1000, { ...perKg, unitPrice: 3_000 })], { express: false }, { ...kwd, deliveryFee: 2_000 });
    expect(even.total).toBe(5_000);
    expect(even).not.toHaveProperty('roundingAdjustment');
    const usd = priceOrder([kg(1234, { ...perKg, currency: 'USD' })], { express: false }, { ...kwd, currency: 'USD' });
    expect(usd).not.toHaveProperty('roundingAdjustment');
    expect(usd.total).toBe(usd.subtotal + usd.deliveryFee);
  });

  it('the card hold is chargeable too, and never below the estimate', () => {
    expect(holdAmount(5_080, 2_000, 'KWD')).toBe(6_090); // 5.080 + 20% = 6.096 → 6.090
    expect(holdAmount(2_000, 2_000, 'USD')).toBe(2_400);
    expect(holdAmount(5_080, 0, 'KWD')).toBe(5_080);
  });
});
