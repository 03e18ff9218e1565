/**
 * The stand-in is as strict as Stripe where the payments flow can lose money (issue 13):
 * idempotency keys that keep a 500 and expire after 24 h, refunds that settle later or fail,
 * off-session confirmations that need authentication, holds that lapse, CustomerSessions.
 * Each rule cites the Stripe doc it follows (see also tools/stripe-stand-in/README.md).
 */
import Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { header, rejection, useStandIn } from './stripe-stand-in-setup.js';

const t = useStandIn();
const { authorisedIntent } = t;
let stripe: Stripe;
let standIn: typeof t.standIn;
beforeEach(() => {
  ({ stripe, standIn } = t);
});
const DAY = 24 * 3600;

/** A succeeded (captured) PaymentIntent paid with the given test card. */
async function paidWith(paymentMethod: string, amount = 4000) {
  const { pi } = await authorisedIntent(amount, paymentMethod);
  return stripe.paymentIntents.capture(pi.id);
}

describe('idempotency keys (https://docs.stripe.com/api/idempotent_requests)', () => {
  it('are forgotten after 24 h of the stand-in clock: the same key then executes afresh (a second charge)', async () => {
    const customer = await stripe.customers.create({});
    const params: Stripe.PaymentIntentCreateParams = {
      amount: 900, currency: 'eur', customer: customer.id, payment_method: 'pm_card_visa', confirm: true, off_session: true,
      allowed_payment_method_types: ['card'],
    };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'overage-ord_1' });
    standIn.advanceTime(DAY - 60);
    const replay = await stripe.paymentIntents.create(params, { idempotencyKey: 'overage-ord_1' });
    expect(replay.id).toBe(first.id);
    expect(header(replay, 'idempotent-replayed')).toBe('true');
    standIn.advanceTime(60);
    const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'overage-ord_1' });
    expect(again.id).not.toBe(first.id);
    expect(header(again, 'idempotent-replayed')).toBeNull();
    const charged = await stripe.paymentIntents.list({ customer: customer.id });
    expect(charged.data.map((p) => [p.status, p.amount_received])).toEqual([['succeeded', 900], ['succeeded', 900]]);
  });

  it('a stored 500 is replayed for 24 h, then the key is a new request', async () => {
    const { pi } = await authorisedIntent();
    standIn.failNext({ mode: 'server_error', path: '/v1/payment_intents/:id/capture' });
    await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'capture-ord_1' }));
    standIn.advanceTime(3600);
    const replayed = await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'capture-ord_1' }));
    expect(replayed).toMatchObject({ type: 'StripeAPIError', statusCode: 500, headers: expect.objectContaining({ 'idempotent-replayed': 'true' }) });
    // (the hold lapses after 7 days, not 1: capture_before is still ahead)
    standIn.advanceTime(DAY);
    expect((await stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'capture-ord_1' })).status).toBe('succeeded');
  });

  it('an applied request answered 500 replays the 500; parameters that fail validation are not stored', async () => {
    const customer = await stripe.customers.create({});
    standIn.failNext({ mode: 'server_error', method: 'POST', path: '/v1/payment_intents', applyThenFail: true });
    const params = { amount: 1200, currency: 'eur', customer: customer.id };
    await rejection(stripe.paymentIntents.create(params, { idempotencyKey: 'pi-1' }));
    expect(await rejection(stripe.paymentIntents.create(params, { idempotencyKey: 'pi-1' }))).toMatchObject({ statusCode: 500 });
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data).toHaveLength(1); // it was made once

    const bad = await rejection(stripe.paymentIntents.create({ amount: 10, currency: 'eur' }, { idempotencyKey: 'pi-2' }));
    expect(bad).toMatchObject({ code: 'amount_too_small' });
    expect((await stripe.paymentIntents.create({ amount: 1000, currency: 'eur' }, { idempotencyKey: 'pi-2' })).amount).toBe(1000);
  });

  it('over /__control/: fail-next stores the 500 unless stored is false', async () => {
    const { pi } = await authorisedIntent();
    const control = (body: unknown) => fetch(`${standIn.url}/__control/fail-next`, { method: 'POST', body: JSON.stringify(body) });
    expect((await control({ mode: 'server_error', path: '/v1/payment_intents/:id/capture', stored: false })).status).toBe(200);
    await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'k' }));
    expect((await stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'k' })).status).toBe('succeeded');
    expect((await control({ mode: 'timeout', stored: false })).status).toBe(400); // stored is for server_error only
  });
});

