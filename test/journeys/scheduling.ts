import { describe, expect, it } from 'vitest';
import { expectProblem, type ApiResponse } from '../support/client.js';
import { actor, address, slot, uniquePrefix, zone } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { schedulingRulesJourney } from './scheduling-rules.js';

/** Addresses, coverage, public slots and the admin side of zones, slots and closures. */
export function schedulingJourney(harness: () => Harness) {
  const DAY = 86_400_000;
  const ids = (res: ApiResponse) => res.body.data.map((s: { id: string }) => s.id);
  const del = (path: string, token?: string) => harness().api.send('DELETE', path, undefined, token ? { token } : {});
  const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
  const fields = (res: ApiResponse) => expectProblem(res, 422, 'validation_failed').errors.map((e: { field: string }) => e.field);
  const newZone = (overrides: Record<string, unknown> = {}) => ({
    name: 'Test zone',
    postcodePrefixes: [uniquePrefix()],
    timeZone: 'Europe/London',
    deliveryFee: 499,
    minimumOrder: 1500,
    freeDeliveryFrom: 5000,
    ...overrides,
  });
  const slotsFor = (postcode: string, query = '') =>
    harness().api.get(`/v1/slots?postcode=${encodeURIComponent(postcode)}&kind=pickup${query}`);
  // No zone covers it: fixture prefixes are '0' and 8 digits, and it is not UK-shaped.
  const UNSERVED = '9Q9 9QQ';

  describe('addresses', () => {
    it('creates, lists newest first, changes and deletes; `served` follows the zones', async () => {
      const h = harness();
      const z = await zone(h);
      const { token } = await actor(h);
      const home = await h.api.post('/v1/addresses', { label: 'Home', line1: '1 High St', city: 'Leeds', postcode: ` ${z.prefix.slice(0, 4)} ${z.prefix.slice(4)}1 ` }, { token });
      expect(home.status, home.text).toBe(201);
      expect(home.body).toMatchObject({ label: 'Home', line2: null, postcode: `${z.prefix}1`, served: true, zoneId: z.id });
      const far = await h.api.post('/v1/addresses', { line1: '2 Far Rd', city: 'Elsewhere', postcode: UNSERVED }, { token });
      expect(far.status, far.text).toBe(201);
      expect(far.body).toMatchObject({ label: null, postcode: '9Q99QQ', served: false, zoneId: null });

      expect(ids(await h.api.get('/v1/addresses', { token }))).toEqual([far.body.id, home.body.id]);

      const moved = await h.api.patch(`/v1/addresses/${far.body.id}`, { postcode: z.postcode, line2: 'Flat 2' }, { token });
      expect(moved.status, moved.text).toBe(200);
      expect(moved.body).toMatchObject({ line1: '2 Far Rd', line2: 'Flat 2', served: true, zoneId: z.id });
      const cleared = await h.api.patch(`/v1/addresses/${home.body.id}`, { label: null }, { token });
      expect(cleared.body).toMatchObject({ label: null, line1: '1 High St' });

      expect((await del(`/v1/addresses/${home.body.id}`, token)).status).toBe(204);
      expect(ids(await h.api.get('/v1/addresses', { token }))).toEqual([far.body.id]);
      expectProblem(await h.api.get(`/v1/addresses/${home.body.id}`, { token }), 404, 'not_found');
      expectProblem(await del(`/v1/addresses/${home.body.id}`, token), 404, 'not_found');
    });

    it("answers 404 for another customer's address and changes nothing", async () => {
      const h = harness();
      const z = await zone(h);
      const owner = await actor(h);
      const other = await actor(h);
      const id = await address(h, owner.userId, z.postcode);
      expectProblem(await h.api.get(`/v1/addresses/${id}`, { token: other.token }), 404, 'not_found');
      expectProblem(await h.api.patch(`/v1/addresses/${id}`, { line1: 'Hijacked' }, { token: other.token }), 404, 'not_found');
      expectProblem(await del(`/v1/addresses/${id}`, other.token), 404, 'not_found');
      expect(await h.sql('SELECT line1, user_id FROM addresses WHERE id = $1', [id])).toEqual([{ line1: '1 Test Street', user_id: owner.userId }]);
      expect((await h.api.get('/v1/addresses', { token: other.token })).body.data).toEqual([]);
      expectProblem(await h.api.get(`/v1/addresses/${crypto.randomUUID()}`, { token: owner.token }), 404, 'not_found');
      expect(fields(await h.api.patch('/v1/addresses/not-a-uuid', { line1: 'x' }, { token: owner.token }))).toContain('param.id');
      expectProblem(await h.api.get('/v1/addresses'), 401, 'auth_required');
      expectProblem(await h.api.post('/v1/addresses', { line1: 'x', city: 'y', postcode: 'AB1' }), 401, 'auth_required');
    });

    it('rejects bad input with field errors and caps a user at 20 addresses', async () => {
      const h = harness();
      const { token, userId } = await actor(h);
      const ok = { line1: '1 Road', city: 'Town', postcode: 'AB1 2CD' };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ city: 'Town', postcode: 'AB1' }, 'body.line1'],
        [{ ...ok, city: 5 }, 'body.city'],
        [{ ...ok, postcode: '!!' }, 'body.postcode'],
        [{ ...ok, postcode: 'ABCDE FGHIJK' }, 'body.postcode'],
        [{ ...ok, label: '' }, 'body.label'],
        [{ ...ok, userId }, 'body'],
      ];
      for (const [body, field] of cases) expect(fields(await h.api.post('/v1/addresses', body, { token })), JSON.stringify(body)).toContain(field);
      const id = (await h.api.post('/v1/addresses', ok, { token })).body.id;
      expect(fields(await h.api.patch(`/v1/addresses/${id}`, {}, { token }))).toContain('body');
      expect(fields(await h.api.patch(`/v1/addresses/${id}`, { city: null }, { token }))).toContain('body.city');

      await h.sql(`INSERT INTO addresses (user_id, line1, city, postcode) SELECT $1, 'x', 'y', 'AB1' FROM generate_series(1, 18)`, [userId]);
      expect((await h.api.post('/v1/addresses', ok, { token })).status).toBe(201);
      expectProblem(await h.api.post('/v1/addresses', ok, { token }), 409, 'address_limit_reached');
      expect(await h.sql('SELECT count(*)::int AS n FROM addresses WHERE user_id = $1', [userId])).toEqual([{ n: 20 }]);
    });
  });

  describe('coverage and slots', () => {
    it('coverage normalises, prefers the longest prefix and says when a postcode is not served', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const p = uniquePrefix();
      const broad = (await h.api.post('/v1/admin/zones', newZone({ name: 'Broad', postcodePrefixes: [p] }), { token })).body;
      const narrow = (await h.api.post('/v1/admin/zones', newZone({ name: 'Narrow', postcodePrefixes: [`${p}9`] }), { token })).body;
      const cover = (postcode: string) => h.api.get(`/v1/coverage?postcode=${encodeURIComponent(postcode)}`);

      const inNarrow = await cover(` ${p} 9`);
      expect(inNarrow.status, inNarrow.text).toBe(200);
      expect(inNarrow.body).toMatchObject({ postcode: `${p}9`, served: true, zone: { id: narrow.id, name: 'Narrow', timeZone: 'Europe/London' } });
      expect((await cover(`${p}1`)).body.zone.id).toBe(broad.id);
      await h.api.patch(`/v1/admin/zones/${narrow.id}`, { active: false }, { token });
      expect((await cover(`${p}9`)).body.zone.id).toBe(broad.id);

      const unserved = await cover(UNSERVED);
      expect(unserved.status).toBe(200);
      expect(unserved.body).toMatchObject({ postcode: '9Q99QQ', served: false, zone: null });
      expect(unserved.body.message).toContain('9Q99QQ');
      expectProblem(await cover('!!'), 422, 'invalid_postcode');
      expect(fields(await h.api.get('/v1/coverage'))).toContain('query.postcode');
    });

    it('offers only bookable windows: not past cut-off, full, closed or on a closed date', async () => {
      const h = harness();
      const z = await zone(h);
      const ok = await slot(h, z.id, 'pickup', { startsInHours: 24, capacity: 10, reserved: 3 });
      const later = await slot(h, z.id, 'pickup', { startsInHours: 48 });
      await slot(h, z.id, 'pickup', { startsInHours: 1, cutoffMinutes: 120 });
      await slot(h, z.id, 'pickup', { startsInHours: 30, capacity: 2, reserved: 2 });
      await slot(h, z.id, 'pickup', { startsInHours: 36, closed: true });
      const onClosedDay = await slot(h, z.id, 'pickup', { startsInHours: 24 * 5 });
      // Closed straight in the table, so the slot itself is still open: the listing must check closures.
      await h.sql('INSERT INTO zone_closures (zone_id, date) VALUES ($1, $2)', [z.id, onClosedDay.startsAt.toISOString().slice(0, 10)]);
      const delivery = await slot(h, z.id, 'delivery', { startsInHours: 26 });
      const far = await slot(h, z.id, 'pickup', { startsInHours: 24 * 20 });

      const res = await slotsFor(z.postcode);
      expect(res.status, res.text).toBe(200);
      expect(res.body.zone).toMatchObject({ id: z.id, timeZone: 'UTC' });
      expect(ids(res)).toEqual([ok.id, later.id]);
      expect(res.body.data[0]).toEqual({
        id: ok.id,
        kind: 'pickup',
        startsAt: ok.startsAt.toISOString(),
        endsAt: ok.endsAt.toISOString(),
        capacity: 10,
        remaining: 7,
        cutoffAt: new Date(ok.startsAt.getTime() - 120 * 60_000).toISOString(),
      });
      const to = new Date(Date.now() + 25 * DAY).toISOString();
      expect(ids(await slotsFor(z.postcode, `&to=${to}`))).toEqual([ok.id, later.id, far.id]);
      const deliveries = await h.api.get(`/v1/slots?postcode=${z.postcode}&kind=delivery`);
      expect(ids(deliveries)).toEqual([delivery.id]);
      const empty = await zone(h);
      expect((await slotsFor(empty.postcode)).body).toMatchObject({ zone: { id: empty.id }, data: [] });
    });

    it('refuses ranges over 31 days, bad parameters and unserved postcodes', async () => {
      const h = harness();
      const z = await zone(h);
      const from = new Date();
      const at = (days: number) => new Date(from.getTime() + days * DAY).toISOString();
      expectProblem(await slotsFor(z.postcode, `&from=${from.toISOString()}&to=${at(32)}`), 422, 'invalid_range');
      expectProblem(await slotsFor(z.postcode, `&from=${at(2)}&to=${at(1)}`), 422, 'invalid_range');
      expect((await slotsFor(z.postcode, `&from=${from.toISOString()}&to=${at(31)}`)).status).toBe(200);
      expect(fields(await slotsFor(z.postcode, '&from=tomorrow'))).toContain('query.from');
      expect(fields(await h.api.get(`/v1/slots?postcode=${z.postcode}&kind=laundry`))).toContain('query.kind');
      expectProblem(await slotsFor(UNSERVED), 422, 'postcode_not_served');
      expectProblem(await slotsFor('!!'), 422, 'invalid_postcode');
    });
  });

  describe('admin scheduling', () => {
    it('needs an admin: no token → 401, customer or staff → 403', async () => {
      const h = harness();
      const z = await zone(h);
      const customer = await actor(h);
      const staff = await actor(h, 'staff');
      const calls: Array<[string, string, unknown?]> = [
        ['GET', '/v1/admin/zones'],
        ['POST', '/v1/admin/zones', newZone()],
        ['PATCH', `/v1/admin/zones/${z.id}`, { active: false }],
        ['GET', `/v1/admin/zones/${z.id}/slots`],
        ['POST', `/v1/admin/zones/${z.id}/slots`, { kind: 'pickup', startsAt: '2030-01-01T09:00:00Z', endsAt: '2030-01-01T11:00:00Z', capacity: 1 }],
        ['POST', `/v1/admin/zones/${z.id}/slots/generate`, { cutoffMinutes: 0, windows: [], from: '2030-01-01', to: '2030-01-02' }],
        ['PATCH', `/v1/admin/slots/${crypto.randomUUID()}`, { capacity: 1 }],
        ['POST', `/v1/admin/zones/${z.id}/closures`, { date: '2030-01-01' }],
        ['DELETE', `/v1/admin/zones/${z.id}/closures/2030-01-01`],
      ];
      for (const [method, path, body] of calls) {
        expectProblem(await h.api.send(method, path, body), 401, 'auth_required');
        expectProblem(await h.api.send(method, path, body, { token: customer.token }), 403, 'forbidden');
        expectProblem(await h.api.send(method, path, body, { token: staff.token }), 403, 'forbidden');
      }
      expect(await h.sql('SELECT active FROM zones WHERE id = $1', [z.id])).toEqual([{ active: true }]);
    });

    it('creates and changes zones, and rejects bad ones', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const p = uniquePrefix();
      const created = await h.api.post('/v1/admin/zones', newZone({ postcodePrefixes: [` ${p} `, `${p}2`] }), { token });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ postcodePrefixes: [p, `${p}2`], timeZone: 'Europe/London', active: true, freeDeliveryFrom: 5000 });
      const listed = await h.api.get('/v1/admin/zones', { token });
      expect(ids(listed)).toContain(created.body.id);
      const changed = await h.api.patch(`/v1/admin/zones/${created.body.id}`, { deliveryFee: 0, freeDeliveryFrom: null }, { token });
      expect(changed.body).toMatchObject({ deliveryFee: 0, freeDeliveryFrom: null, minimumOrder: 1500 });

      const cases: Array<[Record<string, unknown>, string]> = [
        [newZone({ timeZone: 'Mars/Olympus' }), 'body.timeZone'],
        [newZone({ timeZone: '+01:00' }), 'body.timeZone'],
        [newZone({ postcodePrefixes: [] }), 'body.postcodePrefixes'],
        [newZone({ postcodePrefixes: ['ABCDEFGHIJK'] }), 'body.postcodePrefixes.0'],
        [newZone({ postcodePrefixes: ['AB1', 'ab 1'] }), 'body.postcodePrefixes'],
        [newZone({ deliveryFee: 4.99 }), 'body.deliveryFee'],
        [newZone({ name: undefined }), 'body.name'],
      ];
      for (const [body, field] of cases) expect(fields(await h.api.post('/v1/admin/zones', body, { token })), JSON.stringify(body)).toContain(field);
      expectProblem(await h.api.patch(`/v1/admin/zones/${crypto.randomUUID()}`, { active: false }, { token }), 404, 'not_found');
      expect(fields(await h.api.patch('/v1/admin/zones/not-a-uuid', { active: false }, { token }))).toContain('param.id');
      expect(fields(await h.api.patch(`/v1/admin/zones/${created.body.id}`, {}, { token }))).toContain('body');
    });

    it('generates slots in local time across a DST change, skips closed dates and is repeatable', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const z = (await h.api.post('/v1/admin/zones', newZone({ timeZone: 'Europe/London' }), { token })).body;
      const closure = await h.api.post(`/v1/admin/zones/${z.id}/closures`, { date: '2026-03-30' }, { token });
      expect(closure.status, closure.text).toBe(201);
      const windows = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '09:00', end: '11:00', kind: 'pickup', capacity: 5 }));
      const body = { cutoffMinutes: 120, windows, from: '2026-03-27', to: '2026-03-31' };
      const gen = await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, body, { token });
      expect(gen.status, gen.text).toBe(201);
      // London moves to BST on Sunday 29 March: 09:00 local is 09:00Z before, 08:00Z after.
      const starts = ['2026-03-27T09:00:00.000Z', '2026-03-28T09:00:00.000Z', '2026-03-29T08:00:00.000Z', '2026-03-31T08:00:00.000Z'];
      expect(gen.body.created).toBe(4);
      expect(gen.body.skipped).toBe(0);
      expect(gen.body.data.map((s: { startsAt: string }) => s.startsAt)).toEqual(starts);
      expect(gen.body.data[2]).toMatchObject({ endsAt: '2026-03-29T10:00:00.000Z', capacity: 5, reserved: 0, cutoffMinutes: 120, closed: false });

      const again = await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, body, { token });
      expect(again.body).toEqual({ created: 0, skipped: 4, data: [], skippedWindows: [], adjustedWindows: [] });
      const listed = await h.api.get(`/v1/admin/zones/${z.id}/slots?from=2026-03-27T00:00:00Z&to=2026-04-01T00:00:00Z`, { token });
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body.zone.id).toBe(z.id);
      expect(listed.body.data.map((s: { startsAt: string }) => s.startsAt)).toEqual(starts);

      const overlap = [{ ...windows[1]!, start: '09:00', end: '11:00' }, { ...windows[1]!, start: '10:30', end: '12:00' }];
      expect(fields(await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { ...body, windows: overlap }, { token }))).toContain('body.windows.1');
      const backwards = [{ ...windows[1]!, start: '11:00', end: '09:00' }];
      expect(fields(await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { ...body, windows: backwards }, { token }))).toContain('body.windows.0.end');
      expect(fields(await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { ...body, from: '2026-02-30' }, { token }))).toContain('body.from');
      expectProblem(await h.api.post(`/v1/admin/zones/${z.id}/slots/generate`, { ...body, to: '2026-06-30' }, { token }), 422, 'invalid_range');
      expectProblem(await h.api.post(`/v1/admin/zones/${crypto.randomUUID()}/slots/generate`, body, { token }), 404, 'not_found');
      expectProblem(await h.api.get(`/v1/admin/zones/${crypto.randomUUID()}/slots`, { token }), 404, 'not_found');
    });

    it('a closed date closes its local slots at once; reopening restores them', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const p = uniquePrefix();
      const z = (await h.api.post('/v1/admin/zones', newZone({ postcodePrefixes: [p], timeZone: 'America/New_York' }), { token })).body;
      const d = addDays(new Date().toISOString().slice(0, 10), 10);
      const add = async (startsAt: string) => {
        const endsAt = new Date(Date.parse(startsAt) + 3_600_000).toISOString();
        const res = await h.api.post(`/v1/admin/zones/${z.id}/slots`, { kind: 'pickup', startsAt, endsAt, capacity: 4 }, { token });
        expect(res.status, res.text).toBe(201);
        return res.body;
      };
      // New York is 4-5 hours behind UTC: 03:00Z is still the day before there, 02:00Z next day is still `d`.
      const before = await add(`${d}T03:00:00Z`);
      const morning = await add(`${d}T15:00:00Z`);
      const evening = await add(`${addDays(d, 1)}T02:00:00Z`);
      const list = () => slotsFor(`${p}1`, `&from=${addDays(d, -1)}T00:00:00Z&to=${addDays(d, 2)}T00:00:00Z`);
      expect(ids(await list())).toEqual([before.id, morning.id, evening.id]);

      const closed = await h.api.post(`/v1/admin/zones/${z.id}/closures`, { date: d, reason: 'Staff training' }, { token });
      expect(closed.status, closed.text).toBe(201);
      expect(closed.body).toMatchObject({ zoneId: z.id, date: d, reason: 'Staff training', slotsClosed: 2 });
      const repeat = await h.api.post(`/v1/admin/zones/${z.id}/closures`, { date: d }, { token });
      expect(repeat.status).toBe(200);
      expect(repeat.body).toMatchObject({ date: d, reason: 'Staff training', slotsClosed: 2 });
      expect(ids(await list())).toEqual([before.id]);
      const flags = await h.sql<{ id: string; closed: boolean }>('SELECT id, closed FROM slots WHERE zone_id = $1 ORDER BY starts_at', [z.id]);
      expect(flags).toEqual([{ id: before.id, closed: false }, { id: morning.id, closed: true }, { id: evening.id, closed: true }]);
      const late = await add(`${d}T20:00:00Z`);
      expect(late.closed).toBe(true);

      expect((await del(`/v1/admin/zones/${z.id}/closures/${d}`, token)).status).toBe(204);
      expect(ids(await list())).toEqual([before.id, morning.id, late.id, evening.id]);
      expectProblem(await del(`/v1/admin/zones/${z.id}/closures/${d}`, token), 404, 'not_found');
      expectProblem(await del(`/v1/admin/zones/${crypto.randomUUID()}/closures/${d}`, token), 404, 'not_found');
      expect(fields(await del(`/v1/admin/zones/${z.id}/closures/2026-02-30`, token))).toContain('param.date');
      expectProblem(await h.api.post(`/v1/admin/zones/${crypto.randomUUID()}/closures`, { date: d }, { token }), 404, 'not_found');
      expect(fields(await h.api.post(`/v1/admin/zones/${z.id}/closures`, { date: '25/12/2026' }, { token }))).toContain('body.date');

      const dupe = { kind: 'pickup', startsAt: morning.startsAt, endsAt: morning.endsAt, capacity: 1 };
      expectProblem(await h.api.post(`/v1/admin/zones/${z.id}/slots`, dupe, { token }), 409, 'slot_exists');
      expect(fields(await h.api.post(`/v1/admin/zones/${z.id}/slots`, { ...dupe, endsAt: dupe.startsAt }, { token }))).toContain('body.endsAt');
      expectProblem(await h.api.post(`/v1/admin/zones/${crypto.randomUUID()}/slots`, dupe, { token }), 404, 'not_found');
    });

    it('will not lower a slot’s capacity below what is already booked', async () => {
      const h = harness();
      const { token } = await actor(h, 'admin');
      const z = await zone(h);
      const s = await slot(h, z.id, 'pickup', { capacity: 5, reserved: 3 });
      const problem = expectProblem(await h.api.patch(`/v1/admin/slots/${s.id}`, { capacity: 2 }, { token }), 409, 'capacity_below_reserved');
      expect(problem.details).toMatchObject({ slotId: s.id });
      expect(await h.sql('SELECT capacity, reserved FROM slots WHERE id = $1', [s.id])).toEqual([{ capacity: 5, reserved: 3 }]);
      const exact = await h.api.patch(`/v1/admin/slots/${s.id}`, { capacity: 3 }, { token });
      expect(exact.status, exact.text).toBe(200);
      expect(exact.body).toMatchObject({ id: s.id, capacity: 3, reserved: 3, remaining: 0 });
      const shut = await h.api.patch(`/v1/admin/slots/${s.id}`, { closed: true, cutoffMinutes: 60 }, { token });
      expect(shut.body).toMatchObject({ closed: true, cutoffMinutes: 60 });
      expectProblem(await h.api.patch(`/v1/admin/slots/${crypto.randomUUID()}`, { capacity: 3 }, { token }), 404, 'not_found');
      expect(fields(await h.api.patch(`/v1/admin/slots/${s.id}`, { capacity: 0 }, { token }))).toContain('body.capacity');
      expect(fields(await h.api.patch(`/v1/admin/slots/${s.id}`, { reserved: 0 }, { token }))).toContain('body');
    });
  });

  schedulingRulesJourney(harness);
}
