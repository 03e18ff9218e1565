import { expect } from 'vitest';
import type { Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { authorise, moveTo, placeOrder, weigh, type Placed } from './payments.js';

/*
 * Tips (issue 19): the helpers test/node/tips.test.ts drives them with. A weighed 8 kg order's
 * final total is 2499 (./payments.ts), so tips run from 100 (one dollar) to 1249 (half), and the
 * presets are 250, 375 and 500.
 */

/** A delivered order (card: authorised, captured; on_delivery: paid in cash at the door), final total 2499. */
export async function deliveredOrder(h: Harness, paymentMethod: 'card' | 'on_delivery' = 'card'): Promise<Placed> {
  const placed = await placeOrder(h, { paymentMethod });
  if (paymentMethod === 'card') await authorise(h, placed.who, placed.order.id);
  const weighed = await weigh(h, placed.staff, placed.order.id, 8000);
  expect(weighed.final.total).toBe(2499);
  await moveTo(h, placed.staff, placed.order.id, 'ready');
  await moveTo(h, placed.staff, placed.order.id, 'out_for_delivery');
  if (paymentMethod === 'on_delivery') {
    const paid = await h.api.post(`/v1/staff/orders/${placed.order.id}/payments`, { method: 'cash', amount: 2499 }, { token: placed.staff.token });
    expect(paid.status, paid.text).toBeLessThan(300);
  }
  await moveTo(h, placed.staff, placed.order.id, 'delivered');
  return placed;
}

/** The customer's tip (POST /v1/orders/{id}/tip), by default as the order's customer with a fresh key. */
export const tipOn = (h: Harness, p: Placed, body: unknown, key = `tip-${crypto.randomUUID()}`, who: Actor = p.who) =>
  h.api.post(`/v1/orders/${p.order.id}/tip`, body, { token: who.token, headers: { 'idempotency-key': key } });

/** A cash tip recorded by staff (POST /v1/staff/orders/{id}/tip). */
export const cashTipOn = (h: Harness, p: Placed, body: unknown, staff: Actor, key = `cash-${crypto.randomUUID()}`) =>
  h.api.post(`/v1/staff/orders/${p.order.id}/tip`, body, { token: staff.token, headers: { 'idempotency-key': key } });
