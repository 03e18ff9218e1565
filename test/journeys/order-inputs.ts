import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor, address, slot, slotReserved, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

const HOURS_TO_DELIVERY = 24 + 2 + 24 + 30;

/**
 * POST /v1/orders plans an order on rows it remembers from earlier reads (src/db/order-inputs.ts)
 * and lets its one write re-check them. Each case here remembers the rows with a first order,
 * then changes one of them behind the app's back (SQL, or another instance's admin call), as
 * another replica or isolate would: the next order must be exactly what a fresh read gives,
 * or the error a fresh read gives, with nothing written.
 */
export function orderInputsJourney(harness: () => Harness) {
  const setup = async () => {
    const h = harness();
    const admin = await actor(h, 'admin');
    const created = await h.api.post(
      '/v1/admin/services',
      {
        slug: `shirts-${crypto.randomUUID().slice(0, 8)}`,
        name: 'Shirts',
        pricingModel: 'per_item',
        unitPrice: 300,
        turnaroundHours: 24,
        addOns: [{ slug: 'starch', name: 'Starch', price: 40 }],
      },
      { token: admin.token },
    );
    expect(created.status, created.text).toBe(201);
    const service = created.body as { id: string; addOns: Array<{ id: string }> };
    const z = await zone(h, { deliveryFee: 499, minimumOrder: 500, freeDeliveryFrom: 100_000 });
    const who = await actor(h);
    const addressId = await address(h, who.userId, z.postcode);
    const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(h, z.id, 'delivery', { startsInHours: HOURS_TO_DELIVERY });
    const body = {
      items: [{ serviceId: service.id, quantity: 3, addOnIds: [service.addOns[0]!.id] }],
      addressId,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: 'on_delivery',
    };
    const place = (b: unknown = body, key = `oi-${crypto.randomUUID()}`) =>
      h.api.post('/v1/orders', b, { token: who.token, headers: { 'idempotency-key': key } });
    // The first order reads every row afresh and remembers them.
    const first = await place();
    expect(first.status, first.text).toBe(201);
    return { h, admin, service, z, who, addressId, pickup, delivery, body, place, first: first.body };
  };

  /** Orders and stored idempotency keys of a user: what a refused order must not have added to. */
  const written = async (h: Harness, who: Actor) => {
    const [row] = await h.sql<{ orders: number; keys: number }>(
      `SELECT (SELECT count(*)::int FROM orders WHERE user_id = $1) AS orders,
              (SELECT count(*)::int FROM idempotency_keys WHERE user_id = $1) AS keys`,
      [who.userId],
    );
    return row!;
  };

  describe('orders on remembered rows: each re-checked field, and answers as from a fresh read', () => {
    it('the caller made synthetic since: refused as a fresh read refuses it (real zones are not theirs), nothing written', async () => {
      const { h, who, place } = await setup();
      await h.sql('UPDATE users SET synthetic = true WHERE id = $1', [who.userId]);
      const before = await written(h, who);
      expectProblem(await place(), 422, 'postcode_not_served');
      expect(await written(h, who)).toEqual(before);
    });

    it('a slot turned into the other kind since: 422 slot_kind_mismatch, nothing written', async () => {
      const { h, who, pickup, place } = await setup();
      await h.sql(`UPDATE slots SET kind = 'delivery' WHERE id = $1`, [pickup.id]);
      const before = await written(h, who);
      expectProblem(await place(), 422, 'slot_kind_mismatch');
      expect(await written(h, who)).toEqual(before);
    });

    it('a slot moved to another zone since: 422 slot_zone_mismatch, nothing written', async () => {
      // The other zone exists before the first order, so the remembered zones still hold: only the slot changes.
      const other = await zone(harness());
      const { h, who, pickup, place } = await setup();
      await h.sql('UPDATE slots SET zone_id = $2 WHERE id = $1', [pickup.id, other.id]);
      const before = await written(h, who);
      expectProblem(await place(), 422, 'slot_zone_mismatch');
      expect(await written(h, who)).toEqual(before);
    });

    it('a slot whose cut-off moved past now since: the fresh answer (reason past_cutoff)', async () => {
      const { h, pickup, place } = await setup();
      await h.sql('UPDATE slots SET cutoff_minutes = 25 * 60 WHERE id = $1', [pickup.id]);
      const problem = expectProblem(await place(), 409, 'slot_unavailable');
      expect(problem.details).toEqual({ slot: 'pickup', slotId: pickup.id, reason: 'past_cutoff' });
    });

    it('an address whose city and label changed since: the order keeps the new text', async () => {
      const { h, addressId, place } = await setup();
      await h.sql(`UPDATE addresses SET city = 'Newtown', label = 'Work', line2 = 'Flat 2' WHERE id = $1`, [addressId]);
      const second = await place();
      expect(second.status, second.text).toBe(201);
      expect(second.body.address).toMatchObject({ city: 'Newtown', label: 'Work', line2: 'Flat 2' });
    });

    it('a delivery slot full since: the 409 names the delivery slot, as a fresh read does', async () => {
      const { h, delivery, place } = await setup();
      await h.sql('UPDATE slots SET capacity = reserved WHERE id = $1', [delivery.id]);
      const problem = expectProblem(await place(), 409, 'slot_unavailable');
      expect(problem.details).toMatchObject({ slot: 'delivery', slotId: delivery.id });
    });

    it('a slot closed since: the same 409 a fresh read gives, reason included', async () => {
      const { h, pickup, place } = await setup();
      await h.sql('UPDATE slots SET closed = true WHERE id = $1', [pickup.id]);
      const problem = expectProblem(await place(), 409, 'slot_unavailable');
      expect(problem.details).toEqual({ slot: 'pickup', slotId: pickup.id, reason: 'closed' });
    });
  });

  describe('orders on remembered rows', () => {
    it('a second order on the same rows is the order a fresh read makes, and its replay is identical', async () => {
      const { h, place, first, pickup, delivery } = await setup();
      const key = `oi-${crypto.randomUUID()}`;
      const second = await place(undefined, key);
      expect(second.status, second.text).toBe(201);
      expect(second.body.estimate).toEqual(first.estimate);
      expect(second.body.address).toEqual(first.address);
      expect(second.body.lines.map((l: { id: string }) => ({ ...l, id: '' }))).toEqual(first.lines.map((l: { id: string }) => ({ ...l, id: '' })));
      expect(second.body.pickupSlot).toEqual(first.pickupSlot);
      const replay = await place(undefined, key);
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(second.body);
      expect(await slotReserved(h, pickup.id)).toBe(2);
      expect(await slotReserved(h, delivery.id)).toBe(2);
    });

    it('40 concurrent orders on remembered rows for a slot with 5 places left: exactly 5 succeed, none oversell', async () => {
      const { h, z, who, pickup, body, place } = await setup();
      const tight = await slot(h, z.id, 'pickup', { startsInHours: 26, capacity: 5 });
      // Listed as the app lists it, so the slot is remembered too: every request below plans without a read.
      const listed = await h.api.get(`/v1/slots?postcode=${z.postcode}&kind=pickup`, { token: who.token });
      expect(listed.body.data.map((s: { id: string }) => s.id)).toContain(tight.id);
      const replies = await Promise.all(Array.from({ length: 40 }, () => place({ ...body, pickupSlotId: tight.id })));
      const byStatus = replies.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
      expect(byStatus).toEqual({ 201: 5, 409: 35 });
      for (const r of replies.filter((x) => x.status === 409)) expect(r.body.code).toBe('slot_unavailable');
      expect(await slotReserved(h, tight.id)).toBe(5);
      expect(await slotReserved(h, pickup.id)).toBe(1);
      expect(await written(h, who)).toEqual({ orders: 6, keys: 6 });
    });

    it('20 concurrent identical requests with one key on remembered rows: one order, identical replies', async () => {
      const { h, who, pickup, place } = await setup();
      const key = `oi-${crypto.randomUUID()}`;
      const replies = await Promise.all(Array.from({ length: 20 }, () => place(undefined, key)));
      expect(new Set(replies.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(replies.map((r) => r.text)).size).toBe(1);
      expect(await written(h, who)).toEqual({ orders: 2, keys: 2 });
      expect(await slotReserved(h, pickup.id)).toBe(2);
    });

    it('a price changed since: the order is priced at the new price', async () => {
      const { h, admin, service, place, first } = await setup();
      // 3 × 300, + 40 for the line's add-on
      expect(first.estimate.subtotal).toBe(940);
      const repriced = await h.api.patch(`/v1/admin/services/${service.id}`, { unitPrice: 350 }, { token: admin.token });
      expect(repriced.status, repriced.text).toBe(200);
      const second = await place();
      expect(second.status, second.text).toBe(201);
      expect(second.body.lines[0].unitPrice).toBe(350);
      expect(second.body.estimate.subtotal).toBe(3 * 350 + 40);
    });

    it('an add-on withdrawn since: refused as a fresh read refuses it, nothing written', async () => {
      const { h, admin, service, who, place } = await setup();
      const off = await h.api.patch(`/v1/admin/add-ons/${service.addOns[0]!.id}`, { active: false }, { token: admin.token });
      expect(off.status, off.text).toBe(200);
      const before = await written(h, who);
      const problem = expectProblem(await place(), 422, 'validation_failed');
      expect(problem.errors[0].field).toBe('body.items.0.addOnIds');
      expect(await written(h, who)).toEqual(before);
    });

    it('a zone edited since: its new delivery fee is charged', async () => {
      const { h, z, place, first } = await setup();
      expect(first.estimate.deliveryFee).toBe(499);
      await h.sql('UPDATE zones SET delivery_fee = 777 WHERE id = $1', [z.id]);
      const second = await place();
      expect(second.status, second.text).toBe(201);
      expect(second.body.estimate.deliveryFee).toBe(777);
      expect(second.body.estimate.total).toBe(first.estimate.total - 499 + 777);
    });

    it('a zone added since that takes the postcode: the slots no longer serve it, nothing written', async () => {
      const { h, z, who, place } = await setup();
      const [inner] = await h.sql<{ id: string }>(
        `INSERT INTO zones (name, postcode_prefixes, time_zone, delivery_fee, minimum_order, free_delivery_from)
         VALUES ('Inner', ARRAY[$1]::text[], 'UTC', 100, 100, NULL) RETURNING id`,
        [z.postcode],
      );
      try {
        const before = await written(h, who);
        expectProblem(await place(), 422, 'slot_zone_mismatch');
        expect(await written(h, who)).toEqual(before);
      } finally {
        await h.sql('UPDATE zones SET active = false WHERE id = $1', [inner!.id]);
      }
    });

    it('a slot closed since: 409 slot_unavailable, nothing written, and the same key books once it reopens', async () => {
      const { h, who, pickup, place } = await setup();
      await h.sql('UPDATE slots SET closed = true WHERE id = $1', [pickup.id]);
      const before = await written(h, who);
      const key = `oi-${crypto.randomUUID()}`;
      expectProblem(await place(undefined, key), 409, 'slot_unavailable');
      expect(await written(h, who)).toEqual(before);
      expect(await slotReserved(h, pickup.id)).toBe(1);
      await h.sql('UPDATE slots SET closed = false WHERE id = $1', [pickup.id]);
      const again = await place(undefined, key);
      expect(again.status, again.text).toBe(201);
    });

    it('a slot full since: 409 slot_unavailable, nothing written', async () => {
      const { h, who, delivery, place } = await setup();
      await h.sql('UPDATE slots SET capacity = reserved WHERE id = $1', [delivery.id]);
      const before = await written(h, who);
      expectProblem(await place(), 409, 'slot_unavailable');
      expect(await written(h, who)).toEqual(before);
    });

    it('a slot moved since: the order carries its new window', async () => {
      const { h, pickup, place } = await setup();
      await h.sql(`UPDATE slots SET starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour' WHERE id = $1`, [pickup.id]);
      const second = await place();
      expect(second.status, second.text).toBe(201);
      expect(second.body.pickupSlot.startsAt).toBe(new Date(pickup.startsAt.getTime() + 3_600_000).toISOString());
    });

    it('an address deleted since (by another instance): 404, nothing written', async () => {
      const { h, who, addressId, place } = await setup();
      await h.sql('DELETE FROM addresses WHERE id = $1', [addressId]);
      const before = await written(h, who);
      expectProblem(await place(), 404, 'not_found');
      expect(await written(h, who)).toEqual(before);
    });

    it('an address edited since: the order keeps the new text', async () => {
      const { h, addressId, place } = await setup();
      await h.sql(`UPDATE addresses SET line1 = '2 New Street', instructions = 'Side door' WHERE id = $1`, [addressId]);
      const second = await place();
      expect(second.status, second.text).toBe(201);
      expect(second.body.address).toMatchObject({ line1: '2 New Street', instructions: 'Side door' });
    });

    it('another customer naming a remembered address gets 404, as from a fresh read', async () => {
      const { h, body } = await setup();
      const other = await actor(h);
      const res = await h.api.post('/v1/orders', body, { token: other.token, headers: { 'idempotency-key': `oi-${crypto.randomUUID()}` } });
      expectProblem(res, 404, 'not_found');
      expect(await written(h, other)).toEqual({ orders: 0, keys: 0 });
    });
  });
}
