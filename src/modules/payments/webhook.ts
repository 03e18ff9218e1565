import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { z } from 'zod';
import { parseRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { raiseFlag } from '../orders/shared.js';
import { lateFailedRefunds, refundEventEffect, refundEventLock } from './refund-events.js';
import { handleTipEvent } from './tip-events.js';
import { adoptIntent } from './adopt.js';
import { paymentRank, requirePayments, STATUS_RANK } from './shared.js';

export async function verifyStripeEvent(deps: Deps, payload: string, signature: string | undefined): Promise<Stripe.Event> {
  const payments = requirePayments(deps);
  if (!signature) throw new ApiError('invalid_signature', 'Missing Stripe-Signature header.');
  // The SDK is loaded outside the try: a failure to load it is the server's (500), not a bad signature.
  await payments.client();
  try {
    return await payments.verifyEvent(payload, signature);
  } catch {
    throw new ApiError('invalid_signature', 'The Stripe-Signature does not match this payload, or its timestamp is too old.');
  }
}

/** What a delivered event did (the webhook's 200 `outcome`, and the metric's label). */
export const WEBHOOK_OUTCOMES = ['applied', 'duplicate', 'ignored', 'stale', 'unknown_payment', 'flagged'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

const EffectRow = z.object({
  fresh: z.boolean(),
  found: z.boolean(),
  applied: z.boolean(),
  flagged: z.boolean(),
});
const FreshRow = z.object({ fresh: z.boolean() });

/**
 * Applies one verified event in ONE statement. The dedupe row and the effect commit or
 * roll back together, so a crash never leaves an event "seen" but unapplied. The event is
 * a hint: it is checked against our payment row (amount, currency, state order) first.
 */
export async function handleStripeEvent(deps: Deps, event: Stripe.Event): Promise<WebhookOutcome> {
  // A tip's PaymentIntent (metadata kind: tip) is recorded on the tip, never on the order's payments.
  const tip = await handleTipEvent(deps, event);
  if (tip) return tip;
  // A PaymentIntent we made but never recorded (its answer was lost): recorded against the order its metadata names.
  const adopted = event.type in OUR_STATUS ? await adoptIntent(deps, event.data.object as Stripe.PaymentIntent, event) : undefined;
  if (adopted && adopted !== 'known') return adopted;
  const now = deps.clock.now().toISOString();
  const effect = effectFor(event, now);
  if (!effect) {
    const rows = await deps.database.rows(FreshRow, sql`
      WITH seen AS (
        INSERT INTO webhook_events (event_id, type, outcome) VALUES (${event.id}, ${event.type}, 'ignored')
        ON CONFLICT DO NOTHING RETURNING 1
      ) SELECT EXISTS (SELECT 1 FROM seen) AS fresh`);
    return rows[0]?.fresh ? 'ignored' : 'duplicate';
  }
  // A refund event locks its payment first (Stripe sends a refund's failure as three events at
  // once); a PaymentIntent event moves money, so the order's payment_outstanding flag follows the
  // balance after it. One round trip either way.
  const lock = refundEventLock(event);
  const orderId = intentOrder(event);
  const statements: [SQL, ...SQL[]] = lock ? [lock, effect] : [effect];
  if (orderId) statements.push(syncOutstandingFlag(orderId, now));
  const [first, ...rest] = statements;
  const rows = statements.length > 1
    ? parseRows(EffectRow, (await deps.database.batch((db) => [db.execute(first), ...rest.map((s) => db.execute(s))]))[lock ? 1 : 0])
    : await deps.database.rows(EffectRow, effect);
  const row = rows[0];
  if (!row?.fresh) return 'duplicate';
  if (!row.found) return 'unknown_payment';
  if (row.flagged) return 'flagged';
  return row.applied ? 'applied' : 'stale';
}

function effectFor(event: Stripe.Event, now: string): SQL | undefined {
  switch (event.type) {
    case 'payment_intent.amount_capturable_updated':
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
    case 'payment_intent.canceled':
      return intentEffect(event, event.data.object, now);
    case 'charge.refunded':
      return chargeRefundedEffect(event, event.data.object, now);
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
    case 'charge.refund.updated':
      return refundEventEffect(event, event.data.object, now);
    case 'charge.dispute.created':
      return disputeEffect(event, event.data.object, now);
    default:
      return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The order a PaymentIntent event is about, from the metadata every intent we create carries
 * (`order_id`), so `payment_outstanding` can be brought in line with the order's balance after
 * the event is applied: a balance paid through the PaymentSheet clears it; a hold Stripe
 * cancelled after the weigh-in raises it. Running the sync for a replayed or stale event
 * changes nothing (the flag already agrees with the balance).
 */
function intentOrder(event: Stripe.Event): string | undefined {
  if (!event.type.startsWith('payment_intent.')) return undefined;
  const orderId = (event.data.object as Stripe.PaymentIntent).metadata?.order_id;
  return orderId && UUID.test(orderId) ? orderId : undefined;
}

const OUR_STATUS: Record<string, string> = {
  'payment_intent.amount_capturable_updated': 'requires_capture',
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'failed',
  'payment_intent.canceled': 'canceled',
};

const NOTE: Record<string, string> = {
  'payment_intent.amount_capturable_updated': 'Card authorised',
  'payment_intent.succeeded': 'Payment captured',
  'payment_intent.payment_failed': 'Card payment failed',
  'payment_intent.canceled': 'Card authorisation cancelled',
};

/**
 * A `balance` row written before its off-session PaymentIntent was created
 * (src/modules/payments/collect.ts) and still without Stripe's answer: the intent names it in
 * `metadata.payment_id`. Its event may come before the answer is recorded (or instead of it,
 * after a crash); matching it here records the intent on the row either way.
 */
function awaitingAnswer(pi: Stripe.PaymentIntent): SQL {
  const paymentId = pi.metadata?.payment_id;
  const orderId = pi.metadata?.order_id;
  if (pi.metadata?.kind !== 'balance' || !paymentId || !orderId || !UUID.test(paymentId) || !UUID.test(orderId)) return sql`false`;
  return sql`(p.stripe_payment_intent_id IS NULL AND p.kind = 'balance' AND p.id = ${paymentId}::uuid AND p.order_id = ${orderId}::uuid)`;
}

/**
 * A PaymentIntent event: moves our payment forward, confirms a pending order once its money
 * is authorised (or, if that event is late or lost, already captured).
 */
function intentEffect(event: Stripe.Event, pi: Stripe.PaymentIntent, now: string): SQL {
  const next = OUR_STATUS[event.type]!;
  // Hold expiry: Stripe gives the exact time on the charge; 6 days from authorisation is a
  // conservative floor (online card holds last about 7) until a charge read refines it.
  const captureBefore = new Date((pi.created + 6 * 86_400) * 1000).toISOString();
  const evidence = JSON.stringify({ paymentIntent: pi.id, amount: pi.amount, amountReceived: pi.amount_received, eventId: event.id });
  return sql`
    WITH seen AS (
      INSERT INTO webhook_events (event_id, type) VALUES (${event.id}, ${event.type})
      ON CONFLICT DO NOTHING RETURNING 1
    ),
    pay AS (
      SELECT p.*, o.status AS order_status FROM payments p JOIN orders o ON o.id = p.order_id
      WHERE (p.stripe_payment_intent_id = ${pi.id} OR ${awaitingAnswer(pi)}) AND EXISTS (SELECT 1 FROM seen)
      FOR UPDATE OF p
    ),
    mismatch AS (
      SELECT * FROM pay WHERE pay.amount <> ${pi.amount}::int OR lower(pay.currency) <> ${pi.currency}
    ),
    flag AS (
      UPDATE orders o SET ${raiseFlag('amount_mismatch')}, updated_at = ${now}::timestamptz
      FROM mismatch m WHERE o.id = m.order_id
      RETURNING o.id
    ),
    moved AS (
      UPDATE payments p SET
        stripe_payment_intent_id = ${pi.id},
        status = ${next}::payment_status,
        amount_capturable = ${pi.amount_capturable}::int,
        amount_captured = GREATEST(p.amount_captured, ${pi.amount_received}::int),
        capture_before = CASE WHEN ${next} = 'requires_capture' THEN COALESCE(p.capture_before, ${captureBefore}::timestamptz) ELSE p.capture_before END,
        last_event_created = GREATEST(COALESCE(p.last_event_created, 0), ${event.created}::int),
        updated_at = ${now}::timestamptz
      FROM pay
      WHERE p.id = pay.id AND NOT EXISTS (SELECT 1 FROM mismatch)
        AND (${paymentRank(sql`pay.status::text`)} < ${STATUS_RANK[next]!}
             -- processing and failed share a rank, but a payment that was processing can still fail
             -- (Stripe: processing → requires_payment_method); an older failure never undoes a newer event.
             OR (${next} = 'failed' AND pay.status = 'processing' AND ${event.created}::int >= COALESCE(pay.last_event_created, 0)))
      RETURNING p.order_id, pay.order_status
    ),
    confirmed AS (
      UPDATE orders o SET status = 'confirmed', updated_at = ${now}::timestamptz
      FROM moved m
      WHERE o.id = m.order_id AND ${next} IN ('requires_capture', 'succeeded') AND o.status = 'pending_payment'
      RETURNING o.id
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, type, from_status, to_status, note, evidence)
      SELECT m.order_id, ${now}::timestamptz, 'system'::actor_role, 'status_changed', 'pending_payment'::order_status, 'confirmed'::order_status, ${NOTE[event.type]!}, ${evidence}::jsonb
      FROM moved m WHERE m.order_id IN (SELECT id FROM confirmed)
      UNION ALL
      SELECT m.order_id, ${now}::timestamptz, 'system'::actor_role, 'payment', NULL::order_status, NULL::order_status, ${NOTE[event.type]!}, ${evidence}::jsonb
      FROM moved m WHERE m.order_id NOT IN (SELECT id FROM confirmed)
      UNION ALL
      SELECT f.id, ${now}::timestamptz, 'system'::actor_role, 'payment', NULL::order_status, NULL::order_status,
             ${`Flagged: Stripe reported ${pi.amount} ${pi.currency}, which is not the amount we asked for`}, ${evidence}::jsonb
      FROM flag f
    )
    SELECT EXISTS (SELECT 1 FROM seen) AS fresh,
           EXISTS (SELECT 1 FROM pay) AS found,
           EXISTS (SELECT 1 FROM moved) AS applied,
           EXISTS (SELECT 1 FROM flag) AS flagged`;
}

/**
 * The CTEs a charge-level event starts with: `seen` records the event id (nothing happens for a
 * replay: Stripe delivers at least once), `pay` is our payment for the PaymentIntent, if new.
 */
function seenPayment(event: Stripe.Event, pi: string): SQL {
  return sql`seen AS (
      INSERT INTO webhook_events (event_id, type) VALUES (${event.id}, ${event.type}) ON CONFLICT DO NOTHING RETURNING 1
    ),
    pay AS (SELECT * FROM payments WHERE stripe_payment_intent_id = ${pi} AND EXISTS (SELECT 1 FROM seen))`;
}

/**
 * Refunds are also made here, but Stripe's total is the truth: keep the larger figure. A total
 * sent before one of our refunds failed still counts it: it is taken net of those (`late`).
 */
function chargeRefundedEffect(event: Stripe.Event, charge: Stripe.Charge, now: string): SQL {
  const pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? '');
  return sql`
    WITH ${seenPayment(event, pi)},
    late AS (SELECT (${charge.amount_refunded}::int - ${lateFailedRefunds(event)})::int AS total),
    moved AS (
      UPDATE payments p SET amount_refunded = LEAST(p.amount_captured, GREATEST(p.amount_refunded, late.total)),
                            updated_at = ${now}::timestamptz
      FROM pay, late WHERE p.id = pay.id AND p.amount_refunded < late.total
      RETURNING p.order_id
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, 'system', 'payment', 'Refund confirmed by Stripe',
             ${JSON.stringify({ charge: charge.id, amountRefunded: charge.amount_refunded, eventId: event.id })}::jsonb
      FROM moved
    )
    SELECT EXISTS (SELECT 1 FROM seen) AS fresh, EXISTS (SELECT 1 FROM pay) AS found,
           EXISTS (SELECT 1 FROM moved) AS applied, false AS flagged`;
}

function disputeEffect(event: Stripe.Event, dispute: Stripe.Dispute, now: string): SQL {
  const pi = typeof dispute.payment_intent === 'string' ? dispute.payment_intent : (dispute.payment_intent?.id ?? '');
  return sql`
    WITH ${seenPayment(event, pi)},
    flag AS (
      UPDATE orders o SET ${raiseFlag('disputed')}, updated_at = ${now}::timestamptz
      FROM pay WHERE o.id = pay.order_id RETURNING o.id
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT id, ${now}::timestamptz, 'system', 'payment', 'The customer disputed the charge',
             ${JSON.stringify({ dispute: dispute.id, amount: dispute.amount, reason: dispute.reason, eventId: event.id })}::jsonb
      FROM flag
    )
    SELECT EXISTS (SELECT 1 FROM seen) AS fresh, EXISTS (SELECT 1 FROM pay) AS found,
           EXISTS (SELECT 1 FROM flag) AS applied, EXISTS (SELECT 1 FROM flag) AS flagged`;
}
