/**
 * Round trips per request, counted by the local Neon endpoint while the app runs on the
 * real neon-http driver: the number a Worker would pay at the edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNeonServer } from '../../tools/local-neon/index.js';
import { uniqueEmail } from '../support/client.js';
import { actor, address, rememberedOrderFlow, slot, zone } from '../support/fixtures.js';
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

/** Statements one request sends, including those it starts in the background (waited for). */
async function roundTripsOf(call: () => Promise<{ status: number }>, status: number): Promise<number> {
  return (await countTrips(endpoint, call, status)).trips;
}

describe('round trips per request (neon-http driver)', () => {
  it('register two (the address limit, then the account), login, me, refresh and logout one each; health none', async () => {
    const email = uniqueEmail('rt');
    const body = { email, password: 'round trip password' };
    // The per-address count must precede the hash, and the insert needs the hash.
    const from = { headers: { 'x-forwarded-for': '203.0.113.44' } };
    expect(await roundTripsOf(() => t.api.post('/v1/auth/register', body, from), 201)).toBe(2);

    let session: any;
    // Login: one statement on the response path; a second, not awaited, gives its throttle place back.
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post('/v1/auth/login', body);
        session = res.body;
        return res;
      }, 200),
    ).toBe(2);
    expect(await roundTripsOf(() => t.api.get('/v1/me', { token: session.accessToken }), 200)).toBe(1);
    let rotated: any;
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post('/v1/auth/refresh', { refreshToken: session.refreshToken });
        rotated = res.body;
        return res;
      }, 200),
    ).toBe(1);
    // The same token again within the grace window (a concurrent refresh that saw the rotation committed): the same successor, one statement.
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post('/v1/auth/refresh', { refreshToken: session.refreshToken });
        expect(res.body.refreshToken).toBe(rotated.refreshToken);
        return res;
      }, 200),
    ).toBe(1);
    expect(await roundTripsOf(() => t.api.post('/v1/auth/logout', { refreshToken: rotated.refreshToken }), 204)).toBe(1);
    expect(await roundTripsOf(() => t.api.get('/healthz'), 200)).toBe(0);
    // A failed login settles its attempt (1 more, awaited); the success after it ends the run (1 more, awaited).
    expect(await roundTripsOf(() => t.api.post('/v1/auth/login', { ...body, password: 'wrong guess' }), 401)).toBe(2);
    expect(await roundTripsOf(() => t.api.post('/v1/auth/login', body), 200)).toBe(2);
    expect(await roundTripsOf(() => t.api.post('/v1/auth/login', body), 200)).toBe(2);
    // Rejected before any I/O: bad token, bad body.
    expect(await roundTripsOf(() => t.api.get('/v1/me', { token: 'x.y.z' }), 401)).toBe(0);
    expect(await roundTripsOf(() => t.api.post('/v1/auth/login', { email }), 422)).toBe(0);
  });

  it('catalog reads and admin writes take one each', async () => {
    const email = uniqueEmail('rt-admin');
    await t.api.post('/v1/auth/register', { email, password: 'round trip password' });
    await t.setRole(email, 'admin');
    const token = (await t.api.post('/v1/auth/login', { email, password: 'round trip password' })).body.accessToken;
    expect(await roundTripsOf(() => t.api.get('/v1/services'), 200)).toBe(1);
    const svc = { slug: `rt-${crypto.randomUUID().slice(0, 6)}`, name: 'RT', pricingModel: 'per_item', unitPrice: 100, turnaroundHours: 24, addOns: [{ slug: 'a', name: 'A', price: 1 }] };
    let id = '';
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post('/v1/admin/services', svc, { token });
        id = res.body.id;
        return res;
      }, 201),
    ).toBe(1);
    expect(await roundTripsOf(() => t.api.patch(`/v1/admin/services/${id}`, { unitPrice: 120 }, { token }), 200)).toBe(1);
    expect(await roundTripsOf(() => t.api.get('/readyz'), 200)).toBe(1);
    // The role check rides in the route's first batch: still one round trip, and a demoted
    // admin's refusal costs the same one.
    expect(await roundTripsOf(() => t.api.get('/v1/staff/orders', { token }), 200)).toBe(1);
    await t.setRole(email, 'customer');
    expect(await roundTripsOf(() => t.api.get('/v1/staff/orders', { token }), 403)).toBe(1);
  });

  it('orders: create = one read + one write, replay = one read, reads one each, cancel = one batch, refused too', async () => {
    const z = await zone(t);
    const who = await actor(t);
    const addressId = await address(t, who.userId, z.postcode);
    const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(t, z.id, 'delivery', { startsInHours: 80 });
    const services = (await t.api.get('/v1/services')).body.data;
    const washFold = services.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const body = {
      items: [{ serviceId: washFold.id, estimatedWeightGrams: 5000 }],
      addressId,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: 'on_delivery',
    };
    const headers = { 'idempotency-key': `rt-${crypto.randomUUID()}` };
    let id = '';
    expect(
      await roundTripsOf(async () => {
        const res = await t.api.post('/v1/orders', body, { token: who.token, headers });
        id = res.body.id;
        return res;
      }, 201),
    ).toBe(2);
    expect(await roundTripsOf(() => t.api.post('/v1/orders', body, { token: who.token, headers }), 201)).toBe(1);
    expect(await roundTripsOf(() => t.api.get(`/v1/orders/${id}`, { token: who.token }), 200)).toBe(1);
    expect(await roundTripsOf(() => t.api.get('/v1/orders', { token: who.token }), 200)).toBe(1);
    expect(await roundTripsOf(() => t.api.post(`/v1/orders/${id}/cancel`, {}, { token: who.token }), 200)).toBe(1);
    // Refused (already cancelled): the same one batch, whose read explains the 409.
    expect(await roundTripsOf(() => t.api.post(`/v1/orders/${id}/cancel`, {}, { token: who.token }), 409)).toBe(1);
    // A rule broken before any write costs the read only.
    const full = await slot(t, z.id, 'pickup', { startsInHours: 20, capacity: 1, reserved: 1 });
    expect(
      await roundTripsOf(
        () => t.api.post('/v1/orders', { ...body, pickupSlotId: full.id }, { token: who.token, headers: { 'idempotency-key': `rt-${crypto.randomUUID()}` } }),
        409,
      ),
    ).toBe(1);
  });

  it("orders: the app's flow (addresses, slots, then the order) is one statement; a row changed since costs the read and the write", async () => {
    const { z, pickup, place } = await rememberedOrderFlow(t);
    const key = `rt-${crypto.randomUUID()}`;
    expect(await roundTripsOf(() => place(key), 201)).toBe(1);
    // Its replay: the same one statement, which finds the stored answer.
    expect(await roundTripsOf(() => place(key), 201)).toBe(1);
    // A zone edited behind this process's back: the write finds it changed and writes nothing, then read + write.
    await t.sql('UPDATE zones SET delivery_fee = delivery_fee + 1 WHERE id = $1', [z.id]);
    expect(await roundTripsOf(() => place(), 201)).toBe(3);
    // Remembered again by that read: one statement.
    expect(await roundTripsOf(() => place(), 201)).toBe(1);
    // A slot closed since: the write's own reservation refuses it, writes nothing and says which slot and why, in the same one statement.
    await t.sql('UPDATE slots SET closed = true WHERE id = $1', [pickup.id]);
    expect(await roundTripsOf(() => place(), 409)).toBe(1);
  });

  it('an address the read found gone is forgotten: the next order naming it costs the one read', async () => {
    const z = await zone(t);
    const washFold = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const pickup = await slot(t, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(t, z.id, 'delivery', { startsInHours: 80 });
    const who = await actor(t);
    const addressId = await address(t, who.userId, z.postcode);
    const order = { items: [{ serviceId: washFold.id, estimatedWeightGrams: 5000 }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' };
    const key = () => ({ 'idempotency-key': `rt-${crypto.randomUUID()}` });
    expect((await t.api.post('/v1/orders', order, { token: who.token, headers: key() })).status).toBe(201);
    // Deleted by another replica: this process still remembers it.
    await t.sql('DELETE FROM addresses WHERE id = $1', [addressId]);
    // The checking write finds it gone, the read confirms it: 404 in 2.
    expect(await roundTripsOf(() => t.api.post('/v1/orders', order, { token: who.token, headers: key() }), 404)).toBe(2);
    // The read proved the entry wrong; the next request should not try it again.
    expect(await roundTripsOf(() => t.api.post('/v1/orders', order, { token: who.token, headers: key() }), 404)).toBe(1);
  });

  it('reschedule is one batch: moved, replayed, a no-op or refused; a missed pickup (pay on delivery) one', async () => {
    const { z, who, place } = await rememberedOrderFlow(t);
    const created = await place();
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const later = await slot(t, z.id, 'pickup', { startsInHours: 25 });
    const headers = { 'idempotency-key': `rt-${crypto.randomUUID()}` };
    const move = (body: unknown, h = { 'idempotency-key': `rt-${crypto.randomUUID()}` }) => t.api.post(`/v1/orders/${id}/reschedule`, body, { token: who.token, headers: h });
    expect(await roundTripsOf(() => move({ pickupSlotId: later.id }, headers), 200)).toBe(1);
    expect(await roundTripsOf(() => move({ pickupSlotId: later.id }, headers), 200)).toBe(1);
    expect(await roundTripsOf(() => move({ pickupSlotId: later.id }), 200)).toBe(1);
    const full = await slot(t, z.id, 'pickup', { startsInHours: 20, capacity: 1, reserved: 1 });
    expect(await roundTripsOf(() => move({ pickupSlotId: full.id }), 409)).toBe(1);
    const staff = await actor(t, 'staff');
    const missed = () => t.api.post(`/v1/staff/orders/${id}/transitions`, { to: 'pickup_missed', reason: 'customer_absent' }, { token: staff.token });
    expect(await roundTripsOf(missed, 200)).toBe(1);
  });

  it('an admin waiver is one read (open balance charges to stop at Stripe) and one batch, accepted or refused', async () => {
    const z = await zone(t);
    const who = await actor(t);
    const staff = await actor(t, 'staff');
    const admin = await actor(t, 'admin');
    const washFold = (await t.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const created = await t.api.post(
      '/v1/orders',
      {
        items: [{ serviceId: washFold.id, estimatedWeightGrams: 5000 }],
        addressId: await address(t, who.userId, z.postcode),
        pickupSlotId: (await slot(t, z.id, 'pickup', { startsInHours: 24 })).id,
        deliverySlotId: (await slot(t, z.id, 'delivery', { startsInHours: 80 })).id,
        paymentMethod: 'on_delivery',
      },
      { token: who.token, headers: { 'idempotency-key': `rt-${crypto.randomUUID()}` } },
    );
    const id = created.body.id as string;
    const staffPost = (path: string, body: unknown, token = staff.token) => t.api.post(`/v1/staff/orders/${id}/${path}`, body, { token });
    await staffPost('transitions', { to: 'picked_up', bagCount: 1 });
    await staffPost('transitions', { to: 'processing' });
    expect((await staffPost('weigh-in', { weightGrams: 5000 })).body.balance.outstanding).toBe(1999);
    expect(await roundTripsOf(() => staffPost('waive-balance', { reason: 'Too much', amount: 5000 }, admin.token), 422)).toBe(2);
    expect(await roundTripsOf(() => staffPost('waive-balance', { reason: 'Loyalty', amount: 500 }, admin.token), 200)).toBe(2);
  });
});
