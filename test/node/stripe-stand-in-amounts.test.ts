/**
 * The stand-in refuses the amounts Stripe refuses (https://docs.stripe.com/currencies), through
 * the real stripe-node SDK: a charge below the currency's minimum (`amount_too_small`), a
 * three-decimal amount that is not a multiple of 10, ISK with fractional krónur. Kept apart
 * from stripe-stand-in.test.ts, which is already long.
 */
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';

let standIn: StripeStandIn;
let stripe: Stripe;

beforeAll(async () => {
  standIn = await startStripeStandIn();
  const { host, port } = standIn;
  stripe = new Stripe('sk_test_amounts', { host, port, protocol: 'http', apiVersion: '2026-10-28.endive', maxNetworkRetries: 0, httpClient: Stripe.createFetchHttpClient() });
});
afterEach(() => standIn.reset());
afterAll(() => standIn.close());

/** The error a call fails with; fails the test if it succeeds. */
async function refusal(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const err: unknown = await call.then(
    () => new Error('Stripe accepted it'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  return err as Stripe.errors.StripeError;
}

const cardIntent = (amount: number, currency: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({ amount, currency, allowed_payment_method_types: ['card'], ...extra });

describe('stripe stand-in: amounts Stripe refuses', () => {
  it('below the minimum charge: 400 amount_too_small on param amount, per currency', async () => {
    for (const [currency, minimum] of [['usd', 50], ['gbp', 30], ['jpy', 50], ['huf', 17_500], ['mxn', 1_000]] as const) {
      const err = await refusal(cardIntent(minimum - 1, currency));
      expect(err, currency).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', code: 'amount_too_small', param: 'amount' });
      expect(err.raw, currency).toMatchObject({ type: 'invalid_request_error' });
      await expect(cardIntent(minimum, currency), currency).resolves.toMatchObject({ amount: minimum });
    }
  });

  it('an off-session overage of 10 cents is refused before any card is touched (issue 13, finding 2)', async () => {
    const err = await refusal(cardIntent(10, 'usd', { payment_method: 'pm_card_visa', confirm: true, off_session: true }));
    expect(err).toMatchObject({ code: 'amount_too_small', param: 'amount' });
    expect(Object.keys(standIn.state().payment_intents)).toHaveLength(0);
  });

  it('capture: amount_to_capture below the minimum is refused and the hold stays', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2399, currency: 'usd', capture_method: 'manual', automatic_payment_methods: { enabled: true } });
    standIn.authorize(pi.id);
    const err = await refusal(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 10 }));
    expect(err).toMatchObject({ statusCode: 400, code: 'amount_too_small', param: 'amount_to_capture' });
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({ status: 'requires_capture', amount_capturable: 2399 });
  });

  it('confirm: amount_to_confirm below the minimum is refused', async () => {
    const pi = await cardIntent(2000, 'eur', { payment_method: 'pm_card_visa' });
    const err = await refusal(stripe.paymentIntents.confirm(pi.id, { amount_to_confirm: 20 }));
    expect(err).toMatchObject({ code: 'amount_too_small', param: 'amount_to_confirm' });
  });

  it('three-decimal currencies take multiples of 10 only: 400 invalid_charge_amount', async () => {
    for (const currency of ['bhd', 'jod', 'kwd', 'omr', 'tnd']) {
      const err = await refusal(cardIntent(5124, currency));
      expect(err, currency).toMatchObject({ statusCode: 400, code: 'invalid_charge_amount', param: 'amount' });
      expect(err.message).toMatch(/divisible by 10/);
      await expect(cardIntent(5120, currency), currency).resolves.toMatchObject({ amount: 5120, currency });
    }
    const pi = await stripe.paymentIntents.create({ amount: 6090, currency: 'kwd', capture_method: 'manual', automatic_payment_methods: { enabled: true } });
    standIn.authorize(pi.id);
    expect((await refusal(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 5081 }))).code).toBe('invalid_charge_amount');
    await expect(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 5080 })).resolves.toMatchObject({ amount_received: 5080 });
  });

  it('ISK: whole krónur only (multiples of 100)', async () => {
    expect(await refusal(cardIntent(40_010, 'isk'))).toMatchObject({ code: 'invalid_charge_amount_no_decimal_compatible', param: 'amount' });
    await expect(cardIntent(40_000, 'isk')).resolves.toMatchObject({ amount: 40_000 });
  });

  it('update: a new amount obeys the same rules', async () => {
    const pi = await cardIntent(2000, 'usd');
    expect((await refusal(stripe.paymentIntents.update(pi.id, { amount: 49 }))).code).toBe('amount_too_small');
  });
});
