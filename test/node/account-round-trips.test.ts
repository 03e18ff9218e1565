/**
 * Round trips of the account operations on the real neon-http driver, counted by the local Neon
 * endpoint (what a Worker pays at the edge; docs/runbook.md, "Round trips per request"):
 * GET /v1/me/export one statement, DELETE /v1/me two (read + erase; the role check rides on the
 * first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNeonServer } from '../../tools/local-neon/index.js';
import { actor } from '../support/fixtures.js';
import { createNeonTestApp, roundTripsOf, type NeonTestApp } from '../support/neon-app.js';
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

describe('account round trips (neon-http driver)', () => {
  it('export one, deletion two; an admin erasure two', async () => {
    const who = await actor(t);
    expect((await roundTripsOf(endpoint, () => t.api.get('/v1/me/export', { token: who.token }), 200)).trips).toBe(1);
    expect((await roundTripsOf(endpoint, () => t.api.send('DELETE', '/v1/me', { password: 'fixture password' }, { token: who.token }), 204)).trips).toBe(2);
    const admin = await actor(t, 'admin');
    const other = await actor(t);
    expect((await roundTripsOf(endpoint, () => t.api.send('DELETE', `/v1/admin/users/${other.userId}`, undefined, { token: admin.token }), 204)).trips).toBe(2);
  });
});
