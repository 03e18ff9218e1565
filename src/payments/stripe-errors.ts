import type Stripe from 'stripe';

/**
 * stripe-node's errors, told apart by their `type` (the class name: `StripeCardError`,
 * `StripeInvalidRequestError`, …), as Stripe's own error-handling guide does
 * (https://docs.stripe.com/error-handling?lang=node: `switch (err.type)`), rather than with
 * `instanceof`, which would need the SDK's module loaded wherever an error is caught (the module
 * is loaded on first use: ./stripe.ts). Every StripeError carries `type` and `raw`.
 */
interface StripeErrorsByType {
  StripeCardError: Stripe.errors.StripeCardError;
  StripeInvalidRequestError: Stripe.errors.StripeInvalidRequestError;
  StripeConnectionError: Stripe.errors.StripeConnectionError;
}

/** Any error the Stripe SDK raised for a request (an answer from Stripe or no answer at all). */
export function isStripeError(err: unknown): err is Stripe.errors.StripeError {
  return err instanceof Error && typeof (err as { type?: unknown }).type === 'string' && 'raw' in err;
}

/** A Stripe error of one kind: `isStripeErrorOf(err, 'StripeCardError')` (a decline, HTTP 402). */
export function isStripeErrorOf<T extends keyof StripeErrorsByType>(err: unknown, type: T): err is StripeErrorsByType[T] {
  return isStripeError(err) && err.type === type;
}
