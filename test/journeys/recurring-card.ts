/**
 * Recurring card occurrences (issue 19): the job holds each card order off-session on the card
 * the customer saved with an earlier PaymentSheet hold; a decline, an authentication request or
 * no saved card leaves the order `pending_payment` for the PaymentSheet and tells the customer,
 * once; a date with no order tells the customer, once; two runs at once make one order and one
 * PaymentIntent per (schedule, date). Real Stripe SDK against the stand-in, webhooks signed with
 * the real scheme. Runs on Node (test/node/recurring-card.test.ts) and inside workerd
 * (test/workers/recurring.test.ts), each giving `runJob` (runRecurringJob on its runtime's deps).
 */
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/recurrence.js';
import type { RecurringReport } from '../../src/modules/recurring/job.js';
import { actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { TEST_STRIPE_SECRET_KEY } from '../support/stripe.js';
import { deliver, orderRow, paymentRows, stripeIntent, stripeRequests, weigh } from './payments.js';
import { ordersOf, recurringWorld, slotAt } from './recurring.js';

/** Runs the recurring part of the scheduled job `daysAhead` local days ahead. */
export type RunJob = (daysAhead: number) => Promise<RecurringReport>;

/** A card schedule whose first two dates (tomorrow, a week later) have windows. */
async function cardWorld(t: Harness, opts: { capacity?: number; reserved?: number; morningFull?: boolean } = {}) {
  const w = await recurringWorld(t, opts);
  const second = addDays(w.anchor, 7);
  await slotAt(t, w.z.id, 'pickup', second, '18:00');
  await slotAt(t, w.z.id, 'delivery', addDays(second, 4), '18:00');
  const created = await w.create({ paymentMethod: 'card' });
  expect(created.status, created.text).toBe(201);
  return { ...w, second, scheduleId: created.body.id as string };
}

const byDate = async (t: Harness, userId: string) =>
  t.sql<{ id: string; status: string; date: string }>(
    `SELECT o.id, o.status::text AS status, to_char(ro.date, 'YYYY-MM-DD') AS date
     FROM orders o JOIN recurring_occurrences ro ON ro.order_id = o.id WHERE o.user_id = $1 ORDER BY ro.date`, [userId]);

/** The customer's notifications (not the account emails registration sends). */
const outbox = async (t: Harness, userId: string) =>
  t.sql<{ type: string; order_id: string | null; data: Record<string, unknown> }>(
    `SELECT type::text AS type, order_id, data FROM notification_outbox
     WHERE user_id = $1 AND type NOT IN ('password_reset', 'email_verification', 'email_changed') ORDER BY id`, [userId]);

/** The customer's first card occurrence, paid on the PaymentSheet with `card`: the card saved for the next ones. */
async function firstPaidWith(t: Harness, w: Awaited<ReturnType<typeof cardWorld>>, runJob: RunJob, card?: string) {
  const report = await runJob(2);
  expect(report.failed).toEqual([]);
  expect(report.paymentNeeded).toContainEqual({ scheduleId: w.scheduleId, date: w.anchor, orderId: expect.any(String), reason: 'no_saved_card' });
  const [first] = await byDate(t, w.who.userId);
  expect(first).toMatchObject({ date: w.anchor, status: 'pending_payment' });
  const sheet = await t.api.post(`/v1/orders/${first!.id}/payment-sheet`, undefined, { token: w.who.token });
  expect(sheet.status, sheet.text).toBe(200);
  await t.stripe.authorize(sheet.body.paymentIntentId, card ? { paymentMethod: card } : {});
  const { res } = await deliver(t, 'payment_intent.amount_capturable_updated', sheet.body.paymentIntentId);
  expect(res.body, res.text).toEqual({ received: true, outcome: 'applied' });
  expect((await orderRow(t, first!.id)).status).toBe('confirmed');
  return { first: first!, savedCard: (await stripeIntent(t, sheet.body.paymentIntentId)).intent.payment_method as string, holdAmount: sheet.body.amount as number };
}

export function recurringCardJourney(harness: () => Harness, runJob: RunJob) {
  describe('recurring card occurrences', () => {
    it('no saved card: pending_payment and told once; later dates are held off-session on the saved card, confirmed, captured at weigh-in', async () => {
      const t = harness();
      const w = await cardWorld(t);
      const { first, savedCard, holdAmount } = await firstPaidWith(t, w, runJob);
      // Told once that the first order needs paying, however often the job runs.
      await runJob(2);
      expect((await outbox(t, w.who.userId)).filter((n) => n.type === 'payment_action_required')).toEqual([
        expect.objectContaining({ order_id: first.id }),
      ]);

      const report = await runJob(9);
      expect(report.failed).toEqual([]);
      const second = (await byDate(t, w.who.userId)).find((o) => o.date === w.second)!;
      expect(second.status).toBe('confirmed');
      const [hold] = await paymentRows(t, second.id);
      expect(await paymentRows(t, second.id)).toHaveLength(1);
      // The same items, so the same estimate plus buffer as the PaymentSheet held for the first date.
      expect(hold).toMatchObject({ kind: 'hold', method: 'card', status: 'requires_capture', amount: holdAmount, capturable: holdAmount });
      const { intent } = await stripeIntent(t, hold!.pi!);
      expect(intent).toMatchObject({
        status: 'requires_capture', capture_method: 'manual', payment_method: savedCard, amount: hold!.amount,
        metadata: { order_id: second.id, kind: 'hold', recurring_pickup_id: w.scheduleId },
      });
      const create = (await stripeRequests(t, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === second.id);
      expect(create).toHaveLength(1);
      expect(create[0]).toMatchObject({ idempotencyKey: `hold-${second.id}`, form: { off_session: 'true', confirm: 'true', payment_method: savedCard } });
      const told = (await outbox(t, w.who.userId)).filter((n) => n.order_id === second.id).map((n) => n.type);
      expect(told).toEqual(['order_confirmed']);

      // Stripe's webhook for the same authorisation changes nothing more.
      const { res } = await deliver(t, 'payment_intent.amount_capturable_updated', hold!.pi!);
      expect(res.status, res.text).toBe(200);
      expect((await paymentRows(t, second.id))[0]).toMatchObject({ status: 'requires_capture' });
      expect((await outbox(t, w.who.userId)).filter((n) => n.order_id === second.id)).toHaveLength(1);

      // The weigh-in captures the off-session hold as it captures a PaymentSheet hold.
      const staff = await actor(t, 'staff');
      await weigh(t, staff, second.id, 6000);
      expect((await paymentRows(t, second.id))[0]).toMatchObject({ kind: 'hold', status: 'succeeded' });
      expect((await stripeIntent(t, hold!.pi!)).captures).toBe(1);
    });

    for (const [card, reason] of [['pm_card_chargeCustomerFail', 'generic_decline'], ['pm_card_authenticationRequired', 'authentication_required']] as const) {
      it(`a saved card that fails off-session (${reason}): pending_payment, told once, and the sheet completes the same PaymentIntent`, async () => {
        const t = harness();
        const w = await cardWorld(t);
        await firstPaidWith(t, w, runJob, card);
        const report = await runJob(9);
        expect(report.failed).toEqual([]);
        const second = (await byDate(t, w.who.userId)).find((o) => o.date === w.second)!;
        expect(report.paymentNeeded).toContainEqual({ scheduleId: w.scheduleId, date: w.second, orderId: second.id, reason });
        expect(second.status).toBe('pending_payment');
        const rows = await paymentRows(t, second.id);
        expect(rows).toEqual([expect.objectContaining({ kind: 'hold', status: 'failed', pi: expect.stringMatching(/^pi_/) })]);
        expect((await stripeIntent(t, rows[0]!.pi!)).intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: reason === 'authentication_required' ? reason : 'card_declined' } });
        await runJob(9);
        const told = (await outbox(t, w.who.userId)).filter((n) => n.order_id === second.id);
        expect(told).toEqual([expect.objectContaining({ type: 'payment_action_required' })]);
        expect((await stripeRequests(t, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === second.id)).toHaveLength(1);

        // The customer pays on-session: the same PaymentIntent, then Stripe's webhook confirms the order.
        const sheet = await t.api.post(`/v1/orders/${second.id}/payment-sheet`, undefined, { token: w.who.token });
        expect(sheet.status, sheet.text).toBe(200);
        expect(sheet.body).toMatchObject({ purpose: 'hold', paymentIntentId: rows[0]!.pi });
        await t.stripe.authorize(rows[0]!.pi!, { paymentMethod: 'pm_card_visa' });
        const { res } = await deliver(t, 'payment_intent.amount_capturable_updated', rows[0]!.pi!);
        expect(res.body, res.text).toEqual({ received: true, outcome: 'applied' });
        expect((await orderRow(t, second.id)).status).toBe('confirmed');
      });
    }

    it('a saved card the customer removed (detached at Stripe): Stripe refuses it, the order waits for the sheet, told once, no retry', async () => {
      const t = harness();
      const w = await cardWorld(t);
      const { savedCard } = await firstPaidWith(t, w, runJob);
      const detached = await fetch(`${t.stripe.url}/v1/payment_methods/${savedCard}/detach`, {
        method: 'POST', headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '',
      });
      expect(detached.status).toBe(200);
      const report = await runJob(9);
      expect(report.failed).toEqual([]);
      const second = (await byDate(t, w.who.userId)).find((o) => o.date === w.second)!;
      expect(report.paymentNeeded).toContainEqual({ scheduleId: w.scheduleId, date: w.second, orderId: second.id, reason: 'payment_method_unexpected_state' });
      expect(second.status).toBe('pending_payment');
      expect(await paymentRows(t, second.id)).toEqual([]);
      await runJob(9);
      expect((await outbox(t, w.who.userId)).filter((n) => n.order_id === second.id).map((n) => n.type)).toEqual(['payment_action_required']);
      // The customer pays with a new card on the sheet, as for any app order.
      const sheet = await t.api.post(`/v1/orders/${second.id}/payment-sheet`, undefined, { token: w.who.token });
      expect(sheet.status, sheet.text).toBe(200);
      expect(sheet.body.purpose).toBe('hold');
    });

    it('two runs at once: one order and one PaymentIntent per (schedule, date)', async () => {
      const t = harness();
      const w = await cardWorld(t);
      await firstPaidWith(t, w, runJob);
      const reports = await Promise.all([runJob(9), runJob(9)]);
      expect(reports.flatMap((r) => r.failed)).toEqual([]);
      const orders = await byDate(t, w.who.userId);
      expect(orders.map((o) => [o.date, o.status])).toEqual([[w.anchor, 'confirmed'], [w.second, 'confirmed']]);
      expect(await ordersOf(t, w.who.userId)).toHaveLength(2);
      const intents = Object.values((await t.stripe.state()).payment_intents as Record<string, { metadata: Record<string, string> }>)
        .filter((pi) => pi.metadata.order_id === orders[1]!.id);
      expect(intents).toHaveLength(1);
      expect(await paymentRows(t, orders[1]!.id)).toEqual([expect.objectContaining({ status: 'requires_capture', pi: (intents[0] as unknown as { id: string }).id })]);
    });

    it('a run that died between Stripe’s hold and recording it: the takeover adopts that PaymentIntent, never a second', async () => {
      const t = harness();
      const w = await cardWorld(t);
      await firstPaidWith(t, w, runJob);
      await runJob(9);
      const second = (await byDate(t, w.who.userId)).find((o) => o.date === w.second)!;
      const [made] = await paymentRows(t, second.id);
      // As if the run had died after Stripe authorised the hold and before anything of it was recorded.
      await t.sql(
        `WITH p AS (DELETE FROM payments WHERE order_id = $1 RETURNING 1),
              o AS (UPDATE orders SET status = 'pending_payment' WHERE id = $1 RETURNING 1)
         UPDATE recurring_occurrences SET status = 'creating', order_id = NULL, claimed_at = now() - interval '20 minutes'
         WHERE schedule_id = $2 AND date = $3::date`, [second.id, w.scheduleId, w.second]);
      const report = await runJob(9);
      expect(report.failed).toEqual([]);
      expect(report.paymentNeeded.filter((p) => p.orderId === second.id)).toEqual([]);
      expect((await byDate(t, w.who.userId)).find((o) => o.date === w.second)).toEqual({ ...second, status: 'confirmed' });
      expect(await paymentRows(t, second.id)).toEqual([expect.objectContaining({ status: 'requires_capture', pi: made!.pi })]);
      const creates = (await stripeRequests(t, 'POST', '/v1/payment_intents')).filter((r) => r.form.metadata?.order_id === second.id);
      expect(creates).toHaveLength(1);
    });

    it('a date that cannot be booked tells the customer once, with the reason', async () => {
      const t = harness();
      const w = await recurringWorld(t, { capacity: 1, reserved: 1, morningFull: true });
      const s = await w.create();
      expect(s.status, s.text).toBe(201);
      await Promise.all([runJob(2), runJob(2)]);
      await runJob(2);
      expect(await ordersOf(t, w.who.userId)).toHaveLength(0);
      expect(await outbox(t, w.who.userId)).toEqual([
        { type: 'recurring_needs_attention', order_id: null, data: { scheduleId: s.body.id, date: w.anchor, reason: 'slot_unavailable' } },
      ]);
      // In the app's inbox, worded from the date and the reason, with no order.
      const inbox = await t.api.get('/v1/me/notifications', { token: w.who.token });
      expect(inbox.status, inbox.text).toBe(200);
      expect(inbox.body.data).toEqual([expect.objectContaining({ type: 'recurring_needs_attention', orderId: null, title: 'Pickup not booked' })]);
      expect(inbox.body.data[0].body).toContain('no window was free that day');
    });
  });
}
