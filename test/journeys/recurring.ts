/**
 * Recurring pickups (issue 19): managing schedules through the API, with their validation. The
 * scheduled job's part (one order per date, two runs at once, full windows) needs the app's deps
 * and runs on Node only: test/node/recurring.test.ts. The fixtures here are shared with it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/recurrence.js';
import { expectProblem } from '../support/client.js';
import { actor, address, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function slotAt(t: Harness, zoneId: string, kind: 'pickup' | 'delivery', day: string, start: string, opts: { capacity?: number; reserved?: number } = {}) {
  const startsAt = new Date(`${day}T${start}:00Z`);
  const [row] = await t.sql<{ id: string }>(
    `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, reserved, cutoff_minutes) VALUES ($1, $2, $3, $4, $5, $6, 60) RETURNING id`,
    [zoneId, kind, startsAt.toISOString(), new Date(startsAt.getTime() + 2 * 3_600_000).toISOString(), opts.capacity ?? 10, opts.reserved ?? 0],
  );
  return row!.id;
}

/**
 * A UTC zone with, on `anchor` (tomorrow), pickup windows at 18:00 (`capacity`, `reserved`) and
 * 10:00, and a delivery window four days later at 18:00; a customer with an address in it.
 */
export async function recurringWorld(t: Harness, opts: { capacity?: number; reserved?: number; morningFull?: boolean } = {}) {
  const z = await zone(t);
  const anchor = utcDate(Date.now() + 86_400_000);
  const evening = await slotAt(t, z.id, 'pickup', anchor, '18:00', opts);
  const morning = await slotAt(t, z.id, 'pickup', anchor, '10:00', opts.morningFull ? { capacity: 1, reserved: 1 } : {});
  const delivery = await slotAt(t, z.id, 'delivery', addDays(anchor, 4), '18:00');
  const washFoldId = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold').id as string;
  const who = await actor(t);
  const addressId = await address(t, who.userId, z.postcode);
  const body = {
    cadence: 'weekly',
    anchorDate: anchor,
    pickupStart: '18:00',
    deliveryDaysAfter: 4,
    deliveryStart: '18:00',
    addressId,
    items: [{ serviceId: washFoldId, estimatedWeightGrams: 6000 }],
    paymentMethod: 'on_delivery',
  };
  const create = async (over: Record<string, unknown> = {}, as: Actor = who) => t.api.post('/v1/me/recurring-pickups', { ...body, ...over }, { token: as.token });
  return { z, anchor, evening, morning, delivery, who, addressId, body, create };
}

export async function ordersOf(t: Harness, userId: string) {
  return t.sql<{ id: string; pickup_slot_id: string; delivery_slot_id: string; status: string; estimated_total: number }>(
    'SELECT id, pickup_slot_id, delivery_slot_id, status::text AS status, estimated_total FROM orders WHERE user_id = $1', [userId]);
}

export function recurringJourney(harness: () => Harness) {
  let t: Harness;
  beforeEach(() => {
    t = harness();
  });
  describe('managing recurring pickups', () => {
    it('creates, lists with next dates, pauses, resumes and deletes', async () => {
      const w = await recurringWorld(t, );
      const created = await w.create();
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({
        cadence: 'weekly', anchorDate: w.anchor, status: 'active', timeZone: 'UTC', skippedDates: [], recentOccurrences: [],
        weekday: new Date(`${w.anchor}T00:00:00Z`).getUTCDay(),
      });
      expect(created.body.nextDates.slice(0, 3)).toEqual([w.anchor, addDays(w.anchor, 7), addDays(w.anchor, 14)]);
      const path = `/v1/me/recurring-pickups/${created.body.id}`;

      const paused = await t.api.patch(path, { status: 'paused' }, { token: w.who.token });
      expect(paused.status, paused.text).toBe(200);
      expect(paused.body).toMatchObject({ status: 'paused', nextDates: [] });
      const resumed = await t.api.patch(path, { status: 'active', cadence: 'biweekly' }, { token: w.who.token });
      expect(resumed.body.nextDates.slice(0, 2)).toEqual([w.anchor, addDays(w.anchor, 14)]);

      const listed = await t.api.get('/v1/me/recurring-pickups', { token: w.who.token });
      expect(listed.body.items.map((s: { id: string }) => s.id)).toEqual([created.body.id]);
      const stranger = await actor(t);
      expect((await t.api.get('/v1/me/recurring-pickups', { token: stranger.token })).body.items).toEqual([]);
      expectProblem(await t.api.patch(path, { status: 'paused' }, { token: stranger.token }), 404, 'not_found');
      expectProblem(await t.api.send('DELETE', path, undefined, { token: stranger.token }), 404, 'not_found');

      expect((await t.api.send('DELETE', path, undefined, { token: w.who.token })).status).toBe(204);
      expectProblem(await t.api.send('DELETE', path, undefined, { token: w.who.token }), 404, 'not_found');
      expect((await t.api.get('/v1/me/recurring-pickups', { token: w.who.token })).body.items).toEqual([]);
    });

    it('refuses bad input with a code and writes nothing', async () => {
      const w = await recurringWorld(t, );
      const other = await actor(t);
      const othersAddress = await address(t, other.userId, w.z.postcode);
      const unserved = await address(t, w.who.userId, '999999999');
      expectProblem(await w.create({ addressId: othersAddress }), 404, 'not_found');
      expectProblem(await w.create({ addressId: unserved }), 422, 'postcode_not_served');
      expect(expectProblem(await w.create({ pickupStart: '07:00' }), 422, 'recurring_window_unavailable').details).toEqual({ window: 'pickup', start: '07:00' });
      expectProblem(await w.create({ deliveryStart: '10:00' }), 422, 'recurring_window_unavailable');
      expectProblem(await w.create({ deliveryDaysAfter: 3 }), 422, 'recurring_window_unavailable'); // no delivery window that weekday
      expectProblem(await w.create({ deliveryDaysAfter: 0, deliveryStart: '10:00' }), 422, 'delivery_too_early');
      expectProblem(await w.create({ anchorDate: addDays(w.anchor, -3) }), 422, 'validation_failed');
      for (const bad of [
        { pickupStart: '25:00' }, { pickupStart: '6pm' }, { cadence: 'monthly' }, { anchorDate: '2026-02-30' }, { items: [] },
        { deliveryDaysAfter: -1 }, { deliveryDaysAfter: 15 }, { price: 1 }, { addressId: 'nope' },
      ]) {
        expectProblem(await w.create(bad), 422, 'validation_failed');
      }
      const [row] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM recurring_pickups WHERE user_id = $1', [w.who.userId]);
      expect(row!.n).toBe(0);
      const ok = await w.create();
      const path = `/v1/me/recurring-pickups/${ok.body.id}`;
      expectProblem(await t.api.patch(path, { pickupStart: '07:00' }, { token: w.who.token }), 422, 'recurring_window_unavailable');
      expectProblem(await t.api.patch(path, {}, { token: w.who.token }), 422, 'validation_failed');
      expect((await t.api.get('/v1/me/recurring-pickups', { token: w.who.token })).body.items[0]).toMatchObject({ pickupStart: '18:00' });
      expectProblem(await t.api.post(`${path}/skip`, { date: addDays(w.anchor, 1) }, { token: w.who.token }), 422, 'skip_date_invalid');
      expectProblem(await t.api.post(`${path}/skip`, { date: addDays(w.anchor, -7) }, { token: w.who.token }), 422, 'skip_date_invalid');
      expectProblem(await t.api.post(`${path}/skip`, { date: w.anchor }, { token: other.token }), 404, 'not_found');
    });
  });
}
