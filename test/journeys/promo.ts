/**
 * Promo codes and credit (issue 19), through the API on either runtime. Customers for the races
 * are inserted with SQL and given signed tokens (fifty registrations would hash fifty passwords
 * and hit the per-address registration limit); everything they do goes through the real API.
 */
import { describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/tokens.js';
import type { ApiResponse } from '../support/client.js';
import { actor, slot, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

let seq = 0;
/** A fresh code, unique per call. */
export const freshCode = (stem = 'T') => `${stem}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`.toUpperCase().slice(0, 32);

/** `n` customers with an address each in `postcode`, inserted in one statement, with signed access tokens. */
export async function customers(h: Harness, n: number, postcode: string): Promise<Array<Actor & { addressId: string }>> {
  const rows = await h.sql<{ id: string; email: string; address_id: string }>(
    `WITH u AS (
       INSERT INTO users (email, password_hash, role)
       SELECT 'promo-' || gen_random_uuid() || '@example.test', 'not-a-hash', 'customer' FROM generate_series(1, $1::int)
       RETURNING id, email)
     , a AS (INSERT INTO addresses (user_id, label, line1, city, postcode) SELECT id, 'Home', '1 Test Street', 'Testville', $2 FROM u RETURNING id, user_id)
     SELECT u.id, u.email, a.id AS address_id FROM u JOIN a ON a.user_id = u.id`,
    [n, postcode],
  );
  return Promise.all(rows.map(async (r) => ({
    email: r.email,
    userId: r.id,
    addressId: r.address_id,
    token: await signAccessToken({ sub: r.id, role: 'customer' }, h.jwtSecret, new Date(), 3600),
  })));
}

/** A zone with roomy slots, an admin, and helpers to make codes and place orders in it. */
export async function promoWorld(h: Harness, opts: { minimumOrder?: number; capacity?: number } = {}) {
  const admin = await actor(h, 'admin');
  const z = await zone(h, { minimumOrder: opts.minimumOrder ?? 1000 });
  const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24, capacity: opts.capacity ?? 200 });
  const delivery = await slot(h, z.id, 'delivery', { startsInHours: 80, capacity: opts.capacity ?? 200 });
  const washFold = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
  const createCode = async (body: Record<string, unknown>) => {
    const res = await h.api.post('/v1/admin/promo-codes', { kind: 'percent', value: 1000, ...body }, { token: admin.token });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; code: string };
  };
  const order = (who: Actor & { addressId: string }, extra: Record<string, unknown> = {}, grams = 6000): Promise<ApiResponse> =>
    h.api.post(
      '/v1/orders',
      { items: [{ serviceId: washFold.id, estimatedWeightGrams: grams }], addressId: who.addressId, pickupSlotId: pickup.id, deliverySlotId: delivery.id, paymentMethod: 'on_delivery', ...extra },
      { token: who.token, headers: { 'idempotency-key': `promo-${crypto.randomUUID()}` } },
    );
  const one = async () => (await customers(h, 1, z.postcode))[0]!;
  return { admin, z, pickup, delivery, washFold, createCode, order, one };
}

/** Where a code stands in the database: its count, and the orders that hold it. */
export async function redemptions(h: Harness, promoId: string) {
  const [row] = await h.sql<{ count: number; orders: number }>(
    `SELECT redemption_count AS count, (SELECT count(*) FROM orders WHERE promo_code_id = $1 AND status <> 'cancelled')::int AS orders FROM promo_codes WHERE id = $1`,
    [promoId],
  );
  return { count: Number(row!.count), orders: Number(row!.orders) };
}

export function promoRaceJourney(harness: () => Harness) {
  describe('promo code at its limit, 50 parallel orders (issue 19)', () => {
    it('10 redemptions left: exactly 10 orders get the discount, 40 get 409 promo_code_exhausted and write nothing', async () => {
      const h = harness();
      const w = await promoWorld(h);
      const code = await w.createCode({ code: freshCode('RACE'), maxRedemptions: 10 });
      const buyers = await customers(h, 50, w.z.postcode);
      // Typed as customers do: any case, with spaces around it.
      const results = await Promise.all(buyers.map((b, i) => w.order(b, { promoCode: i % 2 ? ` ${code.code.toLowerCase()} ` : code.code })));
      const won = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status !== 201);
      expect(won, refused.map((r) => r.text).slice(0, 3).join('\n')).toHaveLength(10);
      for (const r of refused) expect({ status: r.status, code: r.body.code }).toEqual({ status: 409, code: 'promo_code_exhausted' });
      for (const r of won) expect(r.body.estimate.discount).toEqual({ code: code.code, amount: 150 });
      expect(await redemptions(h, code.id)).toEqual({ count: 10, orders: 10 });
      const [written] = await h.sql<{ orders: number; keys: number; reserved: number }>(
        `SELECT (SELECT count(*) FROM orders WHERE user_id = ANY($1::uuid[]))::int AS orders,
                (SELECT count(*) FROM idempotency_keys WHERE user_id = ANY($1::uuid[]))::int AS keys,
                (SELECT reserved FROM slots WHERE id = $2) AS reserved`,
        [`{${buyers.map((b) => b.userId).join(',')}}`, w.pickup.id],
      );
      expect(written).toEqual({ orders: 10, keys: 10, reserved: 10 });
    });

    it('first-order-only with a per-customer limit of 5: one customer\'s 10 parallel first orders, exactly one gets the code', async () => {
      const h = harness();
      const w = await promoWorld(h);
      const code = await w.createCode({ code: freshCode('FIRST'), firstOrderOnly: true, perCustomerLimit: 5 });
      const buyer = await w.one();
      const results = await Promise.all(Array.from({ length: 10 }, () => w.order(buyer, { promoCode: code.code })));
      const won = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status !== 201);
      expect(won, refused.map((r) => r.text).slice(0, 3).join('\n')).toHaveLength(1);
      for (const r of refused) expect({ status: r.status, code: r.body.code }).toEqual({ status: 409, code: 'promo_code_first_order_only' });
      expect(await redemptions(h, code.id)).toEqual({ count: 1, orders: 1 });
      const [written] = await h.sql<{ orders: number; uses: number }>(
        `SELECT (SELECT count(*) FROM orders WHERE user_id = $1)::int AS orders,
                (SELECT uses FROM promo_customer_uses WHERE user_id = $1 AND promo_code_id = $2) AS uses`,
        [buyer.userId, code.id],
      );
      expect({ orders: Number(written!.orders), uses: Number(written!.uses) }).toEqual({ orders: 1, uses: 1 });
    });
  });
}
