import { describe, it, expect } from 'vitest';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import {
  MAX_STORED_AMOUNT,
  priceOrder,
  storableBreakdown,
  turnaroundHours,
  type LineInput,
  type PricedAddOn,
  type PricedService,
  type PricingRules,
} from '../../src/domain/pricing.js';

const washFold: PricedService = {
  id: 'svc_wash',
  pricingModel: 'per_kg',
  unitPrice: 250,
  currency: 'GBP',
  turnaroundHours: 48,
  expressSurchargeBps: 5000,
  expressTurnaroundHours: 24,
};
const shirts: PricedService = {
  id: 'svc_shirt',
  pricingModel: 'per_item',
  unitPrice: 1500,
  currency: 'GBP',
  turnaroundHours: 72,
  expressSurchargeBps: 2500,
  expressTurnaroundHours: null,
};
const duvet: PricedService = { ...shirts, id: 'svc_duvet', turnaroundHours: 96, expressSurchargeBps: null };
const hangDry: PricedAddOn = { id: 'add_hang', serviceId: 'svc_wash', price: 100 };
const hypo: PricedAddOn = { id: 'add_hypo', serviceId: 'svc_wash', price: 75 };

const rules: PricingRules = { minimumOrder: 0, deliveryFee: 399, freeDeliveryFrom: null, currency: 'GBP' };
const noFees: PricingRules = { ...rules, deliveryFee: 0 };

function kg(weightGrams: number, addOns: PricedAddOn[] = [], service = washFold): LineInput {
  return { service, weightGrams, addOns };
}
function items(quantity: number, service = shirts): LineInput {
  return { service, quantity, addOns: [] };
}

function domainError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
}

function expectCode(fn: () => unknown, code: DomainErrorCode): DomainError {
  const error = domainError(fn);
  expect(error.code).toBe(code);
  return error;
}

function expectAllIntegers(value: unknown): void {
  if (typeof value === 'number') expect(Number.isSafeInteger(value)).toBe(true);
  else if (Array.isArray(value)) value.forEach(expectAllIntegers);
  else if (value && typeof value === 'object') Object.values(value).forEach(expectAllIntegers);
}

describe('priceOrder: base amounts', () => {
  it('rounds per_kg half up: 250/kg × 1234 g = 308.5 → 309', () => {
    const result = priceOrder([kg(1234)], { express: false }, noFees);
    expect(result.lines[0]?.baseAmount).toBe(309);
    expect(result.total).toBe(309);
  });

  it('rounds per_kg below half down: 250/kg × 1233 g = 308.25 → 308', () => {
    expect(priceOrder([kg(1233)], { express: false }, noFees).lines[0]?.baseAmount).toBe(308);
  });

  it('rounds exactly half of a cent up and just under half down at 1 g', () => {
    expect(priceOrder([kg(1, [], { ...washFold, unitPrice: 500 })], { express: false }, noFees).subtotal).toBe(1);
    expect(priceOrder([kg(1, [], { ...washFold, unitPrice: 499 })], { express: false }, noFees).subtotal).toBe(0);
  });

  it('multiplies per_item price by quantity', () => {
    const line = priceOrder([items(3)], { express: false }, noFees).lines[0];
    expect(line).toMatchObject({ baseAmount: 4500, quantity: 3, weightGrams: null, pricingModel: 'per_item' });
  });

  it('records the measured quantity and add-ons on each line', () => {
    const result = priceOrder([kg(5000, [hangDry, hypo]), items(2)], { express: false }, rules);
    expect(result.lines).toEqual([
      {
        serviceId: 'svc_wash',
        pricingModel: 'per_kg',
        unitPrice: 250,
        quantity: null,
        weightGrams: 5000,
        baseAmount: 1250,
        addOnIds: ['add_hang', 'add_hypo'],
        addOnsAmount: 175,
        expressSurcharge: 0,
        lineTotal: 1425,
      },
      {
        serviceId: 'svc_shirt',
        pricingModel: 'per_item',
        unitPrice: 1500,
        quantity: 2,
        weightGrams: null,
        baseAmount: 3000,
        addOnIds: [],
        addOnsAmount: 0,
        expressSurcharge: 0,
        lineTotal: 3000,
      },
    ]);
    expect(result).toMatchObject({ currency: 'GBP', subtotal: 4425, expressSurcharge: 0, deliveryFee: 399, total: 4824 });
  });

  it('keeps large intermediate products exact and every amount an integer', () => {
    const pricey = { ...washFold, unitPrice: Number.MAX_SAFE_INTEGER };
    // 9007199254740991 × 1 g / 1000 = 9007199254740.991 → 9007199254741
    const result = priceOrder([kg(1, [], pricey)], { express: false }, noFees);
    expect(result.total).toBe(9_007_199_254_741);
    expectAllIntegers(result);
    expectAllIntegers(priceOrder([kg(1234, [hangDry]), items(7)], { express: true }, { ...rules, minimumOrder: 99_999 }));
  });
});

