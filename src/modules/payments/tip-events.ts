/**
 * Stripe events about a tip's PaymentIntent (metadata `kind: tip`, src/modules/tips/charge.ts). They are
 * recorded on the tip, never on the order's payments: a tip succeeding must not pay, confirm or
 * settle the order. Deduped on the event id with the effect, in ONE statement; forward only
 * (`pending` → `processing` → `succeeded`, or `failed`; a processing tip may still fail; a
 * succeeded one stays so).
 */
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import type { WebhookOutcome } from './webhook.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const NEXT: Record<string, 'succeeded' | 'failed' | 'processing'> = {
  'payment_intent.processing': 'processing',
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'failed',
  'payment_intent.canceled': 'failed',
};

/** The PaymentIntent of a `payment_intent.*` event, when its metadata says it is a tip. */
export function tipIntentOf(event: Stripe.Event): Stripe.PaymentIntent | undefined {
  if (!event.type.startsWith('payment_intent.')) return undefined;
  const pi = event.data.object as Stripe.PaymentIntent;
  return pi.metadata?.kind === 'tip' ? pi : undefined;
}

const Effect = z.object({ fresh: z.boolean(), found: z.boolean(), applied: z.boolean() });

/** Applies a tip PaymentIntent's event; undefined when the event is not about a tip. One round trip. */
export async function handleTipEvent(deps: Deps, event: Stripe.Event): Promise<WebhookOutcome | undefined> {
  const pi = tipIntentOf(event);
  if (!pi) return undefined;
  const next = NEXT[event.type];
  const tipId = pi.metadata?.tip_id && UUID.test(pi.metadata.tip_id) ? pi.metadata.tip_id : null;
  const now = deps.clock.now().toISOString();
  const code = pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? (event.type === 'payment_intent.canceled' ? 'canceled' : null);
  const [row] = await deps.database.rows(Effect, sql`
    WITH seen AS (
      INSERT INTO webhook_events (event_id, type, outcome) VALUES (${event.id}, ${event.type}, ${next ? null : 'ignored'})
      ON CONFLICT DO NOTHING RETURNING 1
    ),
    tip AS (
      SELECT * FROM tips
      WHERE (stripe_payment_intent_id = ${pi.id} OR (id = ${tipId}::uuid AND stripe_payment_intent_id IS NULL))
        AND lower(currency) = ${pi.currency} AND amount = ${pi.amount}::int AND EXISTS (SELECT 1 FROM seen)
      FOR UPDATE
    ),
    moved AS (
      UPDATE tips t SET status = ${next ?? 'pending'}, stripe_payment_intent_id = ${pi.id},
             failure_code = CASE WHEN ${next ?? ''} = 'failed' THEN ${code} ELSE NULL END, updated_at = ${now}::timestamptz
      FROM tip WHERE t.id = tip.id AND ${next ?? null}::text IS NOT NULL
        AND (tip.status = 'pending' OR (tip.status = 'processing' AND ${next ?? ''} IN ('succeeded', 'failed')))
      RETURNING t.order_id, t.amount, t.status
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, 'system', 'payment', 'Tip ' || status || ' (Stripe)',
             jsonb_build_object('tipId', ${tipId}::uuid, 'paymentIntent', ${pi.id}::text, 'eventId', ${event.id}::text)
      FROM moved
    )
    SELECT EXISTS (SELECT 1 FROM seen) AS fresh, EXISTS (SELECT 1 FROM tip) AS found, EXISTS (SELECT 1 FROM moved) AS applied`);
  if (!row?.fresh) return 'duplicate';
  if (!next) return 'ignored';
  if (!row.found) return 'unknown_payment';
  return row.applied ? 'applied' : 'stale';
}
