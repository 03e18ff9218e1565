/**
 * Adopting a PaymentIntent we made but never recorded. When Stripe's answer to an overage (or
 * balance) charge is lost — a 500 stored for the key, a timeout — Stripe may still have charged
 * the card, and nothing here knows the PaymentIntent's id. Its webhook, and reconciliation, then
 * see an object "unknown to us"; but every PaymentIntent we create carries our metadata
 * (`order_id`, `kind`, `attempt`: see ./attempts.ts), so it is recorded against that order
 * instead of ignored. Stripe does not resend an event we answered 2xx
 * (https://docs.stripe.com/webhooks#retries), so answering `unknown_payment` lost it for good.
 */
import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { z } from 'zod';
import { parseRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { raiseFlag } from '../orders/shared.js';

/** Kinds of payment we create as a new PaymentIntent after the hold, one row per intent. */
const ADOPTABLE_KINDS = ['overage', 'balance'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Our order and payment kind, when the intent's metadata names them and the kind is one we adopt. */
export function adoptable(pi: Stripe.PaymentIntent): { orderId: string; kind: (typeof ADOPTABLE_KINDS)[number] } | undefined {
  const orderId = pi.metadata?.order_id;
  const kind = ADOPTABLE_KINDS.find((k) => k === pi.metadata?.kind);
  return orderId && UUID.test(orderId) && kind ? { orderId, kind } : undefined;
}

/** Our payment row's id from the intent's `payment_id` metadata (balance charges), when it is a UUID. */
function paymentRowId(pi: Stripe.PaymentIntent): string | null {
  const id = pi.metadata?.payment_id;
  return id && UUID.test(id) ? id : null;
}

const AdoptRow = z.object({ known: z.boolean(), fresh: z.boolean(), found: z.boolean(), adopted: z.boolean() });

/**
 * `applied`: a payment row was written for it (with a timeline entry; a failed overage also
 * flags `overage_failed`). `known`: we have a row for it already (nothing done; for a webhook, its
 * dedupe row is not written either, so the normal effect applies it). `duplicate`: the event
 * was seen before. `flagged`: the order already has a payment of that kind, or another currency
 * — a second charge for a person to look at (flag `amount_mismatch`). `unknown_payment`: no
 * such order.
 */
export type AdoptOutcome = 'applied' | 'known' | 'duplicate' | 'flagged' | 'unknown_payment';

/**
 * Records `pi` against the order its metadata names, in ONE statement; with `event`, the
 * webhook's dedupe row is written in that same statement, so the event is never "seen" but
 * unapplied. Undefined when the metadata names no order or kind we adopt.
 */
export async function adoptIntent(deps: Deps, pi: Stripe.PaymentIntent, event?: Stripe.Event): Promise<AdoptOutcome | undefined> {
  const ours = adoptable(pi);
  if (!ours) return undefined;
  const now = deps.clock.now().toISOString();
  // The order's payment_outstanding flag follows what was recorded, in the same round trip.
  const [adopted] = await deps.database.batch((db) => [db.execute(adoptSql(pi, ours, now, event)), db.execute(syncOutstandingFlag(ours.orderId, now))]);
  const [row] = parseRows(AdoptRow, adopted);
  if (!row || row.known) return 'known';
  if (!row.fresh) return 'duplicate';
  if (!row.found) return 'unknown_payment';
  return row.adopted ? 'applied' : 'flagged';
}

function adoptSql(pi: Stripe.PaymentIntent, ours: { orderId: string; kind: string }, now: string, event?: Stripe.Event): SQL {
  const status = pi.status === 'requires_payment_method' ? 'failed' : pi.status;
  const source = event ? `event ${event.id}` : 'reconciliation';
  const evidence = JSON.stringify({ paymentIntent: pi.id, amount: pi.amount, amountReceived: pi.amount_received, status: pi.status, attempt: pi.metadata?.attempt ?? null, source });
  const note = `Recorded a ${ours.kind} charge Stripe made (${pi.status}, ${pi.amount_received} of ${pi.amount}) whose answer was lost`;
  const seen = event
    ? sql`INSERT INTO webhook_events (event_id, type) SELECT ${event.id}, ${event.type} WHERE NOT EXISTS (SELECT 1 FROM known)
          ON CONFLICT DO NOTHING RETURNING 1`
    : sql`SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM known)`;
  return sql`
    WITH known AS (
      SELECT 1 FROM payments WHERE stripe_payment_intent_id = ${pi.id}
      UNION ALL
      -- A balance charge's row is written before Stripe is called (./collect.ts, ./sheet-balance.ts):
      -- it is ours even before it holds the intent's id; the webhook's normal effect matches it.
      SELECT 1 FROM payments WHERE id = ${paymentRowId(pi)}::uuid AND order_id = ${ours.orderId}::uuid
    ),
    seen AS (${seen}),
    ord AS (SELECT id, currency FROM orders WHERE id = ${ours.orderId}::uuid AND EXISTS (SELECT 1 FROM seen)),
    ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, amount_capturable, amount_captured,
                            last_event_created, created_at, updated_at)
      SELECT ${crypto.randomUUID()}::uuid, ord.id, ${ours.kind}::payment_kind, 'card', ${status}::payment_status, ${pi.id}, ord.currency,
             ${pi.amount}::int, ${pi.amount_capturable}::int, ${pi.amount_received}::int, ${event?.created ?? null}::int,
             ${now}::timestamptz, ${now}::timestamptz
      FROM ord WHERE lower(ord.currency) = ${pi.currency}
      ON CONFLICT DO NOTHING
      RETURNING order_id
    ),
    failed AS (
      UPDATE orders SET ${raiseFlag('overage_failed')}, updated_at = ${now}::timestamptz
      WHERE id IN (SELECT order_id FROM ins) AND ${status} = 'failed' AND ${ours.kind} = 'overage'
    ),
    conflict AS (
      UPDATE orders o SET ${raiseFlag('amount_mismatch')}, updated_at = ${now}::timestamptz
      FROM ord WHERE o.id = ord.id AND NOT EXISTS (SELECT 1 FROM ins)
      RETURNING o.id
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, 'system'::actor_role, 'payment', ${note}::text, ${evidence}::jsonb FROM ins
      UNION ALL
      SELECT id, ${now}::timestamptz, 'system'::actor_role, 'payment',
             ${`Flagged: Stripe has a ${ours.kind} charge ${pi.id} (${pi.amount} ${pi.currency}) this order already has a payment for, or in another currency`}::text,
             ${evidence}::jsonb
      FROM conflict
    )
    SELECT EXISTS (SELECT 1 FROM known) AS known, EXISTS (SELECT 1 FROM seen) AS fresh,
           EXISTS (SELECT 1 FROM ord) AS found, EXISTS (SELECT 1 FROM ins) AS adopted`;
}
