/**
 * The transactional outbox, proved through every path that changes an order's status or needs
 * the customer (issue 17): each such event writes exactly ONE notification_outbox row, in the
 * statement that wrote its timeline entry (migration 0014's trigger on order_events; the payment
 * and refund paths name their type in `order_events.notify`). A change that fails (an illegal
 * transition, the loser of a race) writes none; a replayed request or webhook writes none twice;
 * synthetic customers get none.
 *
 * The status paths run on PostgreSQL and on PGlite (the trigger is PL/pgSQL: both must run it);
 * the payment paths on PostgreSQL with their own Stripe stand-in (they inject failures into it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { authorise, deliver, lapseHold, moveTo, orderRow, paymentRows, placeOrder, weigh } from '../journeys/payments.js';
import { emitted, deliverAll } from '../journeys/refund-steps.js';
import { expectProblem } from '../support/client.js';
import { actor, address, slot, zone } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { prepare } from '../setup/databases.js';
import { stripeControl } from '../support/stripe.js';

interface OutboxRow {
  type: string;
  dedupe_key: string;
  data: Record<string, unknown>;
  user_id: string;
  event_to: string | null;
  event_notify: string | null;
}

/** The order's outbox rows, oldest first, each with the timeline entry its dedupe key names. */
async function outbox(h: Harness, orderId: string): Promise<OutboxRow[]> {
  return h.sql<OutboxRow>(
    `SELECT n.type::text, n.dedupe_key, n.data, n.user_id::text, e.to_status::text AS event_to, e.notify::text AS event_notify
     FROM notification_outbox n
     LEFT JOIN order_events e ON n.dedupe_key = 'order_event:' || e.id
     WHERE n.order_id = $1 ORDER BY n.id`,
    [orderId],
  );
}
const typesOf = (rows: OutboxRow[]) => rows.map((r) => r.type);

/** Every row names a timeline entry of the order that caused it (the trigger's dedupe key). */
function expectFromTimeline(rows: OutboxRow[]) {
  for (const r of rows) {
    expect(r.dedupe_key).toMatch(/^order_event:\d+$/);
    expect(r.event_to ?? r.event_notify, `${r.type}: its timeline entry`).not.toBeNull();
  }
}

