import { describe, expect, it } from 'vitest';
import { expectProblem, type ApiResponse } from '../support/client.js';
import { actor, address, slot, slotReserved, zone, type Actor, type ZoneFixture } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

const HOURS_TO_DELIVERY = 24 + 2 + 72 + 4; // pickup window + the slowest turnaround (dry cleaning) + margin
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The shop side of orders: queue, transitions and weigh-in, as staff and admins use them. */
export function staffJourney(harness: () => Harness) {
  type Svc = { id: string; addOns: Array<{ id: string; slug: string }> };
  let services: Record<string, Svc> | undefined;
  const catalog = async () => {
    services ??= Object.fromEntries((await harness().api.get('/v1/services')).body.data.map((s: Svc & { slug: string }) => [s.slug, s]));
    return services!;
  };

  /** A served customer with an address, fresh slots, and a staff member. */
  const setup = async (opts: { timeZone?: string } = {}) => {
    const h = harness();
    const z = await zone(h, { deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000, timeZone: opts.timeZone });
    const [who, staff] = [await actor(h), await actor(h, 'staff')];
    const addressId = await address(h, who.userId, z.postcode);
    const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(h, z.id, 'delivery', { startsInHours: HOURS_TO_DELIVERY });
    const washFold = (await catalog())['wash-and-fold']!;
    const hypo = washFold.addOns.find((a) => a.slug === 'hypoallergenic')!.id;
    const items: unknown[] = [{ serviceId: washFold.id, estimatedWeightGrams: 6000, addOnIds: [hypo] }];
    const body = { items, addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' };
    return { h, z, who, staff, pickup, delivery, body };
  };
  type Setup = Awaited<ReturnType<typeof setup>>;

  const place = async (h: Harness, who: Actor, body: unknown) => {
    const res = await h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': `k-${crypto.randomUUID()}` } });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; timeline: unknown[] } & Record<string, any>;
  };
  const move = (s: Setup, id: string, body: unknown, who: Actor = s.staff) => s.h.api.post(`/v1/staff/orders/${id}/transitions`, body, { token: who.token });
  const weigh = (s: Setup, id: string, body: unknown) => s.h.api.post(`/v1/staff/orders/${id}/weigh-in`, body, { token: s.staff.token });
  const ok = (res: ApiResponse) => {
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  /** The order as staff read it, plus both slots' reserved counts: to prove a failure changed nothing. */
  const snapshot = async (s: Setup, id: string) => ({
    order: ok(await s.h.api.get(`/v1/staff/orders/${id}`, { token: s.staff.token })),
    reserved: [await slotReserved(s.h, s.pickup.id), await slotReserved(s.h, s.delivery.id)],
  });
  /** An order placed and then moved by staff through `steps` (picked_up gets 3 bags). */
  const orderAt = async (s: Setup, steps: string[], body: unknown = s.body) => {
    const order = await place(s.h, s.who, body);
    for (const to of steps) {
      if (to === 'weigh') ok(await weigh(s, order.id, { weightGrams: 7250 }));
      else ok(await move(s, order.id, to === 'picked_up' ? { to, bagCount: 3 } : { to }));
    }
    return order.id;
  };

  describe('staff orders', () => {
    it('runs an order from confirmed to delivered, with evidence on a customer-visible timeline', async () => {
      const s = await setup();
      const { h, who, staff } = s;
      const order = await place(h, who, s.body);
      expect(order.status).toBe('confirmed');
      const by = { role: 'staff', userId: staff.userId };

      const picked = ok(await move(s, order.id, { to: 'picked_up', bagCount: 3, note: '  Left with the concierge ' }));
      expect(picked).toMatchObject({ status: 'picked_up', bagCount: 3 });
      expect(picked.timeline.at(-1)).toEqual({ at: picked.updatedAt, actor: by, type: 'status_changed', from: 'confirmed', to: 'picked_up', note: 'Left with the concierge', evidence: { bagCount: 3 } });
      expect(ok(await h.api.get(`/v1/staff/orders/${order.id}`, { token: staff.token }))).toEqual(picked);
      ok(await move(s, order.id, { to: 'processing' }));

      const weighed = ok(await weigh(s, order.id, { weightGrams: 7250, note: 'One extra bag of towels' }));
      // 7.25 kg × 250 = 1812.5 → 1813, + hypoallergenic 150 = 1963; minimum 1500 met; delivery 499 (free only from 5000)
      expect(weighed).toMatchObject({
        status: 'processing',
        estimate: { total: 2149 },
        final: { subtotal: 1963, minimumOrderFee: 0, deliveryFee: 499, expressSurcharge: 0, total: 2462, lines: [{ weightGrams: 7250, baseAmount: 1813, addOnsAmount: 150, lineTotal: 1963 }] },
        lines: [{ estimatedWeightGrams: 6000, finalWeightGrams: 7250, finalQuantity: null, estimatedTotal: 1650, finalTotal: 1963 }],
      });
      expect(weighed.weighedAt).toBe(weighed.updatedAt);
      expect(weighed.timeline.at(-1)).toEqual({
        at: weighed.weighedAt, actor: by, type: 'weighed', from: null, to: null, note: 'One extra bag of towels',
        evidence: {
          weightGrams: 7250,
          lines: [{ position: 0, serviceName: 'Wash & Fold', pricingModel: 'per_kg', estimatedWeightGrams: 6000, weightGrams: 7250, estimatedQuantity: null, quantity: null, estimatedTotal: 1650, finalTotal: 1963 }],
          estimatedTotal: 2149, finalTotal: 2462, difference: 313,
        },
      });
      expect(ok(await h.api.get(`/v1/staff/orders/${order.id}`, { token: staff.token }))).toEqual(weighed);

      ok(await move(s, order.id, { to: 'ready' }));
      ok(await move(s, order.id, { to: 'out_for_delivery' }));
      const delivered = ok(await move(s, order.id, { to: 'delivered', note: 'Handed to customer' }));
      const mine = ok(await h.api.get(`/v1/orders/${order.id}`, { token: who.token }));
      expect(mine).toEqual(delivered);
      expect(mine.timeline.map((e: { type: string; from: string; to: string }) => `${e.type}:${e.from}>${e.to}`)).toEqual([
        'created:null>confirmed',
        'status_changed:confirmed>picked_up',
        'status_changed:picked_up>processing',
        'weighed:null>null',
        'status_changed:processing>ready',
        'status_changed:ready>out_for_delivery',
        'status_changed:out_for_delivery>delivered',
      ]);
      expect(mine).toMatchObject({ status: 'delivered', bagCount: 3, final: { total: 2462 } });
      expect([await slotReserved(h, s.pickup.id), await slotReserved(h, s.delivery.id)]).toEqual([1, 1]);
    });

    it('weigh-in prices with what the order stored, never today’s catalog or zone; counts correct per_item lines', async () => {
      const s = await setup();
      const { h, z } = s;
      const admin = await actor(h, 'admin');
      const created = await h.api.post(
        '/v1/admin/services',
        { slug: `kg-${crypto.randomUUID().slice(0, 8)}`, name: 'Towels', pricingModel: 'per_kg', unitPrice: 300, turnaroundHours: 48, express: { surchargeBps: 2000, turnaroundHours: 24 }, addOns: [{ slug: 'softener', name: 'Softener', price: 120 }] },
        { token: admin.token },
      );
      expect(created.status, created.text).toBe(201);
      const towels = created.body;
      const shirt = (await catalog())['dry-cleaning-shirt']!;
      const body = { ...s.body, express: true, items: [{ serviceId: towels.id, estimatedWeightGrams: 5000, addOnIds: [towels.addOns[0].id] }, { serviceId: shirt.id, quantity: 4 }] };
      // towels (5 × 300 + 120) × 1.2 = 1944; shirts 4 × 450 × 1.5 = 2700; 4644 + delivery 499
      const id = await orderAt(s, ['picked_up', 'processing'], body);
      expect(ok(await h.api.get(`/v1/staff/orders/${id}`, { token: s.staff.token })).estimate.total).toBe(5143);

      ok(await h.api.patch(`/v1/admin/services/${towels.id}`, { unitPrice: 999, express: { surchargeBps: 9000, turnaroundHours: 24 } }, { token: admin.token }));
      ok(await h.api.patch(`/v1/admin/add-ons/${towels.addOns[0].id}`, { price: 999 }, { token: admin.token }));
      await h.sql('UPDATE zones SET delivery_fee = 9999, minimum_order = 99999, free_delivery_from = NULL WHERE id = $1', [z.id]);

      const counted = expectProblem(await weigh(s, id, { lines: [{ position: 0, weightGrams: 5500 }, { position: 1, weightGrams: 300 }] }), 422, 'validation_failed');
      expect(counted.errors).toEqual([{ field: 'body.lines.1.weightGrams', message: 'a per_item line is counted: send quantity' }]);
      const weighed = ok(await weigh(s, id, { lines: [{ position: 1, quantity: 3 }, { position: 0, weightGrams: 5500 }] }));
      // towels (5.5 × 300 = 1650 + 120) × 1.2 = 2124; shirts 3 × 450 × 1.5 = 2025; 4149 + 499
      expect(weighed.final).toMatchObject({ subtotal: 4149, expressSurcharge: 1029, minimumOrderFee: 0, deliveryFee: 499, total: 4648 });
      expect(weighed.lines.map((l: Record<string, unknown>) => [l.finalWeightGrams, l.finalQuantity, l.finalTotal])).toEqual([[5500, null, 2124], [null, 3, 2025]]);
      expect(weighed.timeline.at(-1).evidence).toMatchObject({ weightGrams: 5500, estimatedTotal: 5143, finalTotal: 4648, difference: -495 });
      const [row] = await h.sql<{ final_total: number }>('SELECT final_total FROM orders WHERE id = $1', [id]);
      expect(Number(row!.final_total)).toBe(4648);

      // An unlisted per_item line keeps the ordered count.
      const again = await orderAt(s, ['picked_up', 'processing'], body);
      const kept = ok(await weigh(s, again, { lines: [{ position: 0, weightGrams: 5000 }] }));
      expect(kept.lines[1]).toMatchObject({ quantity: 4, finalQuantity: 4, finalTotal: 2700 });
    });

    it('refuses bad transition and weigh-in bodies with 422, changing nothing', async () => {
      const s = await setup();
      const id = await orderAt(s, []);
      const before = await snapshot(s, id);
      const badMoves: Array<[unknown, string]> = [
        [{}, 'body.to'], [{ to: 'lost' }, 'body.to'], [{ to: 7 }, 'body.to'],
        [{ to: 'picked_up', bagCount: 0 }, 'body.bagCount'], [{ to: 'picked_up', bagCount: 51 }, 'body.bagCount'],
        [{ to: 'picked_up', bagCount: 2.5 }, 'body.bagCount'], [{ to: 'picked_up', bagCount: '3' }, 'body.bagCount'],
        [{ to: 'picked_up', bagCount: 3, weight: 1 }, 'body'], [{ to: 'picked_up', bagCount: 3, note: 'x'.repeat(2001) }, 'body.note'],
      ];
      for (const [bad, field] of badMoves) {
        const problem = expectProblem(await move(s, id, bad), 422, 'validation_failed');
        expect(problem.errors.map((e: { field: string }) => e.field), JSON.stringify(bad)).toContain(field);
      }
      expectProblem(await move(s, id, { to: 'picked_up' }), 422, 'evidence_required');
      expectProblem(await move(s, id, { to: 'cancelled', bagCount: 2 }), 422, 'invalid_evidence');
      expectProblem(await s.h.api.post(`/v1/staff/orders/${id}/transitions`, undefined, { token: s.staff.token, rawBody: '{"to":' }), 400, 'malformed_json');
      expect(await snapshot(s, id)).toEqual(before);

      const two = await orderAt(s, ['picked_up', 'processing'], { ...s.body, items: [s.body.items[0], { serviceId: (await catalog())['wash-and-fold']!.id, estimatedWeightGrams: 2000 }] });
      const twoBefore = await snapshot(s, two);
      const badWeighIns: Array<[unknown, string]> = [
        [{ weightGrams: 0 }, 'body.weightGrams'], [{ weightGrams: -500 }, 'body.weightGrams'],
        [{ weightGrams: 7250.5 }, 'body.weightGrams'], [{ weightGrams: '7kg' }, 'body.weightGrams'],
        [{}, 'body'], [{ note: 'only a note' }, 'body'], [{ weightGrams: 7000, price: 1 }, 'body'],
        [{ weightGrams: 7000, lines: [{ position: 0, weightGrams: 7000 }] }, 'body'],
        [{ lines: [{ position: -1, weightGrams: 7000 }] }, 'body.lines.0.position'],
        [{ lines: [{ position: 0, weightGrams: 0 }] }, 'body.lines.0.weightGrams'],
        [{ lines: [{ position: 0, weightGrams: 100, total: 1 }] }, 'body.lines.0'],
        // rules that need the order's lines
        [{ weightGrams: 7000 }, 'body.weightGrams'],
        [{ lines: [{ position: 0, weightGrams: 7000 }] }, 'body.lines'],
        [{ lines: [{ position: 0, weightGrams: 7000 }, { position: 2, weightGrams: 1000 }] }, 'body.lines.1.position'],
        [{ lines: [{ position: 0, weightGrams: 7000 }, { position: 0, weightGrams: 1000 }, { position: 1, weightGrams: 1 }] }, 'body.lines.1.position'],
        [{ lines: [{ position: 0, quantity: 3 }, { position: 1, weightGrams: 1000 }] }, 'body.lines.0.quantity'],
        [{ lines: [{ position: 0 }, { position: 1, weightGrams: 1000 }] }, 'body.lines.0.weightGrams'],
      ];
      for (const [bad, field] of badWeighIns) {
        const problem = expectProblem(await weigh(s, two, bad), 422, 'validation_failed');
        expect(problem.errors.map((e: { field: string }) => e.field), JSON.stringify(bad)).toContain(field);
      }
      expect(await snapshot(s, two)).toEqual(twoBefore);
      const final = ok(await weigh(s, two, { lines: [{ position: 1, weightGrams: 2500 }, { position: 0, weightGrams: 7250 }] }));
      expect(final.timeline.at(-1).evidence.weightGrams).toBe(9750);
    });

    it('skipped, repeated, backward and forbidden steps are 4xx with the order, timeline and slots unchanged', async () => {
      const s = await setup();
      const confirmed = await orderAt(s, []);
      const cases: Array<[string, unknown, number, string]> = [
        [confirmed, { to: 'processing' }, 409, 'illegal_transition'], [confirmed, { to: 'delivered' }, 409, 'illegal_transition'],
        [confirmed, { to: 'confirmed' }, 409, 'transition_repeated'], [confirmed, { to: 'pending_payment' }, 409, 'illegal_transition'],
      ];
      const processing = await orderAt(s, ['picked_up', 'processing']);
      cases.push([processing, { to: 'ready' }, 409, 'weigh_in_required'], [processing, { to: 'processing' }, 409, 'transition_repeated']);
      cases.push([processing, { to: 'picked_up', bagCount: 3 }, 409, 'illegal_transition']);
      const card = await place(s.h, s.who, { ...s.body, paymentMethod: 'card' });
      cases.push([card.id, { to: 'confirmed' }, 403, 'transition_forbidden'], [card.id, { to: 'picked_up', bagCount: 2 }, 409, 'illegal_transition']);
      const delivered = await orderAt(s, ['picked_up', 'processing', 'weigh', 'ready', 'out_for_delivery', 'delivered']);
      cases.push([delivered, { to: 'cancelled' }, 409, 'illegal_transition'], [delivered, { to: 'delivered' }, 409, 'transition_repeated']);
      for (const [id, body, status, code] of cases) {
        const before = await snapshot(s, id);
        const problem = expectProblem(await move(s, id, body), status, code);
        expect(problem.details, JSON.stringify(body)).toMatchObject({ from: before.order.status });
        expect(await snapshot(s, id)).toEqual(before);
      }
      const weighCases: Array<[string, string]> = [[confirmed, 'weigh_in_not_allowed'], [card.id, 'weigh_in_not_allowed'], [delivered, 'already_weighed']];
      await weigh(s, processing, { weightGrams: 7000 });
      weighCases.push([processing, 'already_weighed']);
      for (const [id, code] of weighCases) {
        const before = await snapshot(s, id);
        expectProblem(await weigh(s, id, { weightGrams: 7000 }), 409, code);
        expect(await snapshot(s, id)).toEqual(before);
      }
    });

    it('staff may cancel after pickup: only the unused delivery window is given back', async () => {
      const s = await setup();
      const early = await orderAt(s, []);
      const late = await orderAt(s, ['picked_up']);
      expect([await slotReserved(s.h, s.pickup.id), await slotReserved(s.h, s.delivery.id)]).toEqual([2, 2]);
      const admin = await actor(s.h, 'admin');
      const cancelled = ok(await move(s, late, { to: 'cancelled', note: 'Customer moved away' }, admin));
      expect(cancelled.timeline.at(-1)).toMatchObject({ from: 'picked_up', to: 'cancelled', note: 'Customer moved away', actor: { role: 'admin', userId: admin.userId } });
      expect([await slotReserved(s.h, s.pickup.id), await slotReserved(s.h, s.delivery.id)]).toEqual([2, 1]);
      ok(await move(s, early, { to: 'cancelled' }));
      expect([await slotReserved(s.h, s.pickup.id), await slotReserved(s.h, s.delivery.id)]).toEqual([1, 0]);
      expect(ok(await s.h.api.get(`/v1/orders/${late}`, { token: s.who.token }))).toEqual(cancelled);
    });

    it('is staff-only: 401 without a token, 403 for customers, 404 unknown order, 422 bad id', async () => {
      const s = await setup();
      const id = await orderAt(s, []);
      const before = await snapshot(s, id);
      const calls = (who: { token?: string }, orderId = id) => [
        s.h.api.get('/v1/staff/orders', who),
        s.h.api.get(`/v1/staff/orders/${orderId}`, who),
        s.h.api.post(`/v1/staff/orders/${orderId}/transitions`, { to: 'picked_up', bagCount: 3 }, who),
        s.h.api.post(`/v1/staff/orders/${orderId}/weigh-in`, { weightGrams: 7000 }, who),
      ];
      for (const res of await Promise.all(calls({}))) expectProblem(res, 401, 'auth_required');
      for (const res of await Promise.all(calls({ token: s.who.token }))) expectProblem(res, 403, 'forbidden');
      const [, ...unknown] = await Promise.all(calls({ token: s.staff.token }, crypto.randomUUID()));
      for (const res of unknown) expectProblem(res, 404, 'not_found');
      const [, ...malformed] = await Promise.all(calls({ token: s.staff.token }, 'not-a-uuid'));
      for (const res of malformed) expect(expectProblem(res, 422, 'validation_failed').errors[0].field).toBe('param.id');
      expect(await snapshot(s, id)).toEqual(before);
    });

    it('queue filters by status, zone, slot and the local date of the pickup or delivery window', async () => {
      const h = harness();
      const ny = await setup({ timeZone: 'America/New_York' });
      const utc = await setup();
      // T: UTC midnight three days out. 02:00Z is the evening before in New York, 18:00Z the same afternoon.
      const T = Math.floor(Date.now() / DAY) * DAY + 3 * DAY;
      const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const at = async (zf: ZoneFixture, kind: 'pickup' | 'delivery', ms: number) => (await slot(h, zf.id, kind, { startsInHours: (ms - Date.now()) / HOUR })).id;
      const [pickA, pickB, dropA, dropB] = [await at(ny.z, 'pickup', T + 2 * HOUR), await at(ny.z, 'pickup', T + 18 * HOUR), await at(ny.z, 'delivery', T + 4 * DAY + 2 * HOUR), await at(ny.z, 'delivery', T + 4 * DAY + 18 * HOUR)];
      const nyOrder = (p: string, d: string, paymentMethod = 'on_delivery') => place(h, ny.who, { ...ny.body, pickupSlotId: p, deliverySlotId: d, paymentMethod });
      const o1 = (await nyOrder(pickA, dropA, 'card')).id;
      const [o2, o3] = [(await nyOrder(pickB, dropA)).id, (await nyOrder(pickB, dropB)).id];
      const oU = (await place(h, utc.who, { ...utc.body, pickupSlotId: await at(utc.z, 'pickup', T + 2 * HOUR), deliverySlotId: await at(utc.z, 'delivery', T + 4 * DAY) })).id;

      const ids = async (query: string) => ok(await h.api.get(`/v1/staff/orders?${query}`, { token: ny.staff.token })).data.map((o: { id: string }) => o.id);
      const byId = (...xs: string[]) => [...xs].sort();
      expect(await ids(`zone=${ny.z.id}`)).toEqual([o1, ...byId(o2, o3)]);
      expect(await ids(`zone=${ny.z.id}&date=${date(T - DAY)}`)).toEqual([o1]);
      expect(await ids(`zone=${ny.z.id}&date=${date(T)}`)).toEqual(byId(o2, o3));
      expect(await ids(`zone=${ny.z.id}&date=${date(T + DAY)}`)).toEqual([]);
      expect(await ids(`zone=${utc.z.id}&date=${date(T)}`)).toEqual([oU]);
      expect(await ids(`zone=${utc.z.id}&date=${date(T - DAY)}`)).toEqual([]);
      const evening: string[] = [];
      for (let cursor = ''; ; ) {
        const page = ok(await h.api.get(`/v1/staff/orders?date=${date(T - DAY)}&limit=100${cursor}`, { token: ny.staff.token }));
        evening.push(...page.data.map((o: { id: string }) => o.id));
        if (!page.nextCursor) break;
        cursor = `&cursor=${page.nextCursor}`;
      }
      expect(evening).toContain(o1);
      expect(evening).not.toContain(oU);
      expect(await ids(`zone=${ny.z.id}&kind=delivery&date=${date(T + 3 * DAY)}`)).toEqual(byId(o1, o2));
      expect(await ids(`zone=${ny.z.id}&kind=delivery&date=${date(T + 4 * DAY)}`)).toEqual([o3]);
      expect(await ids(`kind=delivery&zone=${ny.z.id}`)).toEqual([...byId(o1, o2), o3]);
      expect(await ids(`slot=${pickB}`)).toEqual(byId(o2, o3));
      expect(await ids(`slot=${pickB}&kind=delivery`)).toEqual([]);
      expect(await ids(`slot=${dropA}&kind=delivery`)).toEqual(byId(o1, o2));
      expect(await ids(`zone=${ny.z.id}&status=pending_payment`)).toEqual([o1]);
      expect(await ids(`zone=${ny.z.id}&status=confirmed`)).toEqual(byId(o2, o3));
      expect(await ids(`zone=${ny.z.id}&status=delivered`)).toEqual([]);

      const page = ok(await h.api.get(`/v1/staff/orders?zone=${ny.z.id}&limit=2`, { token: ny.staff.token }));
      expect(page.data[0]).toMatchObject({ id: o1, status: 'pending_payment', zoneId: ny.z.id, address: { postcode: ny.z.postcode }, express: false, bagCount: null, estimatedTotal: 2149, finalTotal: null });
      const rest = ok(await h.api.get(`/v1/staff/orders?zone=${ny.z.id}&limit=2&cursor=${page.nextCursor}`, { token: ny.staff.token }));
      expect([...page.data, ...rest.data].map((o: { id: string }) => o.id)).toEqual([o1, ...byId(o2, o3)]);
      expect(rest.nextCursor).toBeNull();
      for (const bad of [`cursor=${page.nextCursor}&kind=delivery`, 'cursor=bogus', 'date=2026-02-30', 'date=tomorrow', 'kind=both', 'zone=north', 'status=lost', 'limit=0', 'slot=1']) {
        expectProblem(await h.api.get(`/v1/staff/orders?${bad}`, { token: ny.staff.token }), 422, 'validation_failed');
      }
    });

    it('two racing weigh-ins: exactly one wins, the other is 409 already_weighed', async () => {
      const s = await setup();
      const id = await orderAt(s, ['picked_up', 'processing']);
      const replies = await Promise.all([weigh(s, id, { weightGrams: 7000 }), weigh(s, id, { weightGrams: 9000 })]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
      const winner = replies.find((r) => r.status === 200)!.body;
      expectProblem(replies.find((r) => r.status === 409)!, 409, 'already_weighed');
      const now = await snapshot(s, id);
      expect(now.order).toEqual(winner);
      expect(now.order.timeline.filter((e: { type: string }) => e.type === 'weighed')).toHaveLength(1);
    });

    it('two racing picked_up → processing: exactly one wins, the other is 409', async () => {
      const s = await setup();
      const id = await orderAt(s, ['picked_up']);
      const replies = await Promise.all([move(s, id, { to: 'processing' }), move(s, id, { to: 'processing' })]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(['conflict', 'transition_repeated']).toContain(replies.find((r) => r.status === 409)!.body.code);
      const now = await snapshot(s, id);
      expect(now.order).toEqual(replies.find((r) => r.status === 200)!.body);
      expect(now.order.timeline.filter((e: { to: string }) => e.to === 'processing')).toHaveLength(1);
    });
  });
}
