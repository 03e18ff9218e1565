/**
 * Inside workerd, counted by the local Neon endpoint: what one request costs in database
 * round trips at the edge. Files in this project run one at a time, so the endpoint's
 * counters belong to this file while it runs.
 */
import { describe, expect, it } from 'vitest';
import { uniqueEmail } from '../support/client.js';
import { rememberedOrderFlow } from '../support/fixtures.js';
import { resetRoundTrips, roundTrips, workerHarness } from './support.js';

/** Waits until no statement has reached the endpoint for a while: waitUntil work has landed. */
async function quiet(): Promise<void> {
  let last = -1;
  for (let still = 0; still < 3; ) {
    const s = await roundTrips();
    const now = s.queries + s.batches;
    still = now === last ? still + 1 : 0;
    last = now;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Statements one request sends, including those it leaves to waitUntil (waited for). */
async function measure(call: () => Promise<{ status: number }>, status: number): Promise<number> {
  await quiet();
  await resetRoundTrips();
  const res = await call();
  expect(res.status).toBe(status);
  await quiet();
  const s = await roundTrips();
  return s.queries + s.batches;
}

describe('round trips per request in workerd', () => {
  it('register takes two (address limit, account); login one plus one in the background; me at most one; staff routes one with the role check', async () => {
    const { api } = workerHarness;
    const creds = { email: uniqueEmail('edge'), password: 'edge password 1' };
    expect(await measure(() => api.post('/v1/auth/register', creds, { headers: { 'cf-connecting-ip': '203.0.113.45' } }), 201)).toBe(2);
    let token = '';
    const login = await measure(async () => {
      const res = await api.post('/v1/auth/login', creds);
      token = res.body.accessToken;
      return res;
    }, 200);
    // One on the response path; one left to waitUntil gives the throttle place back.
    expect(login).toBe(2);
    expect(await measure(() => api.get('/v1/me', { token }), 200)).toBeLessThanOrEqual(1);
    expect(await measure(() => api.get('/v1/services'), 200)).toBe(1);

    await workerHarness.setRole(creds.email, 'staff');
    const staff = (await api.post('/v1/auth/login', creds)).body.accessToken as string;
    expect(await measure(() => api.get('/v1/staff/orders', { token: staff }), 200)).toBe(1);
    await workerHarness.setRole(creds.email, 'customer');
    expect(await measure(() => api.get('/v1/staff/orders', { token: staff }), 403)).toBe(1);
  });

  it('refresh takes one; the same token again within the grace window one, answering the same successor', async () => {
    const { api } = workerHarness;
    const reg = await api.post('/v1/auth/register', { email: uniqueEmail('edge-refresh'), password: 'edge password 2' }, { headers: { 'cf-connecting-ip': '203.0.113.46' } });
    expect(reg.status, reg.text).toBe(201);
    let successor = '';
    const rotate = () => api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken });
    expect(
      await measure(async () => {
        const res = await rotate();
        successor = res.body.refreshToken;
        return res;
      }, 200),
    ).toBe(1);
    expect(
      await measure(async () => {
        const res = await rotate();
        expect(res.body.refreshToken).toBe(successor);
        return res;
      }, 200),
    ).toBe(1);
  });
  it("an order after the app's reads (addresses, slots) takes one statement in the isolate that remembered the rows; a changed row costs the read and the write", async () => {
    const { z, place } = await rememberedOrderFlow(workerHarness);
    expect(await measure(() => place(), 201)).toBe(1);
    await workerHarness.sql('UPDATE zones SET delivery_fee = delivery_fee + 1 WHERE id = $1', [z.id]);
    expect(await measure(() => place(), 201)).toBe(3);
    expect(await measure(() => place(), 201)).toBe(1);
  });
});