function statusPaths(name: string, app: () => TestApp) {
  describe(`${name}: every status change writes exactly one outbox row`, () => {
    it('pay on delivery: confirmed, picked up (with bag count), ready, out for delivery, delivered; processing and the weigh-in tell nobody', async () => {
      const h = app();
      const p = await placeOrder(h, { paymentMethod: 'on_delivery' });
      expect(p.order.status).toBe('confirmed');
      expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed']);
      await weigh(h, p.staff, p.order.id, 6000); // picked_up (2 bags) → processing → weigh-in
      expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up']);
      for (const to of ['ready', 'out_for_delivery', 'delivered']) await moveTo(h, p.staff, p.order.id, to);
      const rows = await outbox(h, p.order.id);
      expect(typesOf(rows)).toEqual(['order_confirmed', 'picked_up', 'ready', 'out_for_delivery', 'delivered']);
      expectFromTimeline(rows);
      expect(new Set(rows.map((r) => r.user_id))).toEqual(new Set([p.who.userId]));
      expect(rows[0]!.data).toEqual({ orderId: p.order.id, status: 'confirmed' });
      expect(rows[1]!.data).toEqual({ orderId: p.order.id, status: 'picked_up', bagCount: 2 });
      expect(rows[4]!.data).toEqual({ orderId: p.order.id, status: 'delivered' });
    });

    it('cancelled by the customer and by staff: one row each, saying by whom', async () => {
      const h = app();
      const mine = await placeOrder(h, { paymentMethod: 'on_delivery' });
      const res = await h.api.post(`/v1/orders/${mine.order.id}/cancel`, { reason: 'Changed my mind' }, { token: mine.who.token });
      expect(res.status, res.text).toBe(200);
      expect((await outbox(h, mine.order.id)).map((r) => [r.type, r.data.cancelledBy])).toEqual([
        ['order_confirmed', undefined],
        ['cancelled', 'customer'],
      ]);
      const theirs = await placeOrder(h, { paymentMethod: 'on_delivery' });
      await moveTo(h, theirs.staff, theirs.order.id, 'picked_up', { bagCount: 1 });
      await moveTo(h, theirs.staff, theirs.order.id, 'cancelled', { note: 'Items we cannot clean' });
      expect((await outbox(h, theirs.order.id)).map((r) => [r.type, r.data.cancelledBy ?? null])).toEqual([
        ['order_confirmed', null],
        ['picked_up', null],
        ['cancelled', 'staff'],
      ]);
      // Cancelling again fails: nothing more.
      expectProblem(await h.api.post(`/v1/orders/${mine.order.id}/cancel`, { reason: 'Again' }, { token: mine.who.token }), 409, 'order_not_cancellable');
      expect(await outbox(h, mine.order.id)).toHaveLength(2);
    });

    it('a change that fails writes none: an illegal transition, the losers of a race', async () => {
      const h = app();
      const p = await placeOrder(h, { paymentMethod: 'on_delivery' });
      const illegal = await h.api.post(`/v1/staff/orders/${p.order.id}/transitions`, { to: 'ready' }, { token: p.staff.token });
      expect(illegal.status).toBeGreaterThanOrEqual(400);
      expect(illegal.status).toBeLessThan(500);
      expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed']);
      const racing = await Promise.all(
        Array.from({ length: 4 }, () => h.api.post(`/v1/staff/orders/${p.order.id}/transitions`, { to: 'picked_up', bagCount: 3 }, { token: p.staff.token })),
      );
      expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of racing.filter((x) => x.status !== 200)) expect(r.status).toBe(409);
      expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up']);
    });

    it('a replayed order creation (same Idempotency-Key) writes none twice', async () => {
      const h = app();
      const washFold = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
      const z = await zone(h, { deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 });
      const who = await actor(h);
      const body = {
        items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }],
        addressId: await address(h, who.userId, z.postcode),
        pickupSlotId: (await slot(h, z.id, 'pickup', { startsInHours: 24 })).id,
        deliverySlotId: (await slot(h, z.id, 'delivery', { startsInHours: 80 })).id,
        paymentMethod: 'on_delivery',
      };
      const key = `notify-${crypto.randomUUID()}`;
      const first = await h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': key } });
      expect(first.status, first.text).toBe(201);
      // The same request with the same key, as a client retrying after a lost answer, twice at once.
      const replays = await Promise.all([1, 2].map(() => h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': key } })));
      for (const replay of replays) {
        expect(replay.status, replay.text).toBe(201);
        expect(replay.body.id).toBe(first.body.id);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
      }
      expect(typesOf(await outbox(h, first.body.id))).toEqual(['order_confirmed']);
    });

    it('synthetic customers (release probes) are never notified', async () => {
      const h = app();
      const p = await placeOrder(h, { paymentMethod: 'on_delivery' });
      await h.sql('UPDATE users SET synthetic = true WHERE id = $1', [p.who.userId]);
      await moveTo(h, p.staff, p.order.id, 'picked_up', { bagCount: 1 });
      await moveTo(h, p.staff, p.order.id, 'cancelled');
      expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed']);
      const [events] = await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM order_events WHERE order_id = $1', [p.order.id]);
      expect(events!.n).toBeGreaterThanOrEqual(3);
    });
  });
}

let pg: TestApp;
let lite: TestApp;
let stripe: StripeStandIn;
let paying: TestApp;
beforeAll(async () => {
  pg = await createTestApp();
  const database = await createPgliteDatabase('memory://');
  await prepare(database);
  lite = await createTestApp({ database });
  // The payment paths inject Stripe failures: their own stand-in, so no other file sees them.
  stripe = await startStripeStandIn();
  const app = await createTestApp({ env: { STRIPE_API_URL: stripe.url } });
  paying = { ...app, stripe: stripeControl(stripe.url) };
}, 120_000);
afterAll(async () => {
  await pg?.close();
  await lite?.close();
  await paying?.close();
  await stripe?.close();
});

statusPaths('PostgreSQL', () => pg);
statusPaths('PGlite', () => lite);

