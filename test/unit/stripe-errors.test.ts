import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { isStripeError, isStripeErrorOf } from '../../src/payments/stripe-errors.js';

/**
 * The guards stand in for `instanceof Stripe.errors.X` so that modules catching Stripe's errors
 * need not load the SDK (src/payments/stripe-errors.ts). They must agree with instanceof for every
 * error class the SDK has, or a decline would be taken for an outage (or the reverse).
 */
describe('Stripe error guards agree with the SDK classes', () => {
  // Stripe.errors also holds factories (generateV1Error, …): only the classes.
  const classes = Object.entries(Stripe.errors).filter(([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error) as Array<[string, new (raw?: object) => Error]>;

  it('covers the SDK error classes', () => {
    expect(classes.map(([name]) => name)).toEqual(expect.arrayContaining(['StripeError', 'StripeCardError', 'StripeInvalidRequestError', 'StripeConnectionError', 'StripeAPIError']));
  });

  for (const [name, ErrorClass] of classes) {
    it(`${name}`, () => {
      const err = new ErrorClass({ message: 'm', code: 'c', statusCode: 402 });
      expect(isStripeError(err)).toBe(err instanceof Stripe.errors.StripeError);
      for (const kind of ['StripeCardError', 'StripeInvalidRequestError', 'StripeConnectionError'] as const) {
        expect(isStripeErrorOf(err, kind), kind).toBe(err instanceof Stripe.errors[kind]);
      }
    });
  }

  it('an error the SDK built from an answer (generate) is told apart the same way', () => {
    const declined = Stripe.errors.StripeError.generate({ type: 'card_error', message: 'declined', statusCode: 402 } as never);
    expect(isStripeErrorOf(declined, 'StripeCardError')).toBe(true);
    expect(isStripeErrorOf(declined, 'StripeInvalidRequestError')).toBe(false);
  });

  it('anything else is not a Stripe error', () => {
    for (const other of [new Error('x'), new TypeError('fetch failed'), Object.assign(new Error('x'), { type: 'StripeCardError' }), { type: 'StripeCardError', raw: {} }, null, 'StripeCardError']) {
      expect(isStripeError(other)).toBe(false);
      expect(isStripeErrorOf(other, 'StripeCardError')).toBe(false);
    }
  });
});