describe('priceOrder: express', () => {
  it('adds a half-up rounded surcharge on base + add-ons per line', () => {
    // (309 + 100) × 50% = 204.5 → 205; 1500 × 25% = 375
    const result = priceOrder([kg(1234, [hangDry]), items(1)], { express: true }, noFees);
    expect(result.lines.map((line) => line.expressSurcharge)).toEqual([205, 375]);
    expect(result.lines[0]?.lineTotal).toBe(309 + 100 + 205);
    expect(result.expressSurcharge).toBe(580);
    expect(result.subtotal).toBe(614 + 1875);
  });

  it('charges nothing extra when express is not requested', () => {
    expect(priceOrder([kg(1234, [hangDry])], { express: false }, noFees).expressSurcharge).toBe(0);
  });

  it('rejects express when a line has no express option', () => {
    const error = expectCode(() => priceOrder([items(1), items(1, duvet)], { express: true }, rules), 'express_unavailable');
    expect(error.details).toMatchObject({ serviceId: 'svc_duvet' });
  });

  it('prices a no-express service normally without express', () => {
    expect(priceOrder([items(1, duvet)], { express: false }, noFees).total).toBe(1500);
  });
});

describe('priceOrder: order-level fees', () => {
  it('charges the shortfall below the minimum order', () => {
    const result = priceOrder([items(1)], { express: false }, { ...noFees, minimumOrder: 1501 });
    expect(result).toMatchObject({ subtotal: 1500, minimumOrderFee: 1, total: 1501 });
  });

  it('charges no minimum fee when the minimum is exactly met', () => {
    expect(priceOrder([items(1)], { express: false }, { ...noFees, minimumOrder: 1500 }).minimumOrderFee).toBe(0);
  });

  it('counts express surcharges towards the minimum', () => {
    const result = priceOrder([items(1)], { express: true }, { ...noFees, minimumOrder: 2000 });
    expect(result).toMatchObject({ subtotal: 1875, minimumOrderFee: 125, total: 2000 });
  });

  it('waives delivery at exactly the threshold and charges it just below', () => {
    expect(priceOrder([items(2)], { express: false }, { ...rules, freeDeliveryFrom: 3000 }).deliveryFee).toBe(0);
    const below = priceOrder([items(2)], { express: false }, { ...rules, freeDeliveryFrom: 3001 });
    expect(below).toMatchObject({ deliveryFee: 399, total: 3399 });
  });

  it('never waives delivery when there is no threshold', () => {
    expect(priceOrder([items(100)], { express: false }, rules).deliveryFee).toBe(399);
  });

  it('judges the free-delivery threshold on the subtotal, not the minimum-order top-up', () => {
    const result = priceOrder([items(1)], { express: false }, { ...rules, minimumOrder: 5000, freeDeliveryFrom: 4000 });
    expect(result).toMatchObject({ minimumOrderFee: 3500, deliveryFee: 399, total: 5399 });
  });
});

