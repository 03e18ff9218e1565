/**
 * Test data made through the harness, so the same fixtures work on Node and in workerd.
 * Zones and slots are inserted with SQL (what an admin would otherwise create); users go
 * through the real API. Every fixture is unique per call: suites never share rows.
 */
import { expect } from 'vitest';
import { uniqueEmail } from './client.js';
import type { Harness } from './harness.js';

export interface Actor {
  email: string;
  userId: string;
  token: string;
}

export async function actor(h: Harness, role: 'customer' | 'staff' | 'admin' = 'customer'): Promise<Actor> {
  const email = uniqueEmail(role);
  const password = 'fixture password';
  const reg = await h.api.post('/v1/auth/register', { email, password });
  expect(reg.status, reg.text).toBe(201);
  if (role === 'customer') return { email, userId: reg.body.user.id, token: reg.body.accessToken };
  await h.setRole(email, role);
  const login = await h.api.post('/v1/auth/login', { email, password });
  expect(login.body.user.role).toBe(role);
  return { email, userId: login.body.user.id, token: login.body.accessToken };
}

/**
 * A unique postcode prefix: '0' and 8 random digits. Digit prefixes match as plain prefixes, all
 * fixture prefixes have the same length, so one covers another's postcodes only if they are equal
 * (1 in 10^8); tests that need UK postcodes use real areas and clean up after themselves.
 */
export function uniquePrefix(): string {
  return `0${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

export interface ZoneFixture {
  id: string;
  prefix: string;
  /** A postcode inside the zone. */
  postcode: string;
}

export async function zone(
  h: Harness,
  opts: { timeZone?: string; deliveryFee?: number; minimumOrder?: number; freeDeliveryFrom?: number | null } = {},
): Promise<ZoneFixture> {
  const prefix = uniquePrefix();
  const [row] = await h.sql<{ id: string }>(
    `INSERT INTO zones (name, postcode_prefixes, time_zone, delivery_fee, minimum_order, free_delivery_from)
     VALUES ($1, ARRAY[$2]::text[], $3, $4, $5, $6) RETURNING id`,
    [`Zone ${prefix}`, prefix, opts.timeZone ?? 'UTC', opts.deliveryFee ?? 499, opts.minimumOrder ?? 1500, opts.freeDeliveryFrom === undefined ? 5000 : opts.freeDeliveryFrom],
  );
  return { id: row!.id, prefix, postcode: `${prefix}1` };
}

export interface SlotFixture {
  id: string;
  startsAt: Date;
  endsAt: Date;
}

const HOUR = 3_600_000;

/** A window `startsInHours` from now, two hours long. */
export async function slot(
  h: Harness,
  zoneId: string,
  kind: 'pickup' | 'delivery',
  opts: { startsInHours?: number; capacity?: number; cutoffMinutes?: number; closed?: boolean; reserved?: number } = {},
): Promise<SlotFixture> {
  const startsAt = new Date(Math.floor((Date.now() + (opts.startsInHours ?? 24) * HOUR) / 60_000) * 60_000);
  const endsAt = new Date(startsAt.getTime() + 2 * HOUR);
  const [row] = await h.sql<{ id: string }>(
    `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, reserved, cutoff_minutes, closed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [zoneId, kind, startsAt.toISOString(), endsAt.toISOString(), opts.capacity ?? 10, opts.reserved ?? 0, opts.cutoffMinutes ?? 120, opts.closed ?? false],
  );
  return { id: row!.id, startsAt, endsAt };
}

export async function slotReserved(h: Harness, slotId: string): Promise<number> {
  const [row] = await h.sql<{ reserved: number }>('SELECT reserved FROM slots WHERE id = $1', [slotId]);
  return Number(row!.reserved);
}

/** An address row for a customer, straight in the table (the API for it is tested on its own). */
export async function address(h: Harness, userId: string, postcode: string): Promise<string> {
  const [row] = await h.sql<{ id: string }>(
    `INSERT INTO addresses (user_id, label, line1, city, postcode) VALUES ($1, 'Home', '1 Test Street', 'Testville', $2) RETURNING id`,
    [userId, postcode],
  );
  return row!.id;
}

/**
 * The app's flow before an order, for round-trip counts: a zone with a pickup and a delivery slot,
 * an earlier customer's order (so the process remembers zones and services), then a customer
 * whose addresses and slots were listed as the app lists them (so those are remembered too).
 * `place` sends POST /v1/orders for that customer with a fresh Idempotency-Key unless one is given.
 */
export async function rememberedOrderFlow(h: Harness) {
  const z = await zone(h);
  const washFold = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
  const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
  const delivery = await slot(h, z.id, 'delivery', { startsInHours: 80 });
  const body = (addressId: string) => ({
    items: [{ serviceId: washFold.id, estimatedWeightGrams: 5000 }],
    addressId,
    pickupSlotId: pickup.id,
    deliverySlotId: delivery.id,
    paymentMethod: 'on_delivery',
  });
  const send = (who: Actor, addressId: string, key = `rt-${crypto.randomUUID()}`) =>
    h.api.post('/v1/orders', body(addressId), { token: who.token, headers: { 'idempotency-key': key } });
  const earlier = await actor(h);
  const first = await send(earlier, await address(h, earlier.userId, z.postcode));
  expect(first.status, first.text).toBe(201);

  const who = await actor(h);
  const addressId = await address(h, who.userId, z.postcode);
  expect((await h.api.get('/v1/addresses', { token: who.token })).status).toBe(200);
  for (const kind of ['pickup', 'delivery']) {
    const listed = await h.api.get(`/v1/slots?postcode=${z.postcode}&kind=${kind}&to=${new Date(Date.now() + 96 * HOUR).toISOString()}`, { token: who.token });
    expect(listed.status, listed.text).toBe(200);
  }
  return { z, pickup, delivery, who, place: (key?: string) => send(who, addressId, key) };
}

/**
 * One pay-on-delivery order of `who` (wash and fold, 6 kg) in a zone and slots of its own, through
 * POST /v1/orders: confirmed at once, so its `order_confirmed` outbox row exists. Returns the order id.
 */
export async function payOnDeliveryOrder(h: Harness, who: Actor): Promise<string> {
  const z = await zone(h);
  const addressId = await address(h, who.userId, z.postcode);
  const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
  const delivery = await slot(h, z.id, 'delivery', { startsInHours: 24 + 2 + 72 + 4 });
  const washFold = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
  const order = await h.api.post(
    '/v1/orders',
    { items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }], addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery' },
    { token: who.token, headers: { 'idempotency-key': `pod-${crypto.randomUUID()}` } },
  );
  expect(order.status, order.text).toBe(201);
  return order.body.id as string;
}
