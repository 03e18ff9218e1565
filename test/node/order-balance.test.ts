/**
 * The order balance has one definition in code (`orderBalance`, src/domain/balance.ts) and its
 * SQL twin, the `order_balances` view that guards and jobs read. Over a few hundred random
 * orders (seeded, so a failure replays) — every order status that matters, weighed or not,
 * holds captured in part, overages charged, declined or waived, balance charges, door payments,
 * card refunds, refunds to account credit (among other credit entries naming the order, which do
 * not count) and admins' waivers — both must give the same seven figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBalance, type BalanceInput, type BalancePayment, type OrderBalance } from '../../src/domain/balance.js';
import { AnyRow } from '../../src/db/client.js';
import { syncOutstandingFlag } from '../../src/modules/orders/balance.js';
import { actor, slot, zone } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
let base: { userId: string; zoneId: string; pickup: string; delivery: string };

beforeAll(async () => {
  t = await createTestApp({ stripe: false });
  const customer = await actor(t);
  const admin = await actor(t, 'admin');
  const z = await zone(t);
  base = {
    userId: customer.userId,
    zoneId: z.id,
    pickup: (await slot(t, z.id, 'pickup')).id,
    delivery: (await slot(t, z.id, 'delivery', { startsInHours: 72 })).id,
  };
  adminId = admin.userId;
});
afterAll(async () => t?.close());
let adminId = '';

/** Mulberry32: a small seeded generator, so a failing case is reproducible from its seed. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['pending_payment', 'confirmed', 'picked_up', 'ready', 'out_for_delivery', 'delivered', 'cancelled'];

function randomCase(r: () => number): BalanceInput {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (max: number) => Math.floor(r() * max);
  const estimatedTotal = 1000 + int(5000);
  const finalTotal = r() < 0.3 ? null : estimatedTotal + int(2000) - 500;
  const payments: BalancePayment[] = [];
  const hold = r() < 0.8;
  if (hold) {
    const status = pick(['requires_payment_method', 'requires_capture', 'succeeded', 'canceled', 'failed']);
    const amount = estimatedTotal + 200;
    const captured = status === 'succeeded' ? Math.min(amount, Math.max(0, finalTotal ?? amount)) : 0;
    payments.push({ kind: 'hold', status, amount, amountCapturable: status === 'requires_capture' ? amount - int(3) * 100 : 0, amountCaptured: captured, amountRefunded: int(2) * Math.floor(captured / 2) });
  }
  if (r() < 0.4) {
    const status = pick(['succeeded', 'failed', 'waived', 'processing']);
    const amount = 30 + int(1500);
    payments.push({ kind: 'overage', status, amount, amountCapturable: 0, amountCaptured: status === 'succeeded' ? amount : 0, amountRefunded: 0 });
  }
  for (let i = int(3); i > 0; i--) {
    const status = pick(['succeeded', 'failed', 'requires_payment_method', 'processing']);
    const amount = 50 + int(2000);
    payments.push({ kind: 'balance', status, amount, amountCapturable: 0, amountCaptured: status === 'succeeded' ? amount : 0, amountRefunded: status === 'succeeded' ? int(amount) : 0 });
  }
  if (!hold && r() < 0.6) payments.push({ kind: 'in_person', status: 'succeeded', amount: finalTotal ?? estimatedTotal, amountCapturable: 0, amountCaptured: finalTotal ?? estimatedTotal, amountRefunded: 0 });
  const waivers = Array.from({ length: int(3) }, () => ({ amount: 1 + int(800) }));
  const creditRefunds = Array.from({ length: int(3) }, () => ({ amount: 1 + int(900) }));
  return { status: pick(STATUSES), finalTotal, estimatedTotal, payments, waivers, creditRefunds };
}

async function viewOf(input: BalanceInput): Promise<OrderBalance> {
  const orderId = await insertOrder(input);
  const [row] = await t.sql<OrderBalance>(
    'SELECT due, authorised, paid, refunded, waived, outstanding, refunded_to_credit AS "refundedToCredit" FROM order_balances WHERE order_id = $1',
    [orderId],
  );
  return row!;
}

async function insertOrder(input: BalanceInput): Promise<string> {
  const orderId = crypto.randomUUID();
  const address = JSON.stringify({ label: 'Home', line1: '1 Test Street', line2: null, city: 'Testville', postcode: '0000', instructions: null });
  await t.sql(
    `INSERT INTO orders (id, user_id, status, payment_method, zone_id, address, pickup_slot_id, delivery_slot_id, express, currency,
                         estimate, estimated_total, pricing_rules, final_total)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, false, 'GBP', '{}'::jsonb, $9, '{}'::jsonb, $10)`,
    [orderId, base.userId, input.status, input.payments.some((p) => p.kind === 'in_person') ? 'on_delivery' : 'card', base.zoneId, address, base.pickup, base.delivery, input.estimatedTotal, input.finalTotal],
  );
  for (const p of input.payments) {
    await t.sql(
      `INSERT INTO payments (id, order_id, kind, method, status, currency, amount, amount_capturable, amount_captured, amount_refunded)
       VALUES ($1, $2, $3, $4, $5, 'GBP', $6, $7, $8, $9)`,
      [crypto.randomUUID(), orderId, p.kind, p.kind === 'in_person' ? 'cash' : 'card', p.status, p.amount, p.amountCapturable, p.amountCaptured, p.amountRefunded],
    );
  }
  for (const w of input.waivers) {
    await t.sql(`INSERT INTO balance_waivers (id, order_id, amount, reason, actor_user_id) VALUES ($1, $2, $3, 'test', $4)`, [crypto.randomUUID(), orderId, w.amount, adminId]);
  }
  for (const c of input.creditRefunds) {
    await t.sql(`INSERT INTO credit_entries (user_id, amount, currency, reason, order_id, actor_user_id) VALUES ($1, $2, 'GBP', 'refund_to_credit', $3, $4)`, [base.userId, c.amount, orderId, adminId]);
  }
  // Credit spent on the order and a goodwill grant about it name it too, but are not refunds (and
  // do not sum to zero, so a twin that forgot the reason would differ).
  await t.sql(
    `INSERT INTO credit_entries (user_id, amount, currency, reason, order_id) VALUES ($1, -300, 'GBP', 'order_applied', $2), ($1, 120, 'GBP', 'goodwill', $2)`,
    [base.userId, orderId],
  );
  return orderId;
}

describe('order balance: code and SQL agree', () => {
  it('on 200 random orders', async () => {
    const seed = Number(process.env.BALANCE_SEED ?? 20261129);
    const r = rng(seed);
    let outstandingSeen = 0;
    let creditSeen = 0;
    for (let i = 0; i < 200; i++) {
      const input = randomCase(r);
      const expected = orderBalance(input);
      if (expected.outstanding > 0) outstandingSeen++;
      if (expected.refundedToCredit > 0) creditSeen++;
      expect(await viewOf(input), `seed ${seed}, case ${i}: ${JSON.stringify(input)}`).toEqual(expected);
    }
    // The generator reaches both sides of the rule.
    expect(outstandingSeen).toBeGreaterThan(20);
    expect(outstandingSeen).toBeLessThan(190);
    expect(creditSeen).toBeGreaterThan(20);
  });
});

describe('the payment_outstanding flag follows the balance', () => {
  const flagsOf = async (orderId: string) => (await t.sql<{ flags: string[] }>('SELECT flags FROM orders WHERE id = $1', [orderId]))[0]!.flags;
  const sync = (orderId: string | null) => t.deps.database.rows(AnyRow, syncOutstandingFlag(orderId, new Date().toISOString()));

  it('is raised on a weighed card order with a lost hold, once, and cleared when the balance is paid', async () => {
    const orderId = await insertOrder({
      status: 'ready',
      finalTotal: 3000,
      estimatedTotal: 2500,
      waivers: [],
      creditRefunds: [],
      payments: [{ kind: 'hold', status: 'canceled', amount: 2750, amountCapturable: 0, amountCaptured: 0, amountRefunded: 0 }],
    });
    expect(await sync(orderId)).toHaveLength(1);
    expect(await flagsOf(orderId)).toEqual(['payment_outstanding']);
    expect(await sync(orderId)).toHaveLength(0);
    await t.sql(
      `INSERT INTO payments (id, order_id, kind, method, status, currency, amount, amount_captured) VALUES ($1, $2, 'balance', 'card', 'succeeded', 'GBP', 3000, 3000)`,
      [crypto.randomUUID(), orderId],
    );
    expect(await sync(null)).toContainEqual({ order_id: orderId });
    expect(await flagsOf(orderId)).toEqual([]);
    const notes = await t.sql<{ note: string }>('SELECT note FROM order_events WHERE order_id = $1 ORDER BY id', [orderId]);
    expect(notes.map((n) => n.note)).toEqual(['Payment outstanding: 3000 GBP to collect before delivery', 'Nothing outstanding any more']);
  });

  it('counts what is owed only: a refund to credit neither settles nor adds to it', async () => {
    const orderId = await insertOrder({
      status: 'ready',
      finalTotal: 3000,
      estimatedTotal: 2500,
      waivers: [],
      creditRefunds: [{ amount: 500 }],
      payments: [{ kind: 'hold', status: 'succeeded', amount: 2000, amountCapturable: 0, amountCaptured: 2000, amountRefunded: 0 }],
    });
    expect(await sync(orderId)).toHaveLength(1);
    expect(await flagsOf(orderId)).toEqual(['payment_outstanding']);
    const notes = await t.sql<{ note: string }>('SELECT note FROM order_events WHERE order_id = $1 ORDER BY id', [orderId]);
    expect(notes.map((n) => n.note)).toEqual(['Payment outstanding: 1000 GBP to collect before delivery']);
  });

  it('is never raised before the weigh-in, on a cancelled order, or on a pay-on-delivery order', async () => {
    const cases: BalanceInput[] = [
      { status: 'confirmed', finalTotal: null, estimatedTotal: 2500, waivers: [], creditRefunds: [], payments: [] },
      { status: 'cancelled', finalTotal: 3000, estimatedTotal: 2500, waivers: [], creditRefunds: [], payments: [] },
      { status: 'delivered', finalTotal: 3000, estimatedTotal: 2500, waivers: [], creditRefunds: [], payments: [{ kind: 'in_person', status: 'failed', amount: 1, amountCapturable: 0, amountCaptured: 0, amountRefunded: 0 }] },
    ];
    for (const input of cases) {
      const orderId = await insertOrder(input);
      expect(await sync(orderId)).toHaveLength(0);
      expect(await flagsOf(orderId)).toEqual([]);
    }
  });
});
