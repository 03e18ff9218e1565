/**
 * Issue 15: matching zones for the caller (synthetic release probes apart from real customers)
 * adds no round trip. Counted by the local Neon endpoint while the app runs on the real
 * neon-http driver, as test/node/round-trips.test.ts does for the rest of the API: the caller's
 * `users.synthetic` is read inside each route's one statement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNeonServer } from '../../tools/local-neon/index.js';
import { setupSyntheticCustomer, type SyntheticSetupSummary } from '../../src/db/synthetic-setup.js';
import { SYNTHETIC_POSTCODE } from '../../src/domain/postcodes.js';
import { actor, zone } from '../support/fixtures.js';
import { createNeonTestApp, roundTripsOf as countTrips, type NeonTestApp } from '../support/neon-app.js';
import type { TestApp } from '../support/node-app.js';

let app: NeonTestApp;
let endpoint: LocalNeonServer;
let t: TestApp;
let setup: SyntheticSetupSummary;
let probeToken: string;

const EMAIL = 'rt-probe@synthetic.example.com';
const PASSWORD = 'round trip probe password';

beforeAll(async () => {
  app = await createNeonTestApp();
  ({ t, endpoint } = app);
  setup = await setupSyntheticCustomer(t.deps, { email: EMAIL, password: PASSWORD });
  probeToken = (await t.api.post('/v1/auth/login', { email: EMAIL, password: PASSWORD })).body.accessToken;
});
afterAll(async () => {
  await app?.close();
});

async function roundTripsOf(call: () => Promise<{ status: number; text?: string }>, status: number): Promise<number> {
  return (await countTrips(endpoint, call, status)).trips;
}

describe('round trips with the synthetic rule (neon-http driver)', () => {
  it('coverage and slots: one each, anonymous, as a real customer and as the synthetic user; staff queue one', async () => {
    const real = await actor(t);
    const staff = await actor(t, 'staff');
    const z = await zone(t);
    for (const token of [undefined, real.token]) {
      expect(await roundTripsOf(() => t.api.get(`/v1/coverage?postcode=${z.postcode}`, token ? { token } : {}), 200)).toBe(1);
      expect(await roundTripsOf(() => t.api.get(`/v1/slots?postcode=${z.postcode}&kind=pickup`, token ? { token } : {}), 200)).toBe(1);
    }
    let served: unknown;
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.get(`/v1/coverage?postcode=${SYNTHETIC_POSTCODE}`, { token: probeToken });
        served = res.body.served;
        return res;
      }, 200),
    ).toBe(1);
    expect(served).toBe(true);
    expect(await roundTripsOf(() => t.api.get(`/v1/slots?postcode=${SYNTHETIC_POSTCODE}&kind=pickup`, { token: probeToken }), 200)).toBe(1);
    // A token that fails verification costs nothing more: the caller is anonymous.
    expect(await roundTripsOf(() => t.api.get(`/v1/coverage?postcode=${SYNTHETIC_POSTCODE}`, { token: 'x.y.z' }), 200)).toBe(1);
    expect(await roundTripsOf(() => t.api.get('/v1/staff/orders', { token: staff.token }), 200)).toBe(1);
    expect(await roundTripsOf(() => t.api.get('/v1/staff/orders?synthetic=true', { token: staff.token }), 200)).toBe(1);
  });

  it("addresses (served for the owner) one each; the probe's order is one read and one write", async () => {
    expect(await roundTripsOf(() => t.api.get('/v1/addresses', { token: probeToken }), 200)).toBe(1);
    expect(await roundTripsOf(() => t.api.get(`/v1/addresses/${setup.address.id}`, { token: probeToken }), 200)).toBe(1);
    let id = '';
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post('/v1/addresses', { line1: '2 Probe Lane', city: 'Nowhere', postcode: SYNTHETIC_POSTCODE }, { token: probeToken });
        id = res.body.id;
        expect(res.body.served).toBe(true);
        return res;
      }, 201),
    ).toBe(1);
    const slotsOf = async (kind: string) =>
      (await t.api.get(`/v1/slots?postcode=${SYNTHETIC_POSTCODE}&kind=${kind}`, { token: probeToken })).body.data as Array<{ id: string; startsAt: string }>;
    const pickup = (await slotsOf('pickup')).find((s) => Date.parse(s.startsAt) > Date.now() + 86_400_000)!;
    const delivery = (await slotsOf('delivery')).find((s) => Date.parse(s.startsAt) > Date.parse(pickup.startsAt) + 4 * 86_400_000)!;
    const washFold = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    let orderId = '';
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post(
          '/v1/orders',
          { items: [{ serviceId: washFold.id, estimatedWeightGrams: 5000 }], addressId: id, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' },
          { token: probeToken, headers: { 'idempotency-key': `rt-${crypto.randomUUID()}` } },
        );
        orderId = res.body.id;
        return res;
      }, 201),
    ).toBe(2);
    expect(await roundTripsOf(() => t.api.post(`/v1/orders/${orderId}/cancel`, {}, { token: probeToken }), 200)).toBe(1);
  });
});
