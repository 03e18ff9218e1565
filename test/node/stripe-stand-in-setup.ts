/**
 * Shared set-up of the stand-in's own tests (test/node/stripe-stand-in*.test.ts): one stand-in
 * per file, reset after each test, and the REAL stripe-node SDK on its fetch client (as on Workers).
 */
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';

export const API_VERSION = '2026-10-28.endive';

export interface StandInTestContext {
  standIn: StripeStandIn;
  stripe: Stripe;
  client(extra?: Partial<Stripe.StripeConfig>, key?: string): Stripe;
  /** A customer and a manual-capture PaymentIntent the PaymentSheet authorised (requires_capture). */
  authorisedIntent(amount?: number, paymentMethod?: string): Promise<{ customer: Stripe.Customer; pi: Stripe.PaymentIntent }>;
}

/** Registers the hooks; the returned context is filled in by beforeAll. */
export function useStandIn(): StandInTestContext {
  const ctx = {} as StandInTestContext;
  ctx.client = (extra = {}, key = 'sk_test_standin') =>
    new Stripe(key, {
      host: ctx.standIn.host,
      port: ctx.standIn.port,
      protocol: 'http',
      apiVersion: API_VERSION,
      maxNetworkRetries: 0,
      httpClient: Stripe.createFetchHttpClient(),
      ...extra,
    });
  ctx.authorisedIntent = async (amount = 5000, paymentMethod?: string) => {
    const customer = await ctx.stripe.customers.create({ email: 'ada@example.com' });
    const pi = await ctx.stripe.paymentIntents.create({
      amount,
      currency: 'eur',
      customer: customer.id,
      capture_method: 'manual',
      automatic_payment_methods: { enabled: true },
      metadata: { order_id: 'ord_1' },
    });
    ctx.standIn.authorize(pi.id, paymentMethod ? { paymentMethod } : {});
    return { customer, pi: await ctx.stripe.paymentIntents.retrieve(pi.id) };
  };
  beforeAll(async () => {
    ctx.standIn = await startStripeStandIn();
    ctx.stripe = ctx.client();
  });
  afterEach(() => ctx.standIn.reset());
  afterAll(() => ctx.standIn.close());
  return ctx;
}

/** lastResponse.headers is a fetch Headers with the fetch HTTP client. */
export function header(res: { lastResponse: { headers: unknown } }, name: string): string | null {
  return (res.lastResponse.headers as Headers).get(name);
}

export async function rejection(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(Stripe.errors.StripeError);
    return e as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}
