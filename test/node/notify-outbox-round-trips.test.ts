/**
 * The customer's notification endpoints (src/modules/notifications, PATCH /v1/me) each send ONE
 * statement, counted by the local Neon endpoint while the app runs on the real neon-http driver:
 * what a Worker pays at the edge. (The status-change paths keep their one round trip: the outbox
 * row is the trigger's, in the same statement; test/node/round-trips.test.ts counts those.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNeonServer } from '../../tools/local-neon/index.js';
import { actor } from '../support/fixtures.js';
import { createNeonTestApp, roundTripsOf as countTrips, type NeonTestApp } from '../support/neon-app.js';
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

const tripsOf = async (call: () => Promise<{ status: number }>, status: number) => (await countTrips(endpoint, call, status)).trips;

describe('notification endpoints: one round trip each (neon-http driver)', () => {
  it('devices, preferences, the inbox and PATCH /v1/me', async () => {
    const who = await actor(t);
    const as = { token: who.token };
    const token = `rt${crypto.randomUUID().replaceAll('-', '')}:APA91b`;
    await t.sql(
      `INSERT INTO notification_outbox (user_id, type, dedupe_key, data, created_at)
       SELECT $1, 'pickup_reminder', 'rt-test:' || $1 || ':' || g, '{}'::jsonb, now() FROM generate_series(1, 3) g`,
      [who.userId],
    );
    const [first] = await t.sql<{ id: string }>("SELECT id::text FROM notification_outbox WHERE user_id = $1 AND type = 'pickup_reminder' ORDER BY id LIMIT 1", [who.userId]);

    expect(await tripsOf(() => t.api.patch('/v1/me', { phone: '+447700900123', locale: 'en-GB' }, as), 200)).toBe(1);
    expect(await tripsOf(() => t.api.send('PUT', `/v1/me/devices/${token}`, { platform: 'android' }, as), 201)).toBe(1);
    expect(await tripsOf(() => t.api.send('PUT', `/v1/me/devices/${token}`, { platform: 'android', appVersion: '2.0.0' }, as), 200)).toBe(1);
    expect(await tripsOf(() => t.api.get('/v1/me/devices', as), 200)).toBe(1);
    expect(await tripsOf(() => t.api.send('DELETE', `/v1/me/devices/${token}`, undefined, as), 204)).toBe(1);
    expect(await tripsOf(() => t.api.get('/v1/me/notification-preferences', as), 200)).toBe(1);
    expect(await tripsOf(() => t.api.patch('/v1/me/notification-preferences', { ready: { push: false } }, as), 200)).toBe(1);
    expect(await tripsOf(() => t.api.patch('/v1/me/notification-preferences', { refund_issued: { push: false, sms: false, email: false } }, as), 422)).toBe(1);
    expect(await tripsOf(() => t.api.get('/v1/me/notifications?limit=2', as), 200)).toBe(1);
    expect(await tripsOf(() => t.api.post(`/v1/me/notifications/${first!.id}/read`, undefined, as), 204)).toBe(1);
    expect(await tripsOf(() => t.api.post('/v1/me/notifications/read-all', undefined, as), 204)).toBe(1);
    // Refused before any I/O.
    expect(await tripsOf(() => t.api.send('PUT', `/v1/me/devices/${'a'.repeat(4097)}`, { platform: 'android' }, as), 422)).toBe(0);
  });
});
