/**
 * tools/stripe-stand-in/index.ts against the REAL stripe-node SDK (fetch HTTP client, as on Workers)
 * and its real webhook signature check.
 */
import Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { API_VERSION, header, rejection, useStandIn } from './stripe-stand-in-setup.js';

const SECRET = 'whsec_test_standin';
const t = useStandIn();
const { client, authorisedIntent } = t;
let stripe: Stripe;
let standIn: typeof t.standIn;
beforeEach(() => {
  ({ stripe, standIn } = t);
});

describe('objects and state machine', () => {
  it('creates and retrieves customers', async () => {
    const c = await stripe.customers.create({ email: 'ada@example.com', metadata: { user_id: 'u_1' } });
    expect(c).toMatchObject({ object: 'customer', email: 'ada@example.com', metadata: { user_id: 'u_1' }, livemode: false });
    expect(c.id).toMatch(/^cus_\w+$/);
    expect(Math.abs(c.created - Date.now() / 1000)).toBeLessThan(5);
    expect(await stripe.customers.retrieve(c.id)).toMatchObject({ id: c.id, email: 'ada@example.com' });
    const missing = await rejection(stripe.customers.retrieve('cus_nope'));
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('records requests with decoded forms, idempotency keys and the API version', async () => {
    await stripe.customers.create({ email: 'a@b.c', metadata: { order_id: 'o_1' } }, { idempotencyKey: 'cust-1' });
    await stripe.paymentIntents.list({ limit: 3, created: { gte: 100 } });
    const [post, get] = standIn.requests();
    expect(post).toMatchObject({
      method: 'POST', path: '/v1/customers', form: { email: 'a@b.c', metadata: { order_id: 'o_1' } },
      idempotencyKey: 'cust-1', stripeVersion: API_VERSION, status: 200, outcome: 'ok',
    });
    expect(get).toMatchObject({ method: 'GET', path: '/v1/payment_intents', form: { limit: '3', created: { gte: '100' } }, idempotencyKey: null });
  });

  it('manual capture: authorise, capture less than authorised, then a second capture is rejected', async () => {
    const { customer, pi } = await authorisedIntent(5000);
    expect(pi).toMatchObject({ status: 'requires_capture', amount_capturable: 5000, amount_received: 0, capture_method: 'manual' });
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_\\w+$`));
    expect(pi.latest_charge).toMatch(/^ch_/);
    expect(pi.payment_method).toMatch(/^pm_/);
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(ch).toMatchObject({ captured: false, amount: 5000, amount_captured: 0, payment_intent: pi.id, status: 'succeeded' });
    expect(ch.payment_method_details?.card?.capture_before).toBe(ch.created + 7 * 24 * 3600);
    // the sheet saved the card as the customer's default
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ invoice_settings: { default_payment_method: pi.payment_method } });

    const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 4200, expand: ['latest_charge'] });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 4200, amount_capturable: 0 });
    expect(captured.latest_charge).toMatchObject({ captured: true, amount_captured: 4200, amount_refunded: 0 });

    const again = await rejection(stripe.paymentIntents.capture(pi.id));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again.code).toBe('payment_intent_unexpected_state');
    expect(standIn.emittedEvents().map((e) => e.type)).toEqual([
      'payment_intent.created', 'charge.succeeded', 'payment_intent.amount_capturable_updated', 'charge.captured', 'payment_intent.succeeded',
    ]);
  });

  it('rejects a capture above the capturable amount and leaves the hold', async () => {
    const { pi } = await authorisedIntent(3000);
    const err = await rejection(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3001 }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ code: 'amount_too_large', param: 'amount_to_capture', statusCode: 400 });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
  });

  it('cancels from requires_payment_method and requires_capture, not from succeeded', async () => {
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur' });
    expect(await stripe.paymentIntents.cancel(open.id)).toMatchObject({ status: 'canceled', cancellation_reason: null });
    const { pi } = await authorisedIntent();
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned', amount_capturable: 0 });
    expect(canceled.canceled_at).toBeTypeOf('number');
    const auto = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, allowed_payment_method_types: ['card'] });
    expect(auto.status).toBe('succeeded');
    const err = await rejection(stripe.paymentIntents.cancel(auto.id));
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', code: 'payment_intent_unexpected_state' });
  });

  it('releases an authorisation not captured by capture_before', async () => {
    const { pi } = await authorisedIntent();
    standIn.advanceTime(7 * 24 * 3600 + 1);
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic' });
    expect(standIn.emittedEvents().at(-1)?.type).toBe('payment_intent.canceled');
  });

  it('off-session: confirms with the saved card, and declines with a card error', async () => {
    const { customer, pi: first } = await authorisedIntent();
    const pm = first.payment_method as string;
    // like Stripe, confirming an intent whose automatic payment methods may redirect needs a return_url
    const noReturn = await rejection(stripe.paymentIntents.create({
      amount: 700, currency: 'eur', customer: customer.id, payment_method: pm, off_session: true, confirm: true,
    }));
    expect(noReturn).toMatchObject({ type: 'StripeInvalidRequestError', param: 'return_url' });
    const extra = await stripe.paymentIntents.create({
      amount: 700, currency: 'eur', customer: customer.id, payment_method: pm, off_session: true, confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    expect(extra).toMatchObject({ status: 'succeeded', amount_received: 700, payment_method: pm });
    const held = await stripe.paymentIntents.create({
      amount: 700, currency: 'eur', customer: customer.id, payment_method: pm, off_session: true, confirm: true, capture_method: 'manual',
      return_url: 'laundry://stripe-redirect',
    });
    expect(held).toMatchObject({ status: 'requires_capture', amount_capturable: 700 });

    standIn.failNext({ mode: 'decline', declineCode: 'insufficient_funds' });
    const err = await rejection(stripe.paymentIntents.create({
      amount: 900, currency: 'eur', customer: customer.id, payment_method: pm, off_session: true, confirm: true,
      allowed_payment_method_types: ['card'],
    }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds' });
    const declined = err.payment_intent!;
    expect(declined).toMatchObject({ status: 'requires_payment_method', last_payment_error: { decline_code: 'insufficient_funds' } });
    expect((await stripe.paymentIntents.retrieve(declined.id)).status).toBe('requires_payment_method');
    expect(standIn.emittedEvents().some((e) => e.type === 'payment_intent.payment_failed' && e.data.object.id === declined.id)).toBe(true);

    const testCard = await rejection(stripe.paymentIntents.create({
      amount: 900, currency: 'eur', payment_method: 'pm_card_visa_chargeDeclined', confirm: true, allowed_payment_method_types: ['card'],
    }));
    expect(testCard).toMatchObject({ type: 'StripeCardError', decline_code: 'generic_decline' });
  });

  it('refunds up to the captured amount', async () => {
    const { pi } = await authorisedIntent(5000);
    await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 4000 });
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500, reason: 'requested_by_customer', metadata: { why: 'stain' } });
    expect(r1).toMatchObject({ object: 'refund', amount: 1500, status: 'succeeded', payment_intent: pi.id, charge: pi.latest_charge });
    expect(r1.id).toMatch(/^re_/);
    const tooMuch = await rejection(stripe.refunds.create({ payment_intent: pi.id, amount: 2501 }));
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMuch).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    const r2 = await stripe.refunds.create({ charge: pi.latest_charge as string });
    expect(r2.amount).toBe(2500);
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 4000, refunded: true });
    expect(await rejection(stripe.refunds.create({ payment_intent: pi.id, amount: 1 }))).toMatchObject({ code: 'charge_already_refunded' });
    const uncaptured = await authorisedIntent();
    expect(await rejection(stripe.refunds.create({ payment_intent: uncaptured.pi.id }))).toMatchObject({ type: 'StripeInvalidRequestError' });
  });

  it('lists payment intents by customer, newest first, with limit and created filters', async () => {
    const a = await stripe.customers.create({});
    const b = await stripe.customers.create({});
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await stripe.paymentIntents.create({ amount: 1000 + i, currency: 'eur', customer: a.id })).id);
    await stripe.paymentIntents.create({ amount: 999, currency: 'eur', customer: b.id });
    const page = await stripe.paymentIntents.list({ customer: a.id, limit: 2, created: { gte: Math.floor(Date.now() / 1000) - 60 } });
    expect(page).toMatchObject({ object: 'list', has_more: true, url: '/v1/payment_intents' });
    expect(page.data.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    const next = await stripe.paymentIntents.list({ customer: a.id, limit: 2, starting_after: ids[1] });
    expect(next.data.map((p) => p.id)).toEqual([ids[0]]);
    expect(next.has_more).toBe(false);
    expect((await stripe.paymentIntents.list({ customer: a.id, created: { gt: 4102444800 } })).data).toEqual([]);
  });

  it('rejects unknown parameters and bad API keys like Stripe', async () => {
    const unknown = await rejection(stripe.customers.create({ emial: 'x' } as Stripe.CustomerCreateParams));
    expect(unknown).toMatchObject({ type: 'StripeInvalidRequestError', code: 'parameter_unknown', param: 'emial' });
    expect(await rejection(client({}, 'sk_live_nope').customers.create({}))).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const res = await fetch(`${standIn.url}/v1/customers`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('idempotency', () => {
  it('replays the first answer for the same key and parameters', async () => {
    const params = { amount: 2000, currency: 'eur', metadata: { order_id: 'o_9' } };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'order-o_9-auth' });
    const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'order-o_9-auth' });
    expect(again).toEqual(first);
    expect(header(first, 'idempotent-replayed')).toBeNull();
    expect(header(again, 'idempotent-replayed')).toBe('true');
    expect(Object.keys(standIn.state().payment_intents)).toEqual([first.id]);
    // a key belongs to one API key
    const other = await client({}, 'sk_test_other').paymentIntents.create(params, { idempotencyKey: 'order-o_9-auth' });
    expect(other.id).not.toBe(first.id);
  });

  it('rejects the same key with other parameters', async () => {
    await stripe.paymentIntents.create({ amount: 2000, currency: 'eur' }, { idempotencyKey: 'k-diff' });
    const err = await rejection(stripe.paymentIntents.create({ amount: 2100, currency: 'eur' }, { idempotencyKey: 'k-diff' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(Object.keys(standIn.state().payment_intents)).toHaveLength(1);
  });

  it('replays stored errors too: a declined confirmation stays declined for its key', async () => {
    standIn.failNext({ mode: 'decline' });
    const params = { amount: 900, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, allowed_payment_method_types: ['card'] };
    const e1 = await rejection(stripe.paymentIntents.create(params, { idempotencyKey: 'k-decline' }));
    const e2 = await rejection(stripe.paymentIntents.create(params, { idempotencyKey: 'k-decline' }));
    expect([e1.type, e2.type]).toEqual(['StripeCardError', 'StripeCardError']);
    expect(e2.payment_intent?.id).toBe(e1.payment_intent?.id);
    expect(e2.headers?.['idempotent-replayed']).toBe('true');
  });
});

describe('failure injection', () => {
  it('server_error: StripeAPIError, nothing applied, and the 500 is the key\'s answer: a retry with the same key gets it again', async () => {
    const { pi } = await authorisedIntent();
    standIn.failNext({ mode: 'server_error', path: '/v1/payment_intents/:id/capture' });
    const err = await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'cap-1' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err.statusCode).toBe(500);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    const again = await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'cap-1' }));
    expect(again).toMatchObject({ type: 'StripeAPIError', statusCode: 500 });
    expect(again.headers?.['idempotent-replayed']).toBe('true');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    // a new key is a new request
    expect((await stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'cap-2' })).status).toBe('succeeded');
  });

  it('server_error with stored: false: a 500 the idempotency layer never saw, so the same key executes afresh', async () => {
    const { pi } = await authorisedIntent();
    standIn.failNext({ mode: 'server_error', path: '/v1/payment_intents/:id/capture', stored: false });
    expect(await rejection(stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'cap-1' }))).toMatchObject({ statusCode: 500 });
    const ok = await stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'cap-1' });
    expect(ok.status).toBe('succeeded');
    expect(header(ok, 'idempotent-replayed')).toBeNull();
  });

  it('timeout: the SDK times out with StripeConnectionError and nothing is applied', async () => {
    const { pi } = await authorisedIntent();
    standIn.failNext({ mode: 'timeout', path: /\/capture$/, ms: 5_000 });
    const started = Date.now();
    const err = await rejection(client({ timeout: 200 }).paymentIntents.capture(pi.id));
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(err.message).toMatch(/timeout/i);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    expect(standIn.requests().find((r) => r.path.endsWith('/capture'))).toMatchObject({ outcome: 'timeout', status: null });
  });

  it('disconnect: the connection drops without an answer', async () => {
    standIn.failNext({ mode: 'disconnect', method: 'POST' });
    expect(await rejection(stripe.customers.create({}))).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(standIn.state().customers).toEqual({});
  });

  it('applyThenFail: Stripe did it but the client never heard; a retry with the same key gets the stored answer', async () => {
    const { pi } = await authorisedIntent();
    standIn.failNext({ mode: 'timeout', path: '/v1/payment_intents/:id/capture', ms: 5_000, applyThenFail: true });
    const lost = await rejection(client({ timeout: 200 }).paymentIntents.capture(pi.id, { amount_to_capture: 3000 }, { idempotencyKey: 'cap-x' }));
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(standIn.state().payment_intents[pi.id]).toMatchObject({ status: 'succeeded', amount_received: 3000 });
    const retried = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3000 }, { idempotencyKey: 'cap-x' });
    expect(retried).toMatchObject({ status: 'succeeded', amount_received: 3000 });
    expect(header(retried, 'idempotent-replayed')).toBe('true');
    expect(standIn.emittedEvents().filter((e) => e.type === 'charge.captured')).toHaveLength(1);

    // a 500 after the effect: Stripe keeps the 500 for the key, so the SDK's own retry (same
    // auto-generated key) gets the 500 again; only a lookup finds the refund that was made
    standIn.failNext({ mode: 'server_error', path: '/v1/refunds', applyThenFail: true });
    const err = await rejection(client({ maxNetworkRetries: 1 }).refunds.create({ payment_intent: pi.id, amount: 1000 }));
    expect(err).toMatchObject({ type: 'StripeAPIError', statusCode: 500 });
    expect(standIn.requests().filter((r) => r.path === '/v1/refunds').map((r) => r.outcome)).toEqual(['server_error', 'replayed']);
    const made = await stripe.refunds.list({ payment_intent: pi.id });
    expect(made.data.map((r) => r.amount)).toEqual([1000]);
  });
});

describe('mobile payment sheet secrets', () => {
  it('ephemeral keys need an API version', async () => {
    const c = await stripe.customers.create({});
    await expect(stripe.ephemeralKeys.create({ customer: c.id })).rejects.toThrow(/apiVersion/);
    const key = await stripe.ephemeralKeys.create({ customer: c.id }, { apiVersion: API_VERSION });
    expect(key).toMatchObject({ object: 'ephemeral_key', associated_objects: [{ id: c.id, type: 'customer' }] });
    expect(key.id).toMatch(/^ephkey_/);
    expect(key.secret).toMatch(/^ek_test_/);
    const raw = await fetch(`${standIn.url}/v1/ephemeral_keys`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_raw', 'content-type': 'application/x-www-form-urlencoded' },
      body: `customer=${c.id}`,
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringMatching(/Stripe-Version/) } });
  });

  it('customer sessions return a client secret', async () => {
    const c = await stripe.customers.create({});
    const session = await stripe.customerSessions.create({
      customer: c.id,
      components: { mobile_payment_element: { enabled: true, features: { payment_method_save: 'enabled' } } },
    });
    expect(session).toMatchObject({ object: 'customer_session', customer: c.id, components: { mobile_payment_element: { enabled: true } } });
    expect(session.client_secret).toMatch(/^cuss_secret_/);
    expect(await rejection(stripe.customerSessions.create({ customer: c.id, components: {} }))).toMatchObject({ type: 'StripeInvalidRequestError' });
  });
});

describe('webhook events', () => {
  it('signs events with the real scheme: they verify with the right secret only', async () => {
    const { pi } = await authorisedIntent();
    const event = standIn.event('payment_intent.amount_capturable_updated', pi.id);
    expect(event).toMatchObject({
      object: 'event', api_version: API_VERSION, livemode: false, pending_webhooks: 1,
      request: { id: null, idempotency_key: null }, data: { object: { id: pi.id, status: 'requires_capture', amount_capturable: 5000 } },
    });
    expect(event.id).toMatch(/^evt_/);
    const { payload, header: sig } = standIn.signedEvent(event, SECRET);
    const crypto = Stripe.createSubtleCryptoProvider();
    const verified = await stripe.webhooks.constructEventAsync(payload, sig, SECRET, undefined, crypto);
    expect(verified.id).toBe(event.id);
    await expect(stripe.webhooks.constructEventAsync(payload, sig, 'whsec_wrong', undefined, crypto)).rejects.toBeInstanceOf(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('builds charge, refund and dispute events from current state, and records emitted snapshots', async () => {
    const { pi } = await authorisedIntent(5000);
    await stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: 'cap-evt' });
    await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    expect(standIn.event('charge.refunded', pi.id).data.object).toMatchObject({ object: 'charge', amount_refunded: 500 });
    const dispute = standIn.dispute(pi.latest_charge as string);
    expect(standIn.event('charge.dispute.created', pi.latest_charge as string).data.object).toMatchObject({ id: dispute.id, object: 'dispute' });
    const emitted = standIn.emittedEvents();
    const capturable = emitted.find((e) => e.type === 'payment_intent.amount_capturable_updated')!;
    expect(capturable.data.object).toMatchObject({ status: 'requires_capture' }); // snapshot at the time
    expect(emitted.find((e) => e.type === 'payment_intent.succeeded')?.request).toMatchObject({ idempotency_key: 'cap-evt' });
    expect(emitted.map((e) => e.type)).toEqual(expect.arrayContaining(['refund.created', 'charge.refunded', 'charge.dispute.created']));
  });
});

describe('/__control over HTTP', () => {
  const control = async (name: string, body?: unknown) => {
    const res = await fetch(`${standIn.url}/__control/${name}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('drives failures, authorisation and signed events', async () => {
    const c = await stripe.customers.create({});
    const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur', customer: c.id, capture_method: 'manual' });
    expect((await control('authorize', { payment_intent: pi.id, amount: 2000 })).body).toMatchObject({ status: 'requires_capture', amount_capturable: 2000 });

    expect((await control('fail-next', { mode: 'server_error', pathRegex: 'capture$' })).status).toBe(200);
    expect(await rejection(stripe.paymentIntents.capture(pi.id))).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect((await stripe.paymentIntents.capture(pi.id)).amount_received).toBe(2000);

    const signed = (await control('signed-event', { type: 'payment_intent.succeeded', id: pi.id, secret: SECRET })).body;
    const event = await stripe.webhooks.constructEventAsync(signed.payload, signed.header, SECRET, undefined, Stripe.createSubtleCryptoProvider());
    expect(event).toMatchObject({ type: 'payment_intent.succeeded', data: { object: { id: pi.id, status: 'succeeded' } } });

    expect((await control('state')).body.payment_intents[pi.id].status).toBe('succeeded');
    expect((await control('emitted-events')).body.map((e: { type: string }) => e.type)).toContain('charge.captured');
    expect((await control('requests')).body.map((r: { outcome: string }) => r.outcome)).toContain('server_error');
    expect((await control('fail-next', { mode: 'explode' })).status).toBe(400);
    expect((await control('reset', {})).status).toBe(200);
    expect((await control('state')).body.payment_intents).toEqual({});
  });
});

it('refuses bodies over 1 MiB', async () => {
  const res = await fetch(`${standIn.url}/v1/customers`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_test_x', 'content-type': 'application/x-www-form-urlencoded' },
    body: `description=${'x'.repeat(1024 * 1024 + 10)}`,
  }).catch((e: unknown) => e);
  if (res instanceof Response) expect(res.status).toBe(413);
  else expect(res).toBeInstanceOf(Error); // the server may cut the upload short
  expect(standIn.state().customers).toEqual({});
});
