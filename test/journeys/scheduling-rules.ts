import { describe, expect, it } from 'vitest';
import { expectProblem, type ApiResponse } from '../support/client.js';
import { actor, address, slot, uniquePrefix } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

/**
 * Issue 11: slot generation across clock changes, and postcode matching that follows the
 * postcode's structure. Run from `schedulingJourney`, on Node and in workerd.
 */
export function schedulingRulesJourney(harness: () => Harness) {
  const fields = (res: ApiResponse) => expectProblem(res, 422, 'validation_failed').errors.map((e: { field: string }) => e.field);
  const newZone = (postcodePrefixes: string[], timeZone = 'Europe/London') => ({
    name: `Rules ${postcodePrefixes.join(' ')}`,
    postcodePrefixes,
    timeZone,
    deliveryFee: 499,
    minimumOrder: 1500,
    freeDeliveryFrom: 5000,
  });

  describe('slot generation across clock changes', () => {
    it('a window in the London spring-forward gap is skipped and reported; the other days are created', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const z = (await h.api.post('/v1/admin/zones', newZone([uniquePrefix()]), { token })).body;
      const windows = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '01:00', end: '02:00', kind: 'pickup', capacity: 3 }));
      const gen = await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { cutoffMinutes: 60, windows, from: '2026-03-27', to: '2026-03-31' }, { token });
      expect(gen.status, gen.text).toBe(201);
      expect(gen.body.created).toBe(4);
      // 01:00 local is 01:00Z in GMT (27, 28 March) and 00:00Z in BST (30, 31 March).
      expect(gen.body.data.map((s: { startsAt: string; endsAt: string }) => [s.startsAt, s.endsAt])).toEqual([
        ['2026-03-27T01:00:00.000Z', '2026-03-27T02:00:00.000Z'],
        ['2026-03-28T01:00:00.000Z', '2026-03-28T02:00:00.000Z'],
        ['2026-03-30T00:00:00.000Z', '2026-03-30T01:00:00.000Z'],
        ['2026-03-31T00:00:00.000Z', '2026-03-31T01:00:00.000Z'],
      ]);
      expect(gen.body.skippedWindows).toEqual([{ date: '2026-03-29', kind: 'pickup', start: '01:00', end: '02:00', reason: 'nonexistent_local_time' }]);
      expect(gen.body.adjustedWindows).toEqual([]);

      // Straddling the gap: the part that happens. In the repeated hour on fall-back: the first pass.
      const night = [
        { weekday: 0, start: '00:30', end: '01:30', kind: 'delivery', capacity: 2 },
        { weekday: 0, start: '01:30', end: '03:00', kind: 'pickup', capacity: 2 },
      ];
      const spring = await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { cutoffMinutes: 0, windows: night, from: '2026-03-29', to: '2026-03-29' }, { token });
      expect(spring.status, spring.text).toBe(201);
      expect(spring.body.data.map((s: { kind: string; startsAt: string; endsAt: string }) => [s.kind, s.startsAt, s.endsAt])).toEqual([
        ['delivery', '2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z'],
        ['pickup', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
      ]);
      expect(spring.body.adjustedWindows.map((a: { reason: string }) => a.reason)).toEqual(['clipped_by_gap', 'clipped_by_gap']);
      const autumn = await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { cutoffMinutes: 0, windows: night, from: '2026-10-25', to: '2026-10-25' }, { token });
      expect(autumn.status, autumn.text).toBe(201);
      expect(autumn.body.data.map((s: { kind: string; startsAt: string; endsAt: string }) => [s.kind, s.startsAt, s.endsAt])).toEqual([
        ['delivery', '2026-10-24T23:30:00.000Z', '2026-10-25T00:30:00.000Z'],
        ['pickup', '2026-10-25T00:30:00.000Z', '2026-10-25T03:00:00.000Z'],
      ]);
      expect(autumn.body.adjustedWindows).toMatchObject([
        { date: '2026-10-25', kind: 'delivery', reason: 'repeated_hour', startsAt: '2026-10-24T23:30:00.000Z', endsAt: '2026-10-25T00:30:00.000Z' },
        { date: '2026-10-25', kind: 'pickup', reason: 'repeated_hour' },
      ]);
    });
  });

  describe('postcode matching follows the postcode structure', () => {
    it("the README's zone [SW1, W1] covers its districts only; SW covers SW but not S; digits match as prefixes", async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const made: string[] = [];
      const create = async (prefixes: string[]) => {
        const res = await h.api.post('/v1/admin/zones', newZone(prefixes), { token });
        expect(res.status, res.text).toBe(201);
        made.push(res.body.id);
        return res.body.id as string;
      };
      const zoneOf = async (postcode: string) => {
        const res = await h.api.get(`/v1/coverage?postcode=${encodeURIComponent(postcode)}`);
        expect(res.status, res.text).toBe(200);
        expect(res.body.served).toBe(res.body.zone !== null);
        return res.body.zone?.id ?? null;
      };
      try {
        const central = await create(['sw1', 'W 1']);
        for (const served of ['SW1A 1AA', 'sw1p 3bu', 'W1A 0AX', 'W1T 1AB']) expect(await zoneOf(served), served).toBe(central);
        for (const unserved of ['SW19 5AE', 'SW11 1AA', 'W12 8QT', 'W13 9AA', 'S1 1AA']) expect(await zoneOf(unserved), unserved).toBeNull();

        const south = await create(['SW']);
        expect(await zoneOf('SW19 5AE')).toBe(south);
        expect(await zoneOf('SW1A 1AA')).toBe(central); // the district is more specific than the area
        expect(await zoneOf('S1 1AA')).toBeNull();

        const zip = await create(['941']);
        const street = await create(['94103']);
        expect(await zoneOf('94107')).toBe(zip);
        expect(await zoneOf('94103')).toBe(street);
        expect(await zoneOf('94103-1234')).toBe(street);
        expect(await zoneOf('94203')).toBeNull();

        // Saved addresses and bookings use the same rule.
        const customer = await actor(h);
        const wimbledon = await h.api.post('/v1/addresses', { line1: '1 Centre Court', city: 'London', postcode: 'SW19 5AE' }, { token: customer.token });
        expect(wimbledon.body).toMatchObject({ postcode: 'SW195AE', served: true, zoneId: south });
        await h.api.patch(`/v1/admin/zones/${south}`, { active: false }, { token });
        expect((await h.api.get(`/v1/addresses/${wimbledon.body.id}`, { token: customer.token })).body).toMatchObject({ served: false, zoneId: null });

        const service = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
        const pickup = await slot(h, central, 'pickup', { startsInHours: 24 });
        const delivery = await slot(h, central, 'delivery', { startsInHours: 24 + 2 + 48 + 4 });
        const book = (addressId: string) =>
          h.api.post(
            '/v1/orders',
            { items: [{ serviceId: service.id, estimatedWeightGrams: 6000, addOnIds: [] }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'card' },
            { token: customer.token, headers: { 'idempotency-key': `k-${crypto.randomUUID()}` } },
          );
        for (const postcode of ['SW19 5AE', 'SW11 1AA', 'W12 8QT']) {
          expectProblem(await book(await address(h, customer.userId, postcode)), 422, 'postcode_not_served');
        }
        const inside = await book(await address(h, customer.userId, 'SW1A 1AA'));
        expect(inside.status, inside.text).toBe(201);
        expect(inside.body).toMatchObject({ zoneId: central });
      } finally {
        // Real UK areas: leave nothing active for later suites on the same database.
        for (const id of made) await h.api.patch(`/v1/admin/zones/${id}`, { active: false }, { token });
      }
    });

    it('refuses zone prefixes that cannot match at a boundary', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      for (const bad of ['SW1A1', 'SW1A 1AA', 'ABC', 'SW19A', '1AB', 'SW-1']) {
        expect(fields(await h.api.post('/v1/admin/zones', newZone(['SW1', bad]), { token })), bad).toContain('body.postcodePrefixes.1');
      }
      const z = (await h.api.post('/v1/admin/zones', { ...newZone([uniquePrefix()]), active: false }, { token })).body;
      expect(fields(await h.api.patch(`/v1/admin/zones/${z.id}`, { postcodePrefixes: ['SW1A1'] }, { token }))).toContain('body.postcodePrefixes.0');
      const fixed = await h.api.patch(`/v1/admin/zones/${z.id}`, { postcodePrefixes: ['sw1a', 'E1W', '10001'] }, { token });
      expect(fixed.status, fixed.text).toBe(200);
      expect(fixed.body.postcodePrefixes).toEqual(['SW1A', 'E1W', '10001']);
    });
  });
}
