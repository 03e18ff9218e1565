import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { presetAmount, tipAmount, tipBounds } from '../../src/domain/tip.js';

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('tip presets', () => {
  it('round half up to a minor unit', () => {
    // 2499 × 15 % = 374.85 → 375; × 10 % = 249.9 → 250; × 20 % = 499.8 → 500
    expect(presetAmount(2499, 15, 'USD')).toBe(375);
    expect(presetAmount(2499, 10, 'USD')).toBe(250);
    expect(presetAmount(2499, 20, 'USD')).toBe(500);
    // exactly half a unit goes up: 2450 × 15 % = 367.5 → 368; 1005 × 10 % = 100.5 → 101
    expect(presetAmount(2450, 15, 'USD')).toBe(368);
    expect(presetAmount(1005, 10, 'USD')).toBe(101);
    // just under half goes down: 1004 × 10 % = 100.4 → 100
    expect(presetAmount(1004, 10, 'USD')).toBe(100);
  });

  it('keeps whole yen, and rounds a three-decimal currency down to a multiple of 10 (Stripe)', () => {
    expect(presetAmount(3333, 15, 'JPY')).toBe(500); // 499.95 → 500
    // 12345 fils × 15 % = 1851.75 → 1852 → 1850
    expect(presetAmount(12345, 15, 'KWD')).toBe(1850);
    expect(tipAmount(12345, 'KWD', { percent: 15 })).toBe(1850);
  });
});

describe('tip bounds', () => {
  it('one major unit (never below Stripe’s minimum) to half the total', () => {
    expect(tipBounds(2499, 'USD')).toEqual({ min: 100, max: 1249, step: 1 });
    expect(tipBounds(10_000, 'JPY')).toEqual({ min: 50, max: 5000, step: 1 }); // 1 yen < Stripe's 50
    expect(tipBounds(12345, 'KWD')).toEqual({ min: 1000, max: 6170, step: 10 });
  });

  it('accepts the edges and refuses beyond them with the bounds', () => {
    expect(tipAmount(2499, 'USD', { amount: 100 })).toBe(100);
    expect(tipAmount(2499, 'USD', { amount: 1249 })).toBe(1249);
    const low = refusal(() => tipAmount(2499, 'USD', { amount: 99 }));
    expect(low.code).toBe('invalid_tip_amount');
    expect(low.details).toMatchObject({ min: 100, max: 1249, amount: 99 });
    expect(refusal(() => tipAmount(2499, 'USD', { amount: 1250 })).code).toBe('invalid_tip_amount');
    expect(refusal(() => tipAmount(2499, 'USD', { amount: -5 })).code).toBe('invalid_tip_amount');
    expect(refusal(() => tipAmount(2499, 'USD', { amount: 1.5 })).code).toBe('invalid_tip_amount');
  });

  it('refuses a three-decimal amount off the step, and any tip on an order too small for one', () => {
    expect(refusal(() => tipAmount(12345, 'KWD', { amount: 1005 })).message).toContain('multiple of 10');
    // Half of 150 is 75 < 100: no tip fits, even a preset.
    expect(refusal(() => tipAmount(150, 'USD', { percent: 20 })).message).toContain('too small');
    // A preset below the minimum is refused, not raised to it: 10 % of 900 = 90 < 100.
    expect(refusal(() => tipAmount(900, 'USD', { percent: 10 })).details).toMatchObject({ amount: 90, min: 100 });
  });
});
