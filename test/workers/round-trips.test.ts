/**
 * Inside workerd, counted by the local Neon endpoint: what one request costs in database
 * round trips at the edge. Files in this project run one at a time, so the endpoint's
 * counters belong to this file while it runs.
 */
import { describe, expect, it } from 'vitest';
import { uniqueEmail } from '../support/client.js';
import { resetRoundTrips, roundTrips, workerHarness } from './support.js';

async function measure(call: () => Promise<{ status: number }>, status: number): Promise<number> {
  await resetRoundTrips();
  const res = await call();
  expect(res.status).toBe(status);
  const s = await roundTrips();
  return s.queries + s.batches;
}

describe('round trips per request in workerd', () => {
  it('register takes two (address limit, account); login and me at most one each; staff routes one with the role check', async () => {
    const { api } = workerHarness;
    const creds = { email: uniqueEmail('edge'), password: 'edge password 1' };
    expect(await measure(() => api.post('/v1/auth/register', creds, { headers: { 'cf-connecting-ip': '203.0.113.45' } }), 201)).toBe(2);
    let token = '';
    const login = await measure(async () => {
      const res = await api.post('/v1/auth/login', creds);
      token = res.body.accessToken;
      return res;
    }, 200);
    expect(login).toBeLessThanOrEqual(1);
    expect(await measure(() => api.get('/v1/me', { token }), 200)).toBeLessThanOrEqual(1);
    expect(await measure(() => api.get('/v1/services'), 200)).toBe(1);

    await workerHarness.setRole(creds.email, 'staff');
    const staff = (await api.post('/v1/auth/login', creds)).body.accessToken as string;
    expect(await measure(() => api.get('/v1/staff/orders', { token: staff }), 200)).toBe(1);
    await workerHarness.setRole(creds.email, 'customer');
    expect(await measure(() => api.get('/v1/staff/orders', { token: staff }), 403)).toBe(1);
  });
});