describe('card payments: the customer is told when they must act, and about refunds', () => {
  it('a card order is confirmed by the webhook: one order_confirmed, none while pending payment, none for a replayed event', async () => {
    const h = paying;
    const p = await placeOrder(h);
    expect(p.order.status).toBe('pending_payment');
    expect(await outbox(h, p.order.id)).toEqual([]);
    const sheet = await authorise(h, p.who, p.order.id);
    const rows = await outbox(h, p.order.id);
    expect(typesOf(rows)).toEqual(['order_confirmed']);
    expectFromTimeline(rows);
    // Stripe delivers at least once: the same event again changes nothing.
    const replay = await deliver(h, 'payment_intent.amount_capturable_updated', sheet.paymentIntentId);
    expect(replay.res.status).toBe(200);
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed']);
  });

  it('an overage above the approval threshold: exactly one payment_action_required (the approval, not the outstanding flag too)', async () => {
    const h = paying;
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    await weigh(h, p.staff, p.order.id, 14_000);
    expect(await orderRow(h, p.order.id)).toMatchObject({ approval_required: true, flags: ['payment_outstanding'] });
    const rows = await outbox(h, p.order.id);
    expect(typesOf(rows)).toEqual(['order_confirmed', 'picked_up', 'payment_action_required']);
    expect(rows[2]).toMatchObject({ event_notify: 'payment_action_required', data: { orderId: p.order.id } });
    // Approving charges it: nothing more to tell.
    const approved = await h.api.post(`/v1/orders/${p.order.id}/approve-overage`, undefined, { token: p.who.token });
    expect(approved.body).toMatchObject({ overage: 'charged' });
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up', 'payment_action_required']);
  });

  it('an overage within the threshold charged at once tells nobody to act', async () => {
    const h = paying;
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    await weigh(h, p.staff, p.order.id, 8000);
    expect((await paymentRows(h, p.order.id)).map((r) => [r.kind, r.status])).toEqual([['hold', 'succeeded'], ['overage', 'succeeded']]);
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up']);
  });

  it('a declined off-session overage leaves a balance: one payment_action_required', async () => {
    const h = paying;
    const p = await placeOrder(h);
    await authorise(h, p.who, p.order.id);
    await h.stripe.failNext({ mode: 'decline', method: 'POST', path: '/v1/payment_intents', declineCode: 'insufficient_funds' });
    await weigh(h, p.staff, p.order.id, 8000);
    expect((await orderRow(h, p.order.id)).flags).toEqual(expect.arrayContaining(['overage_failed', 'payment_outstanding']));
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up', 'payment_action_required']);
    // A capture retry does not charge again, nor tell again.
    await h.api.post(`/v1/staff/orders/${p.order.id}/capture`, undefined, { token: p.staff.token });
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up', 'payment_action_required']);
  });

  it('a lost hold whose off-session charge needs authentication: one payment_action_required', async () => {
    const h = paying;
    const p = await placeOrder(h);
    const sheet = await h.api.post(`/v1/orders/${p.order.id}/payment-sheet`, undefined, { token: p.who.token });
    const holdPi = sheet.body.paymentIntentId as string;
    await h.stripe.authorize(holdPi, { paymentMethod: 'pm_card_authenticationRequired' });
    expect((await deliver(h, 'payment_intent.amount_capturable_updated', holdPi)).res.body.outcome).toBe('applied');
    expect((await lapseHold(h, holdPi)).res.status).toBe(200);
    await weigh(h, p.staff, p.order.id, 8000);
    expect((await paymentRows(h, p.order.id)).find((r) => r.kind === 'balance')).toMatchObject({ status: 'failed' });
    expect((await orderRow(h, p.order.id)).flags).toContain('payment_outstanding');
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up', 'payment_action_required']);
  });

  it('refunds: one refund_issued per refund that succeeded, with its amount and currency; replayed and failed ones tell nobody', async () => {
    const h = paying;
    const p = await placeOrder(h, { grams: 12_000 });
    const sheet = await h.api.post(`/v1/orders/${p.order.id}/payment-sheet`, undefined, { token: p.who.token });
    const pi = sheet.body.paymentIntentId as string;
    await h.stripe.authorize(pi, { paymentMethod: 'pm_card_refundFail' });
    expect((await deliver(h, 'payment_intent.amount_capturable_updated', pi)).res.body.outcome).toBe('applied');
    await weigh(h, p.staff, p.order.id, 10_004);
    const boss = await p.admin();
    const mark = (await emitted(h, pi)).length;
    for (const amount of [1000, 500]) {
      const res = await h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount, reason: 'Stain' }, { token: boss.token });
      expect(res.status, res.text).toBe(201);
    }
    const refunds = (await outbox(h, p.order.id)).filter((r) => r.type === 'refund_issued');
    expect(refunds.map((r) => r.data)).toEqual([
      { orderId: p.order.id, amount: 1000, currency: 'USD' },
      { orderId: p.order.id, amount: 500, currency: 'USD' },
    ]);
    expectFromTimeline(refunds);
    // Stripe's events about them (what our answers already recorded), twice: nothing new.
    const made = await emitted(h, pi, mark);
    await deliverAll(h, made);
    await deliverAll(h, made);
    // The second refund fails at the bank later: recorded, flagged, and no notification for it.
    const [, second] = await h.sql<{ stripe_refund_id: string }>('SELECT stripe_refund_id FROM refunds WHERE order_id = $1 ORDER BY created_at', [p.order.id]);
    await h.stripe.settleRefund(second!.stripe_refund_id, 'failed');
    await deliverAll(h, await emitted(h, pi, mark + made.length));
    expect((await orderRow(h, p.order.id)).flags).toContain('refund_failed');
    expect(typesOf(await outbox(h, p.order.id))).toEqual(['order_confirmed', 'picked_up', 'refund_issued', 'refund_issued']);
  });
});
