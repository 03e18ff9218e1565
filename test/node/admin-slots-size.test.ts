/**
 * Neon refuses a SQL-over-HTTP response over 10 MiB (507). The admin slot listing is the one
 * read whose size the caller controls (up to 31 days of a zone's slots): a month of 5-minute
 * slots of both kinds, listed through the real neon-http driver and the local Neon endpoint at
 * Neon's real limit, must come back whole, in one round trip, well under the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEON_MAX_RESPONSE_BYTES, type LocalNeonServer } from '../../tools/local-neon/index.js';
import { actor, zone } from '../support/fixtures.js';
import { createNeonTestApp, type NeonTestApp } from '../support/neon-app.js';
import type { TestApp } from '../support/node-app.js';

let app: NeonTestApp;
let endpoint: LocalNeonServer;
let t: TestApp;

beforeAll(async () => {
  app = await createNeonTestApp();
  ({ t, endpoint } = app);
});
afterAll(async () => {
  await app.close();
});

const DAYS = 31; // the longest range the listing accepts
const SLOTS_PER_KIND = DAYS * 24 * 12;

describe('admin slot listing under Neon\'s 10 MiB response limit', () => {
  it('lists a month of 5-minute slots of both kinds in one round trip, well under the limit', async () => {
    const admin = await actor(t, 'admin');
    const z = await zone(t);
    // A zone that covers many districts: the zone row must not be repeated per slot.
    const prefixes = Array.from({ length: 40 }, (_, i) => `${z.prefix}${i}`);
    await t.sql('UPDATE zones SET postcode_prefixes = $1::text[], name = $2 WHERE id = $3::uuid', [`{${prefixes.join(',')}}`, `Zone ${z.prefix} and its districts`, z.id]);
    const from = new Date(Date.UTC(2031, 0, 1));
    const to = new Date(from.getTime() + DAYS * 86_400_000);
    await t.sql(
      `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, cutoff_minutes)
       SELECT $1::uuid, k::slot_kind, s, s + interval '5 minutes', 4, 30
       FROM generate_series($2::timestamptz, $3::timestamptz - interval '5 minutes', interval '5 minutes') s
       CROSS JOIN unnest(ARRAY['pickup', 'delivery']) k`,
      [z.id, from.toISOString(), to.toISOString()],
    );

    endpoint.resetStats();
    const res = await t.api.get(`/v1/admin/zones/${z.id}/slots?from=${from.toISOString()}&to=${to.toISOString()}`, { token: admin.token });
    const stats = endpoint.stats();
    expect(res.status, res.text.slice(0, 500)).toBe(200);
    expect(stats.queries + stats.batches).toBe(1);
    const bytes = stats.responseBytes;
    console.info(`admin slot listing, ${2 * SLOTS_PER_KIND} slots: ${bytes} bytes from the Neon endpoint`);
    // Measured here: 12,966,029 bytes (12.4 MiB, so a 507) when the zone was joined onto every slot.
    expect(bytes, `${bytes} bytes from the endpoint`).toBeLessThan(NEON_MAX_RESPONSE_BYTES / 2);

    expect(res.body.zone).toMatchObject({ id: z.id, postcodePrefixes: prefixes, timeZone: 'UTC' });
    expect(res.body.data).toHaveLength(2 * SLOTS_PER_KIND);
    expect(res.body.data[0]).toEqual({
      id: expect.any(String),
      zoneId: z.id,
      kind: 'pickup',
      startsAt: from.toISOString(),
      endsAt: new Date(from.getTime() + 5 * 60_000).toISOString(),
      capacity: 4,
      reserved: 0,
      remaining: 4,
      cutoffMinutes: 30,
      cutoffAt: new Date(from.getTime() - 30 * 60_000).toISOString(),
      closed: false,
    });
    // By start, then kind in the enum's order (pickup before delivery), as before.
    const order = (res.body.data as { startsAt: string; kind: string }[]).map((s) => `${s.startsAt} ${s.kind === 'pickup' ? 0 : 1}`);
    expect(order).toEqual([...order].sort());
    expect(res.body.data[1]).toMatchObject({ kind: 'delivery', startsAt: from.toISOString() });
    expect(res.body.data.at(-1).startsAt).toBe(new Date(to.getTime() - 5 * 60_000).toISOString());
  });

  it('answers a zone without slots in range with the zone and no data, and an unknown zone with 404', async () => {
    const admin = await actor(t, 'admin');
    const z = await zone(t);
    const res = await t.api.get(`/v1/admin/zones/${z.id}/slots`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ zone: { id: z.id }, data: [] });
    const missing = await t.api.get(`/v1/admin/zones/${crypto.randomUUID()}/slots`, { token: admin.token });
    expect(missing.status).toBe(404);
  });
});
