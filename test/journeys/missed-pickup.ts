import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { slotReserved } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { authorise, HOLD, moveTo, placeOrder } from './payments.js';

const paymentsOf = (h: Harness, orderId: string) =>
  h.sql<{ kind: string; status: string; amount: number; amount_captured: number }>(
    'SELECT kind::text, status::text, amount, amount_captured FROM payments WHERE order_id = $1 ORDER BY created_at', [orderId]);

/** A confirmed order (a card one authorised at the payment sheet) whose zone charges `fee` for a missed pickup. */
async function confirmed(h: Harness, paymentMethod: 'card' | 'on_delivery', fee: number) {
  const placed = await placeOrder(h, { paymentMethod });
  await h.sql('UPDATE zones SET missed_pickup_fee = $2 WHERE id = $1', [placed.order.zoneId, fee]);
  if (paymentMethod === 'card') await authorise(h, placed.who, placed.order.id);
  return placed;
}

/** Missed pickups: staff mark them, capacity comes back, the zone's fee is charged, the customer is told. */
export function missedPickupJourney(harness: () => Harness) {
  describe('missed pickup', () => {
    it('card order: the hold is released, the fee charged on the saved card, both slots freed, the customer told; terminal', async () => {
      const h = harness();
      const { who, staff, order } = await confirmed(h, 'card', 500);
      const res = await moveTo(h, staff, order.id, 'pickup_missed', { reason: 'customer_absent', note: 'Rang twice, no answer' });
      expect(res).toMatchObject({ status: 'pickup_missed', balance: { due: 500 } });
      expect(res.timeline.at(-1)).toMatchObject({
        type: 'status_changed', from: 'confirmed', to: 'pickup_missed', note: 'Rang twice, no answer',
        actor: { role: 'staff', userId: staff.userId }, evidence: { reason: 'customer_absent', fee: 500, amount: 500 },
      });
      expect(await slotReserved(h, order.pickupSlot.id)).toBe(0);
      expect(await slotReserved(h, order.deliverySlot.id)).toBe(0);
      expect(await paymentsOf(h, order.id)).toEqual([
        expect.objectContaining({ kind: 'hold', status: 'canceled', amount: HOLD, amount_captured: 0 }),
        expect.objectContaining({ kind: 'balance', status: 'succeeded', amount: 500, amount_captured: 500 }),
      ]);
      const charges = (await h.stripe.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.form.metadata?.order_id === order.id && r.form.metadata?.kind === 'balance');
      expect(charges.map((r) => [r.form.amount, r.form.off_session])).toEqual([['500', 'true']]);
      const seen = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body;
      expect(seen).toMatchObject({
        status: 'pickup_missed',
        flags: [],
        balance: { due: 500, paid: 500, outstanding: 0 },
        missedPickup: { reason: 'customer_absent', note: 'Rang twice, no answer', fee: 500, at: res.timeline.at(-1).at },
      });
      const told = await h.sql<{ type: string; data: Record<string, unknown> }>(`SELECT type::text, data FROM notification_outbox WHERE order_id = $1 AND type = 'pickup_missed'`, [order.id]);
      expect(told).toEqual([{ type: 'pickup_missed', data: expect.objectContaining({ orderId: order.id, amount: 500, currency: 'USD' }) }]);
      // Terminal: no step out of it, for staff or the customer.
      expectProblem(await h.api.post(`/v1/staff/orders/${order.id}/transitions`, { to: 'picked_up', bagCount: 1 }, { token: staff.token }), 409, 'illegal_transition');
      expectProblem(await h.api.post(`/v1/staff/orders/${order.id}/transitions`, { to: 'cancelled' }, { token: staff.token }), 409, 'illegal_transition');
      expectProblem(await h.api.post(`/v1/orders/${order.id}/cancel`, {}, { token: who.token }), 409, 'order_not_cancellable');
    });

    it('a fee of 0 releases the hold and charges nothing', async () => {
      const h = harness();
      const { staff, order } = await confirmed(h, 'card', 0);
      const res = await moveTo(h, staff, order.id, 'pickup_missed', { reason: 'no_access' });
      expect(res.balance).toMatchObject({ due: 0, outstanding: 0 });
      expect(await paymentsOf(h, order.id)).toEqual([expect.objectContaining({ kind: 'hold', status: 'canceled', amount_captured: 0 })]);
    });

    it('pay on delivery: the fee is the outstanding balance', async () => {
      const h = harness();
      const { who, staff, order } = await confirmed(h, 'on_delivery', 700);
      await moveTo(h, staff, order.id, 'pickup_missed', { reason: 'items_not_ready' });
      const seen = (await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body;
      expect(seen).toMatchObject({ status: 'pickup_missed', balance: { due: 700, paid: 0, outstanding: 700 }, missedPickup: { reason: 'items_not_ready', note: null, fee: 700 } });
      expect(await paymentsOf(h, order.id)).toEqual([]);
    });

    it('needs a reason, only from confirmed, only by staff; nothing changes on a refusal', async () => {
      const h = harness();
      const { who, staff, order } = await confirmed(h, 'on_delivery', 700);
      const post = (body: Record<string, unknown>, token = staff.token) => h.api.post(`/v1/staff/orders/${order.id}/transitions`, body, { token });
      expectProblem(await post({ to: 'pickup_missed' }), 422, 'evidence_required');
      expectProblem(await post({ to: 'pickup_missed', reason: 'asleep' }), 422, 'validation_failed');
      expectProblem(await post({ to: 'picked_up', bagCount: 1, reason: 'other' }), 422, 'invalid_evidence');
      expectProblem(await post({ to: 'pickup_missed', reason: 'other' }, who.token), 403, 'forbidden');
      expect(await slotReserved(h, order.pickupSlot.id)).toBe(1);
      expect((await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body).toMatchObject({ status: 'confirmed', missedPickup: null });
      await moveTo(h, staff, order.id, 'picked_up', { bagCount: 2 });
      expectProblem(await post({ to: 'pickup_missed', reason: 'other' }), 409, 'illegal_transition');
    });

    it('admins set the zone fee; an amount Stripe cannot charge is refused', async () => {
      const h = harness();
      const { admin, order } = await confirmed(h, 'on_delivery', 0);
      const token = (await admin()).token;
      const ok = await h.api.patch(`/v1/admin/zones/${order.zoneId}`, { missedPickupFee: 1000 }, { token });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.missedPickupFee).toBe(1000);
      expectProblem(await h.api.patch(`/v1/admin/zones/${order.zoneId}`, { missedPickupFee: 20 }, { token }), 422, 'validation_failed');
      expectProblem(await h.api.patch(`/v1/admin/zones/${order.zoneId}`, { missedPickupFee: -1 }, { token }), 422, 'validation_failed');
    });
  });
}
