/**
 * POST /v1/admin/zones/{id}/slots/generate in one round trip when the zone's time zone is
 * remembered (src/modules/zones/generate-slots.ts), counted by the local Neon endpoint on the real
 * neon-http driver; two when it is not or has changed, and the answer is the same either way:
 * closed dates left out (read in the same statement), clock changes planned in the zone's current
 * time zone, re-runs skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actor, zone, type Actor } from '../support/fixtures.js';
import { createNeonTestApp, roundTripsOf, type NeonTestApp } from '../support/neon-app.js';

let app: NeonTestApp;
let admin: Actor;

beforeAll(async () => {
  app = await createNeonTestApp();
  admin = await actor(app.t, 'admin');
});
afterAll(async () => {
  await app.close();
});

// Mondays: 2030-03-25 (the week London's clocks go forward, on Sunday 31st), 2030-04-01, 2030-04-08.
const windows = [
  { weekday: 1, start: '09:00', end: '11:00', kind: 'pickup', capacity: 5 },
  { weekday: 0, start: '01:00', end: '02:00', kind: 'delivery', capacity: 3 },
];
const body = (from: string, to: string) => ({ cutoffMinutes: 120, windows, from, to });

async function generate(zoneId: string, input: object) {
  let answer: any;
  const { trips } = await roundTripsOf(
    app.endpoint,
    async () => {
      const res = await app.t.api.post(`/v1/admin/zones/${zoneId}/slots/generate`, input, { token: admin.token });
      answer = res.body;
      return res;
    },
    201,
  );
  return { trips, answer };
}

describe('slot generation round trips', () => {
  it('a zone never read in this process: read + write (2); then one statement, re-runs skipped', async () => {
    const z = await zone(app.t, { timeZone: 'Europe/London' });
    const first = await generate(z.id, body('2030-03-25', '2030-04-01'));
    expect(first.trips).toBe(2);
    // 25 Mar 09:00 GMT, 1 Apr 09:00 BST; the Sunday 01:00-02:00 window falls in the gap on 31 Mar.
    expect(first.answer.data.map((s: { startsAt: string }) => s.startsAt)).toEqual(['2030-03-25T09:00:00.000Z', '2030-04-01T08:00:00.000Z']);
    expect(first.answer.skippedWindows).toEqual([{ date: '2030-03-31', kind: 'delivery', start: '01:00', end: '02:00', reason: 'nonexistent_local_time' }]);
    const again = await generate(z.id, body('2030-03-25', '2030-04-01'));
    expect(again.trips).toBe(1);
    expect(again.answer).toMatchObject({ created: 0, skipped: 2, data: [] });
    expect(again.answer.skippedWindows).toEqual(first.answer.skippedWindows);
  });

  it('a zone created through the API: one statement, with a closure added since left out', async () => {
    const made = await app.t.api.post(
      '/v1/admin/zones',
      { name: `RT zone ${crypto.randomUUID().slice(0, 8)}`, postcodePrefixes: [`Q${Math.floor(Math.random() * 90 + 10)}`], timeZone: 'Europe/London', deliveryFee: 0, minimumOrder: 0, freeDeliveryFrom: null },
      { token: admin.token },
    );
    expect(made.status, made.text).toBe(201);
    const zoneId = made.body.id as string;
    await app.t.sql(`INSERT INTO zone_closures (zone_id, date, reason) VALUES ($1, '2030-03-31', 'x'), ($1, '2030-04-08', 'x')`, [zoneId]);
    const r = await generate(zoneId, body('2030-03-25', '2030-04-08'));
    expect(r.trips).toBe(1);
    // Mondays 25 Mar and 1 Apr, Sunday 7 Apr (01:00 BST); Monday 8 Apr is closed.
    expect(r.answer.data.map((s: { startsAt: string }) => s.startsAt)).toEqual(['2030-03-25T09:00:00.000Z', '2030-04-01T08:00:00.000Z', '2030-04-07T00:00:00.000Z']);
    // The window the clock skips is on a closed date (31 Mar): not reported, as before.
    expect(r.answer.skippedWindows).toEqual([]);
    expect(r.answer).toMatchObject({ created: 3, skipped: 0 });
  });

  it('a remembered time zone that changed since: the write refuses, the plan is redone in the new one (2)', async () => {
    const z = await zone(app.t, { timeZone: 'Europe/London' });
    expect((await generate(z.id, body('2030-03-25', '2030-03-25'))).trips).toBe(2);
    await app.t.sql(`UPDATE zones SET time_zone = 'America/New_York' WHERE id = $1`, [z.id]);
    const moved = await generate(z.id, body('2030-04-01', '2030-04-01'));
    expect(moved.trips).toBe(2);
    expect(moved.answer.data.map((s: { startsAt: string }) => s.startsAt)).toEqual(['2030-04-01T13:00:00.000Z']);
    expect((await generate(z.id, body('2030-04-08', '2030-04-08'))).trips).toBe(1);
  });

  it('a zone that does not exist: 404 not_found', async () => {
    const res = await app.t.api.post(`/v1/admin/zones/${crypto.randomUUID()}/slots/generate`, body('2030-03-25', '2030-03-25'), { token: admin.token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });
});
