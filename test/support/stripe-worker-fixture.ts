/**
 * A Worker entry for test/node/stripe-worker-build.test.ts: built by wrangler with wrangler.toml
 * (its `[alias]` swaps stripe-node's unused resources for src/build/stripe-unused-resources.ts),
 * it builds the app's Stripe client (src/payments/stripe.ts) and calls every resource method the
 * app calls, against the Stripe stand-in at STRIPE_API_URL. GET / answers
 * `{ called: [resource...], leftOut: { property: methodCount }, notificationHandler }`, or 500 with the error.
 */
import type { Config } from '../../src/config.js';
import { createPayments } from '../../src/payments/stripe.js';
import { stripeControl } from './stripe.js';

interface Env {
  STRIPE_API_URL: string;
  STRIPE_SECRET_KEY: string;
  STRIPE_WEBHOOK_SECRET: string;
}

const methodCount = (o: object) => {
  let n = 0;
  for (let p: object | null = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    n += Object.getOwnPropertyNames(p).filter((k) => k !== 'constructor' && typeof (o as Record<string, unknown>)[k] === 'function').length;
  }
  return n;
};

async function run(env: Env) {
  const config = { stripeSecretKey: env.STRIPE_SECRET_KEY, stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET, stripeApiUrl: env.STRIPE_API_URL, stripeTimeoutMs: 10_000 } as Config;
  const payments = createPayments(config)!;
  const stripe = await payments.client();
  const called = new Set<string>();
  const use = <T>(resource: string, p: Promise<T>) => p.then((r) => (called.add(resource), r));

  const customer = await use('customers', stripe.customers.create({ email: 'bundle@example.test' }, { idempotencyKey: 'bundle-customer' }));
  await use('customerSessions', stripe.customerSessions.create({ customer: customer.id, components: { mobile_payment_element: { enabled: true } } }));
  await use('ephemeralKeys', stripe.ephemeralKeys.create({ customer: customer.id }, { apiVersion: '2020-08-27' }));
  const control = stripeControl(env.STRIPE_API_URL);
  const pi = await use('paymentIntents', stripe.paymentIntents.create({ amount: 2500, currency: 'usd', customer: customer.id, capture_method: 'manual' }));
  await control.authorize(pi.id);
  if ((await stripe.paymentIntents.retrieve(pi.id)).status !== 'requires_capture') throw new Error('the hold was not placed');
  await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 2000 }, { idempotencyKey: 'bundle-capture' });
  const refund = await use('refunds', stripe.refunds.create({ payment_intent: pi.id, amount: 500 }, { idempotencyKey: 'bundle-refund' }));
  await stripe.refunds.retrieve(refund.id, { expand: ['charge'] });
  const refunds = await stripe.refunds.list({ payment_intent: pi.id, limit: 100, expand: ['data.charge'] }).autoPagingToArray({ limit: 1_000 });
  if (refunds.length !== 1) throw new Error(`refunds.list paged ${refunds.length} refunds`);
  const other = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', customer: customer.id });
  await stripe.paymentIntents.cancel(other.id, { cancellation_reason: 'abandoned' }, { idempotencyKey: 'bundle-cancel' });
  const listed = await stripe.paymentIntents.list({ customer: customer.id, limit: 100 }).autoPagingToArray({ limit: 1_000 });
  if (listed.length !== 2) throw new Error(`paymentIntents.list paged ${listed.length} intents`);
  const signed = await control.signedEvent('payment_intent.succeeded', pi.id);
  const event = await payments.verifyEvent(signed.payload, signed.header);
  await stripe.customers.del(customer.id);

  const leftOut: Record<string, number> = {};
  for (const [property, value] of Object.entries(stripe)) {
    if (value && typeof value === 'object' && !called.has(property) && value.constructor?.name !== 'Object') leftOut[property] = methodCount(value as object);
  }
  let notificationHandler = 'built';
  try {
    stripe.notificationHandler(env.STRIPE_WEBHOOK_SECRET, () => Promise.resolve());
  } catch (e) {
    notificationHandler = (e as Error).message;
  }
  return { called: [...called].sort(), eventId: event.id, leftOut, notificationHandler };
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    try {
      return Response.json(await run(env));
    } catch (e) {
      return Response.json({ error: String((e as Error)?.stack ?? e) }, { status: 500 });
    }
  },
};