describe('priceOrder: rejected input', () => {
  it('rejects an empty order', () => {
    expectCode(() => priceOrder([], { express: false }, rules), 'empty_order');
  });

  it('rejects a service priced in another currency', () => {
    const error = expectCode(
      () => priceOrder([items(1), items(1, { ...shirts, currency: 'EUR' })], { express: false }, rules),
      'currency_mismatch',
    );
    expect(error.details).toMatchObject({ lineIndex: 1, serviceId: 'svc_shirt' });
  });

  it.each([
    ['per_kg without weight', { service: washFold, addOns: [] }],
    ['per_item without quantity', { service: shirts, addOns: [] }],
    ['both quantity and weight', { service: washFold, weightGrams: 1000, quantity: 1, addOns: [] }],
    ['zero grams', kg(0)],
    ['fractional grams', kg(10.5)],
    ['too many grams', kg(1_000_001)],
    ['zero items', items(0)],
    ['negative items', items(-1)],
    ['fractional items', items(1.5)],
    ['too many items', items(1_000_001)],
    ['NaN items', items(Number.NaN)],
  ] satisfies [string, LineInput][])('rejects %s as invalid_quantity naming the line', (_label, line) => {
    const error = expectCode(() => priceOrder([items(1), line], { express: false }, rules), 'invalid_quantity');
    expect(error.details).toMatchObject({ lineIndex: 1 });
  });

  it('accepts the largest allowed quantity and weight', () => {
    expect(priceOrder([kg(1_000_000)], { express: false }, noFees).total).toBe(250_000);
    expect(priceOrder([items(1_000_000)], { express: false }, noFees).total).toBe(1_500_000_000);
  });

  it('rejects an add-on that belongs to another service', () => {
    const foreign = { id: 'add_starch', serviceId: 'svc_shirt', price: 50 };
    const error = expectCode(() => priceOrder([kg(1000, [foreign])], { express: false }, rules), 'invalid_add_on');
    expect(error.details).toMatchObject({ lineIndex: 0, addOnId: 'add_starch', reason: 'wrong_service' });
  });

  it('rejects the same add-on twice on one line', () => {
    const error = expectCode(() => priceOrder([kg(1000, [hangDry, hangDry])], { express: false }, rules), 'invalid_add_on');
    expect(error.details).toMatchObject({ addOnId: 'add_hang', reason: 'duplicate' });
  });

  it.each([
    ['fractional unit price', [kg(1000, [], { ...washFold, unitPrice: 2.5 })], rules],
    ['negative unit price', [kg(1000, [], { ...washFold, unitPrice: -1 })], rules],
    ['unsafe add-on price', [kg(1000, [{ ...hangDry, price: 2 ** 53 }])], rules],
    ['fractional surcharge bps', [kg(1000, [], { ...washFold, expressSurchargeBps: 0.5 })], rules],
    ['fractional delivery fee', [items(1)], { ...rules, deliveryFee: 3.99 }],
    ['negative minimum order', [items(1)], { ...rules, minimumOrder: -1 }],
    ['infinite threshold', [items(1)], { ...rules, freeDeliveryFrom: Infinity }],
  ] satisfies [string, LineInput[], PricingRules][])('rejects a %s as invalid_price_config', (_label, lines, badRules) => {
    expectCode(() => priceOrder(lines, { express: true }, badRules), 'invalid_price_config');
  });

  it('rejects results that are not safe integers', () => {
    const huge = { ...shirts, unitPrice: Number.MAX_SAFE_INTEGER };
    expectCode(() => priceOrder([items(2, huge)], { express: false }, rules), 'amount_overflow');
    const half = { ...shirts, unitPrice: 2 ** 52 };
    expectCode(() => priceOrder([items(1, half), items(1, half)], { express: false }, rules), 'amount_overflow');
    expectCode(
      () => priceOrder([items(1, { ...shirts, unitPrice: Number.MAX_SAFE_INTEGER })], { express: false }, rules),
      'amount_overflow',
    );
  });
});

describe('turnaroundHours', () => {
  it('takes the slowest line', () => {
    expect(turnaroundHours([kg(1000), items(1)], false)).toBe(72);
    expect(turnaroundHours([kg(1000), items(1, duvet)], false)).toBe(96);
  });

  it('uses express turnarounds, falling back to standard when express is not faster', () => {
    expect(turnaroundHours([kg(1000)], true)).toBe(24);
    expect(turnaroundHours([kg(1000), items(1)], true)).toBe(72);
  });

  it('rejects express when a service has none, and an empty order', () => {
    expectCode(() => turnaroundHours([items(1, duvet)], true), 'express_unavailable');
    expectCode(() => turnaroundHours([], false), 'empty_order');
  });

  it('rejects a corrupt turnaround', () => {
    expectCode(() => turnaroundHours([items(1, { ...shirts, turnaroundHours: Number.NaN })], false), 'invalid_price_config');
  });
});

describe('storableBreakdown', () => {
  it('passes totals up to PostgreSQL integer and refuses larger ones as amount_overflow', () => {
    const at = (unitPrice: number) => priceOrder([items(1, { ...shirts, unitPrice })], { express: false }, noFees);
    expect(storableBreakdown(at(MAX_STORED_AMOUNT)).total).toBe(MAX_STORED_AMOUNT);
    expectCode(() => storableBreakdown(at(MAX_STORED_AMOUNT + 1)), 'amount_overflow');
  });
});
