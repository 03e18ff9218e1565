import { describe, expect, it } from 'vitest';
import { expectProblem, type ApiResponse } from '../support/client.js';
import { actor, address, slot, slotReserved, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

const HOURS_TO_DELIVERY = 24 + 2 + 48 + 4; // pickup window + wash & fold turnaround + margin

/** Customer order journeys; the concurrency cases run on the PostgreSQL server in CI. */
export function ordersJourney(harness: () => Harness) {
  let washFold: { id: string; addOns: Array<{ id: string; slug: string }> } | undefined;
  const catalog = async () => {
    washFold ??= (await harness().api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    return washFold!;
  };

  /** A served customer with an address and a fresh pickup and delivery slot. */
  const setup = async (opts: { pickupCapacity?: number; deliveryCapacity?: number } = {}) => {
    const h = harness();
    const z = await zone(h, { deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 });
    const who = await actor(h);
    const addressId = await address(h, who.userId, z.postcode);
    const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24, capacity: opts.pickupCapacity ?? 10 });
    const delivery = await slot(h, z.id, 'delivery', { startsInHours: HOURS_TO_DELIVERY, capacity: opts.deliveryCapacity ?? 10 });
    const svc = await catalog();
    const hypo = svc.addOns.find((a) => a.slug === 'hypoallergenic')!;
    const body = {
      items: [{ serviceId: svc.id, estimatedWeightGrams: 6000, addOnIds: [hypo.id] }],
      addressId,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: 'card',
      notes: 'Ring twice',
    };
    return { h, z, who, addressId, pickup, delivery, body };
  };

  const place = (h: Harness, who: Actor, body: unknown, key = `k-${crypto.randomUUID()}`) =>
    h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': key } });

  const orderCount = async (h: Harness, userId: string) =>
    Number((await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [userId]))[0]!.n);

  describe('orders', () => {
    it('prices on the server, reserves both slots and records the first timeline entry', async () => {
      const { h, who, pickup, delivery, body } = await setup();
      const res = await place(h, who, body);
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({
        status: 'pending_payment',
        paymentMethod: 'card',
        currency: 'USD',
        express: false,
        pickupSlot: { id: pickup.id, startsAt: pickup.startsAt.toISOString() },
        deliverySlot: { id: delivery.id },
        // 6 kg × 250/kg = 1500, + hypoallergenic 150; minimum 1500 met; delivery 499 (free from 5000)
        estimate: { subtotal: 1650, minimumOrderFee: 0, deliveryFee: 499, expressSurcharge: 0, total: 2149 },
        lines: [{ serviceName: 'Wash & Fold', unitPrice: 250, estimatedWeightGrams: 6000, estimatedTotal: 1650, finalTotal: null }],
        final: null,
        timeline: [{ type: 'created', from: null, to: 'pending_payment', actor: { role: 'customer', userId: who.userId }, note: 'Ring twice' }],
      });
      expect(await slotReserved(h, pickup.id)).toBe(1);
      expect(await slotReserved(h, delivery.id)).toBe(1);

      const read = await h.api.get(`/v1/orders/${res.body.id}`, { token: who.token });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
      const listed = await h.api.get('/v1/orders', { token: who.token });
      expect(listed.body.data.map((o: { id: string }) => o.id)).toEqual([res.body.id]);
    });

    it('pay on delivery starts confirmed; express adds the surcharge', async () => {
      const { h, who, body } = await setup();
      const res = await place(h, who, { ...body, paymentMethod: 'on_delivery', express: true });
      expect(res.status, res.text).toBe(201);
      // 1650 × 50% express = 825 → subtotal 2475
      expect(res.body).toMatchObject({ status: 'confirmed', express: true, estimate: { expressSurcharge: 825, subtotal: 2475, total: 2974 } });
    });

    it('rejects client-sent prices and bad bodies without writing anything', async () => {
      const { h, who, pickup, body } = await setup();
      const cases: Array<[unknown, string]> = [
        [{ ...body, total: 1 }, 'body'],
        [{ ...body, items: [{ ...body.items[0], unitPrice: 1 }] }, 'body.items.0'],
        [{ ...body, items: [] }, 'body.items'],
        [{ ...body, paymentMethod: 'bitcoin' }, 'body.paymentMethod'],
        [{ ...body, pickupSlotId: 'tomorrow' }, 'body.pickupSlotId'],
        [{ ...body, addressId: undefined }, 'body.addressId'],
        [{ ...body, items: [{ ...body.items[0], estimatedWeightGrams: 1.5 }] }, 'body.items.0.estimatedWeightGrams'],
      ];
      for (const [bad, field] of cases) {
        const problem = expectProblem(await place(h, who, bad), 422, 'validation_failed');
        expect(problem.errors.map((e: { field: string }) => e.field), JSON.stringify(bad)).toContain(field);
      }
      expectProblem(await place(h, who, undefined, 'k-malformed-1'), 422, 'validation_failed');
      expectProblem(
        await h.api.post('/v1/orders', undefined, { token: who.token, rawBody: 'items=1', headers: { 'idempotency-key': 'k-form-123', 'content-type': 'text/plain' } }),
        415,
        'unsupported_media_type',
      );
      expectProblem(await h.api.post('/v1/orders', undefined, { token: who.token, rawBody: '{"items": [', headers: { 'idempotency-key': 'k-malformed-2' } }), 400, 'malformed_json');
      expectProblem(await h.api.post('/v1/orders', body, { token: who.token }), 400, 'idempotency_key_missing');
      expectProblem(await place(h, who, body, 'short'), 400, 'idempotency_key_invalid');
      // Over the maximum, by one and by far: the same 400, not a validation 422.
      expectProblem(await place(h, who, body, 'k'.repeat(256)), 400, 'idempotency_key_invalid');
      expectProblem(await place(h, who, body, 'k'.repeat(4000)), 400, 'idempotency_key_invalid');
      expectProblem(await h.api.post('/v1/orders', body, { headers: { 'idempotency-key': 'k-anon-123' } }), 401, 'auth_required');
      expect(await orderCount(h, who.userId)).toBe(0);
      expect(await slotReserved(h, pickup.id)).toBe(0);
    });

    it('replays the same key and body; refuses the same key with another body', async () => {
      const { h, who, pickup, body } = await setup();
      const key = `k-${crypto.randomUUID()}`;
      const first = await place(h, who, body, key);
      const again = await place(h, who, { ...body }, key);
      expect(first.status, first.text).toBe(201);
      expect(again.status).toBe(201);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expectProblem(await place(h, who, { ...body, notes: 'something else' }, key), 422, 'idempotency_key_reused');
      expect(await orderCount(h, who.userId)).toBe(1);
      expect(await slotReserved(h, pickup.id)).toBe(1);
      // Keys are per user: another customer may use the same key for their own order.
      const other = await setup();
      expect((await place(other.h, other.who, other.body, key)).status).toBe(201);
    });

    it('20 concurrent identical requests with one key create exactly one order, with identical replies', async () => {
      const { h, who, pickup, body } = await setup();
      const key = `k-${crypto.randomUUID()}`;
      const replies = await Promise.all(Array.from({ length: 20 }, () => place(h, who, body, key)));
      expect(new Set(replies.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(replies.map((r) => r.text)).size).toBe(1);
      expect(await orderCount(h, who.userId)).toBe(1);
      expect(await slotReserved(h, pickup.id)).toBe(1);
    });

    it('100 concurrent orders on a slot of capacity 10: exactly 10 succeed and none oversell', async () => {
      const { h, who, pickup, body } = await setup({ pickupCapacity: 10, deliveryCapacity: 1000 });
      const replies: ApiResponse[] = await Promise.all(Array.from({ length: 100 }, () => place(h, who, body)));
      const byStatus = replies.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
      expect(byStatus).toEqual({ 201: 10, 409: 90 });
      for (const r of replies.filter((x) => x.status === 409)) expect(r.body.code).toBe('slot_unavailable');
      expect(await orderCount(h, who.userId)).toBe(10);
      expect(await slotReserved(h, pickup.id)).toBe(10);
      const offered = await h.sql<{ remaining: number }>('SELECT capacity - reserved AS remaining FROM slots WHERE id = $1', [pickup.id]);
      expect(Number(offered[0]!.remaining)).toBe(0);
    });

    it('full, closed and past-cut-off slots cannot be booked; nothing changes', async () => {
      const { h, z, who, delivery, body } = await setup();
      const full = await slot(h, z.id, 'pickup', { startsInHours: 20, capacity: 1, reserved: 1 });
      const closed = await slot(h, z.id, 'pickup', { startsInHours: 22, closed: true });
      const late = await slot(h, z.id, 'pickup', { startsInHours: 1, cutoffMinutes: 120 });
      for (const s of [full, closed, late]) {
        const res = await place(h, who, { ...body, pickupSlotId: s.id });
        expectProblem(res, 409, 'slot_unavailable');
      }
      expect(await slotReserved(h, full.id)).toBe(1);
      expect(await slotReserved(h, closed.id)).toBe(0);
      expect(await slotReserved(h, delivery.id)).toBe(0);
      expect(await orderCount(h, who.userId)).toBe(0);
    });

    it('checks the address, the zone and the turnaround', async () => {
      const { h, z, who, pickup, body } = await setup();
      const tooEarly = await slot(h, z.id, 'delivery', { startsInHours: 30 });
      expectProblem(await place(h, who, { ...body, deliverySlotId: tooEarly.id }), 422, 'delivery_too_early');
      expectProblem(await place(h, who, { ...body, deliverySlotId: pickup.id }), 422, 'slot_kind_mismatch');
      const elsewhere = await zone(h);
      const foreign = await slot(h, elsewhere.id, 'pickup', { startsInHours: 24 });
      expectProblem(await place(h, who, { ...body, pickupSlotId: foreign.id }), 422, 'slot_zone_mismatch');
      const unserved = await address(h, who.userId, 'QQ99 9QQ');
      expectProblem(await place(h, who, { ...body, addressId: unserved }), 422, 'postcode_not_served');
      expectProblem(await place(h, who, { ...body, pickupSlotId: crypto.randomUUID() }), 422, 'validation_failed');
      expect(await orderCount(h, who.userId)).toBe(0);
    });

    it("another customer's orders and addresses are 404, and nothing changes", async () => {
      const a = await setup();
      const created = await place(a.h, a.who, a.body);
      const b = await actor(a.h);
      expectProblem(await a.h.api.get(`/v1/orders/${created.body.id}`, { token: b.token }), 404, 'not_found');
      expectProblem(await a.h.api.post(`/v1/orders/${created.body.id}/cancel`, {}, { token: b.token }), 404, 'not_found');
      expectProblem(await place(a.h, b, a.body), 404, 'not_found'); // A's address
      expect((await a.h.api.get('/v1/orders', { token: b.token })).body.data).toEqual([]);
      const still = await a.h.api.get(`/v1/orders/${created.body.id}`, { token: a.who.token });
      expect(still.body.status).toBe('pending_payment');
      expect(still.body.timeline).toHaveLength(1);
      expect(await slotReserved(a.h, a.pickup.id)).toBe(1);
    });

    it('cancelling before pickup releases capacity and is on the timeline; after pickup it is 409', async () => {
      const { h, who, pickup, delivery, body } = await setup();
      const created = (await place(h, who, body)).body;
      const cancelled = await h.api.post(`/v1/orders/${created.id}/cancel`, { reason: 'Plans changed' }, { token: who.token });
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect(cancelled.body.timeline.at(-1)).toMatchObject({ type: 'status_changed', from: 'pending_payment', to: 'cancelled', note: 'Plans changed', actor: { role: 'customer' } });
      expect(await slotReserved(h, pickup.id)).toBe(0);
      expect(await slotReserved(h, delivery.id)).toBe(0);
      expect((await h.api.get(`/v1/orders/${created.id}`, { token: who.token })).body).toEqual(cancelled.body);
      expectProblem(await h.api.post(`/v1/orders/${created.id}/cancel`, {}, { token: who.token }), 409, 'order_not_cancellable');
      expect(await slotReserved(h, pickup.id)).toBe(0);

      const second = (await place(h, who, body)).body;
      await h.sql(`UPDATE orders SET status = 'picked_up' WHERE id = $1`, [second.id]);
      expectProblem(await h.api.post(`/v1/orders/${second.id}/cancel`, {}, { token: who.token }), 409, 'order_not_cancellable');
      expect(await slotReserved(h, pickup.id)).toBe(1);
    });

    it('pages newest first with a cursor and filters by status', async () => {
      const { h, who, body } = await setup();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await place(h, who, body)).body.id);
      await h.api.post(`/v1/orders/${ids[0]}/cancel`, {}, { token: who.token });
      const page1 = await h.api.get('/v1/orders?limit=2', { token: who.token });
      expect(page1.body.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
      const page2 = await h.api.get(`/v1/orders?limit=2&cursor=${page1.body.nextCursor}`, { token: who.token });
      expect(page2.body).toEqual({ data: [expect.objectContaining({ id: ids[0], status: 'cancelled' })], nextCursor: null });
      const pending = await h.api.get('/v1/orders?status=pending_payment', { token: who.token });
      expect(pending.body.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
      expectProblem(await h.api.get('/v1/orders?cursor=bogus', { token: who.token }), 422, 'validation_failed');
      expectProblem(await h.api.get('/v1/orders?limit=1000', { token: who.token }), 422, 'validation_failed');
      expectProblem(await h.api.get('/v1/orders?status=lost', { token: who.token }), 422, 'validation_failed');
    });

    it('orders keep their prices when the catalog changes; inactive services cannot be ordered', async () => {
      const { h, z, who, body } = await setup();
      const created = (await place(h, who, body)).body;
      const admin = await actor(h, 'admin');
      const svc = await h.api.post(
        '/v1/admin/services',
        { slug: `tmp-${crypto.randomUUID().slice(0, 8)}`, name: 'Tmp', pricingModel: 'per_kg', unitPrice: 300, turnaroundHours: 48 },
        { token: admin.token },
      );
      expect(svc.status, svc.text).toBe(201);
      const tmpBody = { ...body, items: [{ serviceId: svc.body.id, estimatedWeightGrams: 5000 }] };
      const before = (await place(h, who, tmpBody)).body;
      expect(before.lines[0].unitPrice).toBe(300);
      expect((await h.api.patch(`/v1/admin/services/${svc.body.id}`, { unitPrice: 999, active: false }, { token: admin.token })).status).toBe(200);
      await h.sql('UPDATE zones SET delivery_fee = 9999 WHERE id = $1', [z.id]);
      for (const order of [created, before]) {
        expect((await h.api.get(`/v1/orders/${order.id}`, { token: who.token })).body).toEqual(order);
      }
      const refused = expectProblem(await place(h, who, tmpBody), 422, 'validation_failed');
      expect(refused.errors).toEqual([{ field: 'body.items.0.serviceId', message: 'this service is not offered' }]);
    });

    it('keeps the timeline append-only at the database', async () => {
      const { h, who, body } = await setup();
      const created = (await place(h, who, body)).body;
      const failure = async (query: string) => {
        const err = await h.sql(query, [created.id]).then(() => undefined, (e: Error & { cause?: Error }) => e);
        return `${err?.message} ${err?.cause?.message}`;
      };
      expect(await failure(`UPDATE order_events SET note = 'rewritten' WHERE order_id = $1`)).toMatch(/append-only/);
      expect(await failure(`DELETE FROM order_events WHERE order_id = $1`)).toMatch(/append-only/);
      const timeline = await h.api.get(`/v1/orders/${created.id}`, { token: who.token });
      expect(timeline.body.timeline).toEqual(created.timeline);
    });
  });
}