describe('asynchronous refunds (https://docs.stripe.com/testing#refunds)', () => {
  it('pm_card_pendingRefund: pending, then succeeded with refund.updated and charge.refund.updated', async () => {
    const pi = await paidWith('pm_card_pendingRefund');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500 });
    expect(refund).toMatchObject({ status: 'pending', pending_reason: 'processing', amount: 1500 });
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 1500, refunded: false });
    const settled = standIn.settleRefund(refund.id, 'succeeded');
    expect(settled).toMatchObject({ id: refund.id, status: 'succeeded' });
    expect((await stripe.refunds.retrieve(refund.id)).status).toBe('succeeded');
    const events = standIn.emittedEvents().filter((e) => e.data.object.id === refund.id);
    expect(events.map((e) => e.type)).toEqual(['refund.created', 'refund.updated', 'charge.refund.updated']);
    expect(events[1]!.data.previous_attributes).toMatchObject({ status: 'pending' });
  });

  it('pm_card_refundFail: succeeded at first, later failed (expired_or_canceled_card); the charge gets the amount back', async () => {
    const pi = await paidWith('pm_card_refundFail');
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 4000 });
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 4000, refunded: true });
    expect(await rejection(stripe.refunds.create({ payment_intent: pi.id, amount: 100 }))).toMatchObject({ code: 'charge_already_refunded' });

    standIn.settleRefund(refund.id, 'failed');
    const failed = await stripe.refunds.retrieve(refund.id);
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(failed.failure_balance_transaction).toMatch(/^txn_/);
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 0, refunded: false });
    const types = standIn.emittedEvents().filter((e) => e.data.object.id === refund.id).map((e) => e.type);
    expect(types).toEqual(['refund.created', 'refund.updated', 'charge.refund.updated', 'refund.failed']);
    const failedEvent = standIn.emittedEvents().find((e) => e.type === 'refund.failed')!;
    expect(failedEvent.data).toMatchObject({ object: { status: 'failed' }, previous_attributes: { status: 'succeeded' } });
    // the money is back with the merchant: a new refund of the same amount is allowed
    expect((await stripe.refunds.create({ payment_intent: pi.id, amount: 4000 })).status).toBe('succeeded');
  });

  it('settles only the transitions Stripe makes; canceled (Dashboard) gives the amount back; over /__control/ too', async () => {
    const visa = await paidWith('pm_card_visa');
    const plain = await stripe.refunds.create({ payment_intent: visa.id, amount: 1000 });
    expect(() => standIn.settleRefund(plain.id, 'failed')).toThrow(/cannot become failed/);
    const pending = await stripe.refunds.create({ payment_intent: (await paidWith('pm_card_pendingRefund')).id, amount: 2500 });
    const res = await fetch(`${standIn.url}/__control/settle-refund`, { method: 'POST', body: JSON.stringify({ refund: pending.id, status: 'canceled' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: pending.id, status: 'canceled' });
    expect(await stripe.charges.retrieve(pending.charge as string)).toMatchObject({ amount_refunded: 0 });
    expect(() => standIn.settleRefund(pending.id, 'succeeded')).toThrow(/canceled refund/);
    const bad = await fetch(`${standIn.url}/__control/settle-refund`, { method: 'POST', body: JSON.stringify({ refund: 're_nope', status: 'failed' }) });
    expect(bad.status).toBe(400);
  });
});

describe('off-session confirmation (https://docs.stripe.com/payments/save-and-reuse, https://docs.stripe.com/testing#authentication-and-setup)', () => {
  const offSession = (customer: string, paymentMethod: string) =>
    stripe.paymentIntents.create({
      amount: 1200, currency: 'eur', customer, payment_method: paymentMethod, off_session: true, confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, metadata: { order_id: 'ord_1' },
    });

  it('a saved card that always requires authentication answers 402 authentication_required, the intent requires_payment_method', async () => {
    const { customer, pi: first } = await authorisedIntent(5000, 'pm_card_authenticationRequired');
    const saved = first.payment_method as string;
    expect((await stripe.paymentMethods.retrieve(saved)).card?.last4).toBe('3184');
    const err = await rejection(offSession(customer.id, saved));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, type: 'StripeCardError', code: 'authentication_required', decline_code: 'authentication_required' });
    const pi = err.payment_intent!;
    expect(pi).toMatchObject({
      object: 'payment_intent', status: 'requires_payment_method', payment_method: null, customer: customer.id, amount_received: 0,
      last_payment_error: { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', payment_method: { id: saved } },
    });
    expect(pi.last_payment_error?.charge).toBe(pi.latest_charge);
    expect(err.payment_method?.id).toBe(saved);
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({ status: 'requires_payment_method' });
    // on-session, the same card asks for 3-D Secure instead
    const onSession = await stripe.paymentIntents.confirm(pi.id, { payment_method: saved, return_url: 'laundry://stripe-redirect' });
    expect(onSession).toMatchObject({ status: 'requires_action', next_action: { type: 'use_stripe_sdk' } });
  });

  it('a declined card answers 402 card_declined with the intent and its last_payment_error', async () => {
    const customer = await stripe.customers.create({});
    const err = await rejection(offSession(customer.id, 'pm_card_chargeDeclinedInsufficientFunds'));
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds', doc_url: 'https://stripe.com/docs/error-codes/card-declined' });
    expect(err.payment_intent).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
    });
    expect(await stripe.charges.retrieve(err.payment_intent!.latest_charge as string)).toMatchObject({ status: 'failed', failure_code: 'card_declined', paid: false });
    expect(standIn.emittedEvents().map((e) => e.type)).toEqual(['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed']);
  });

  it('pm_card_chargeCustomerFail saves on the customer, then its off-session charge (a manual hold too) is declined', async () => {
    const { customer, pi: first } = await authorisedIntent(5000, 'pm_card_chargeCustomerFail');
    const saved = first.payment_method as string;
    expect((await stripe.paymentMethods.retrieve(saved)).card?.last4).toBe('0341');
    const err = await rejection(stripe.paymentIntents.create({
      amount: 1200, currency: 'eur', customer: customer.id, payment_method: saved, off_session: true, confirm: true, capture_method: 'manual',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    }));
    expect(err).toMatchObject({ statusCode: 402, type: 'StripeCardError', code: 'card_declined' });
    expect(err.payment_intent).toMatchObject({ status: 'requires_payment_method', capture_method: 'manual', amount_capturable: 0 });
  });

  it('a card charged once without being saved on a customer is refused the next time', async () => {
    const customer = await stripe.customers.create({});
    const once = await stripe.paymentIntents.create({
      amount: 1200, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    expect(once.status).toBe('succeeded');
    const err = await rejection(offSession(customer.id, once.payment_method as string));
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', code: 'payment_method_unexpected_state', param: 'payment_method' });
  });
});

