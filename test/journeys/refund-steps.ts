import Stripe from 'stripe';
import { expect } from 'vitest';
import { STRIPE_API_VERSION } from '../../src/payments/stripe.js';
import type { Harness } from '../support/harness.js';
import { TEST_STRIPE_SECRET_KEY } from '../support/stripe.js';
import { deliver, deliverEvent, placeOrder, weigh } from './payments.js';

/*
 * Steps of the refund-outcome journeys (./payments-refunds.ts) and the payments job's refund tests
 * (test/node/payments-refund-job.test.ts): an order paid with one of Stripe's test cards, the
 * events the stand-in emitted about its PaymentIntent, and Stripe's own figures to compare ours with.
 */

export type Event = { id: string; type: string; data: { object: Record<string, any> } };

interface RefundRow {
  id: string;
  amount: number;
  status: string;
  stripe_refund_id: string | null;
  reason: string;
  actor_user_id: string | null;
}

export const refundRows = (h: Harness, orderId: string) =>
  h.sql<RefundRow>('SELECT id::text, amount, status, stripe_refund_id, reason, actor_user_id::text FROM refunds WHERE order_id = $1 ORDER BY created_at', [orderId]);

/** Stripe's own figures for the PaymentIntent's charge and its refunds. */
export async function atStripe(h: Harness, pi: string) {
  const state = await h.stripe.state();
  const charge = Object.values(state.charges as Record<string, { payment_intent: string; amount_refunded: number }>).find((c) => c.payment_intent === pi)!;
  return { amountRefunded: charge.amount_refunded, refunds: state.refunds as Record<string, Record<string, any>> };
}

/** The events the stand-in emitted about this PaymentIntent (its charge and refunds), after `since` of them. */
export async function emitted(h: Harness, pi: string, since = 0): Promise<Event[]> {
  const all = ((await h.stripe.state()).events as Event[]).filter((e) => e.data.object.payment_intent === pi && /^(charge|refund)\./.test(e.type));
  return all.slice(since);
}

/** POSTs each event as Stripe would; the outcomes, in order. */
export async function deliverAll(h: Harness, events: Event[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const e of events) {
    const { res } = await deliverEvent(h, e);
    expect(res.status, res.text).toBe(200);
    outcomes.push(res.body.outcome);
  }
  return outcomes;
}

export const typesOf = (events: Event[]) => events.map((e) => e.type);

async function paymentNotes(h: Harness, orderId: string, token: string) {
  const res = await h.api.get(`/v1/orders/${orderId}`, { token });
  expect(res.status, res.text).toBe(200);
  return (res.body.timeline as Array<Record<string, any>>).filter((e) => e.type === 'payment');
}

/** Card `card` authorises the hold, the order is weighed and captured; the admin can refund through the API. */
export async function captured(h: Harness, card: string, grams: number, weighed: number) {
  const p = await placeOrder(h, { grams });
  const sheet = await h.api.post(`/v1/orders/${p.order.id}/payment-sheet`, undefined, { token: p.who.token });
  expect(sheet.status, sheet.text).toBe(200);
  const pi = sheet.body.paymentIntentId as string;
  await h.stripe.authorize(pi, { paymentMethod: card });
  expect((await deliver(h, 'payment_intent.amount_capturable_updated', pi)).res.body).toEqual({ received: true, outcome: 'applied' });
  await weigh(h, p.staff, p.order.id, weighed);
  const boss = await p.admin();
  const refund = (amount: number, reason = 'Shirt came back stained') =>
    h.api.post(`/v1/staff/orders/${p.order.id}/refunds`, { amount, reason }, { token: boss.token });
  const notes = () => paymentNotes(h, p.order.id, p.who.token);
  return { ...p, pi, boss, refund, notes };
}

/** Someone in the Stripe Dashboard: the real SDK, straight at the stand-in, not through our API. */
export function dashboard(h: Harness): Stripe {
  const url = new URL(h.stripe.url);
  return new Stripe(TEST_STRIPE_SECRET_KEY, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 0,
    httpClient: Stripe.createFetchHttpClient(),
  });
}

