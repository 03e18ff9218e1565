import { describe, expect, it } from 'vitest';
import {
  currencyRules,
  isBelowMinimum,
  isChargeableAmount,
  minimumCharge,
  SUPPORTED_CURRENCIES,
  toChargeableAmount,
} from '../../src/domain/currency.js';

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
    expect(() => minimumCharge('XYZ')).toThrow(/Unsupported currency XYZ/);
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