describe('holds lapse (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method)', () => {
  it('past capture_before the hold is canceled (automatic, payment_intent.canceled) and capture is refused', async () => {
    const { pi } = await authorisedIntent();
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    const captureBefore = ch.payment_method_details!.card!.capture_before!;
    standIn.advanceTime(captureBefore - Math.floor(Date.now() / 1000) - 60);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    standIn.advanceTime(120);
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic', amount_capturable: 0 });
    const [expired, canceled] = standIn.emittedEvents().slice(-2);
    expect(expired).toMatchObject({ type: 'charge.expired', data: { object: { id: pi.latest_charge, captured: false } } });
    expect(canceled).toMatchObject({ type: 'payment_intent.canceled', data: { object: { id: pi.id, cancellation_reason: 'automatic' } } });
    const err = await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'late' }));
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, code: 'payment_intent_unexpected_state' });
  });
});

describe('PaymentSheet secrets', () => {
  it('CustomerSession for the mobile PaymentSheet: components.mobile_payment_element with its features, every component answered', async () => {
    const c = await stripe.customers.create({});
    const session = await stripe.customerSessions.create({
      customer: c.id,
      components: { mobile_payment_element: { enabled: true, features: { payment_method_save: 'enabled', payment_method_redisplay: 'enabled', payment_method_allow_redisplay_filters: ['always', 'limited'] } } },
    });
    expect(session.components).toMatchObject({
      mobile_payment_element: {
        enabled: true,
        features: {
          payment_method_save: 'enabled', payment_method_redisplay: 'enabled', payment_method_allow_redisplay_filters: ['always', 'limited'],
          payment_method_remove: null, payment_method_save_allow_redisplay_override: null,
        },
      },
      payment_element: { enabled: false, features: null },
      customer_sheet: { enabled: false, features: null },
      buy_button: { enabled: false },
      pricing_table: { enabled: false },
    });
    const unknown = await rejection(stripe.customerSessions.create({
      customer: c.id, components: { mobile_payment_element: { enabled: true, features: { payment_method_save_usage: 'off_session' } } } as never,
    }));
    expect(unknown).toMatchObject({ code: 'parameter_unknown', param: 'components[mobile_payment_element][features][payment_method_save_usage]' });
    const badValue = await rejection(stripe.customerSessions.create({
      customer: c.id, components: { mobile_payment_element: { enabled: true, features: { payment_method_save: 'on' as never } } },
    }));
    expect(badValue).toMatchObject({ type: 'StripeInvalidRequestError', param: 'components[mobile_payment_element][features][payment_method_save]' });
    expect(await rejection(stripe.customerSessions.create({ customer: c.id, components: { sheet: { enabled: true } } as never }))).toMatchObject({ code: 'parameter_unknown' });
  });

  it('ephemeral keys take the mobile SDK\'s API version from Stripe-Version, which must be an API version', async () => {
    const c = await stripe.customers.create({});
    const key = await stripe.ephemeralKeys.create({ customer: c.id }, { apiVersion: '2020-08-27' });
    expect(key.secret).toMatch(/^ek_test_/);
    expect(t.standIn.requests().at(-1)).toMatchObject({ path: '/v1/ephemeral_keys', stripeVersion: '2020-08-27', status: 200 });
    const bad = await rejection(stripe.ephemeralKeys.create({ customer: c.id }, { apiVersion: 'latest' }));
    expect(bad).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, message: 'Invalid Stripe API version: latest' });
  });
});
