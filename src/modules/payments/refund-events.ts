/**
 * Refund outcomes: how a Stripe Refund's status moves our `refunds` row, the payment's refunded
 * total, the order's `refund_failed` flag and its timeline. One SQL builder serves every source of
 * news about a refund: the answer to `refunds.create`, the payments job's retrieve, and the
 * webhook events `refund.created`, `refund.updated`, `refund.failed` and `charge.refund.updated`
 * (all four carry the Refund object: https://docs.stripe.com/api/refunds — `charge.refund.updated`
 * only for some payment methods, `refund.updated` for every refund; a card refund that fails sends
 * `refund.updated`, `refund.failed` and `charge.refund.updated`, three event ids for one change).
 *
 * A Refund's `status` is `pending`, `requires_action`, `succeeded`, `failed` or `canceled`; a card
 * refund can go succeeded → failed later, when the issuer returns it, with `failure_reason`
 * (`lost_or_stolen_card`, `expired_or_canceled_card`, `charge_for_pending_refund_disputed`,
 * `insufficient_funds`, `declined`, `merchant_request`, `unknown`); the money comes back to the
 * Stripe balance (`failure_balance_transaction`) and is no longer counted as refunded on the
 * charge. https://docs.stripe.com/refunds#failed-refunds
 *
 * Our row keeps one of `pending` (pending or requires_action), `succeeded`, `failed`, `canceled`,
 * ranked so it only moves forward: pending < succeeded < failed = canceled. A late `pending` never
 * undoes an outcome, a failure is final, and the three events of one failure act once.
 */
import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { clearFlag, hasFlag, raiseFlag } from '../orders/shared.js';

export type OurRefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

/** Refund rows in these states hold no money: they do not count against what was captured. */
export const RELEASED_REFUND_STATUSES = ['failed', 'canceled'] as const;

/** SQL: the refunds row `r` still counts against the captured total (pending or succeeded). */
export const refundHoldsMoney = (status: SQL): SQL =>
  sql`${status} NOT IN (${sql.join(
    RELEASED_REFUND_STATUSES.map((s) => sql`${s}`),
    sql`, `,
  )})`;

const RANK: Record<OurRefundStatus, number> = { pending: 0, succeeded: 1, failed: 2, canceled: 2 };

const rankOf = (status: SQL): SQL => sql`(CASE ${status} WHEN 'succeeded' THEN 1 WHEN 'failed' THEN 2 WHEN 'canceled' THEN 2 ELSE 0 END)`;

/** Stripe's Refund status → ours (`requires_action`, null or a status we do not know: pending). */
export function ourRefundStatus(status: string | null | undefined): OurRefundStatus {
  return status === 'succeeded' || status === 'failed' || status === 'canceled' ? status : 'pending';
}

/** Stripe's running refunded total for the charge, when the Refund carries its charge expanded. */
export function chargeTotalOf(refund: Stripe.Refund): number | null {
  return refund.charge && typeof refund.charge === 'object' ? refund.charge.amount_refunded : null;
}

const paymentIntentOf = (refund: Stripe.Refund): string | null =>
  typeof refund.payment_intent === 'string' ? refund.payment_intent : (refund.payment_intent?.id ?? null);

/** The reason on a refunds row we record for a refund Stripe reports that this app did not ask for. */
export const OUTSIDE_REFUND_REASON = 'Made outside the app (Stripe Dashboard)';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * SQL predicate on `r` (refunds) joined to `p` (its payment) that finds our row for a Refund: by
 * Stripe's id, or — when our row does not have the id yet (a webhook that beat our own answer, or
 * an answer lost) — by `metadata.refund_id`, which refundOrder sets on every refund it creates.
 * The PaymentIntent must match too, so metadata from elsewhere cannot touch another payment.
 */
export function refundRowMatch(refund: Stripe.Refund): SQL {
  const pi = paymentIntentOf(refund);
  const rowId = refund.metadata?.refund_id && UUID.test(refund.metadata.refund_id) ? refund.metadata.refund_id : null;
  return sql`p.stripe_payment_intent_id = ${pi}
    AND (r.stripe_refund_id = ${refund.id} OR (r.stripe_refund_id IS NULL AND r.id = ${rowId}::uuid))`;
}

export interface RefundTransition {
  /** Which row: a predicate on `r` (refunds) and `p` (payments), e.g. refundRowMatch. */
  match: SQL;
  refund: Stripe.Refund;
  /** Extra condition for anything to happen (the webhook's "this event id is new"). */
  guard?: SQL;
  now: string;
  /** Unix seconds of Stripe's view: the event's `created`, or now for an API answer. */
  stripeTime: number;
  /** Who the timeline names for a success (default: the system, "confirmed by Stripe"). */
  success?: { actorRole: 'admin' | 'system'; actorUserId: string | null; note: string };
  evidence: Record<string, unknown>;
  /**
   * When no row matches but the Refund's PaymentIntent is ours: record it as a new row (a refund
   * made in the Stripe Dashboard, or by anything but refundOrder), with this id, so its later
   * events apply. Webhooks only; needs the unique index on refunds.stripe_refund_id.
   */
  adoptAs?: string;
}

/**
 * CTEs (to follow `WITH`, after the caller's own) that apply a Refund's status to our row, all in
 * the caller's one statement: `target` (the row, locked), `moved` (the row if its status advanced
 * or it got Stripe's id; `advanced` says which); a pending answer with Stripe's charge total raises
 * the refunded total to it (Stripe counts pending refunds); then for an advance:
 * - succeeded: the customer is told (`notify` = refund_issued, with the evidence's `amount`, the
 *   refund's: the outbox trigger of migration 0014 writes the notification in this same statement);
 *   refunded total raised to Stripe's charge total when known, else to at least the sum of our
 *   succeeded refunds (never double-counting a `charge.refunded` that came first);
 *   `refund_failed` cleared if this refund was asked for after the last failure; timeline entry.
 * - failed / canceled: refunded total lowered to Stripe's charge total when known, else by this
 *   refund's amount, never below our other succeeded refunds nor 0 (and never above captured, the
 *   table's check); the order flagged `refund_failed` (`flag`); a timeline entry with the amount
 *   and `failure_reason`, whose evidence `failedAt` lets a stale `charge.refunded` be recognised
 *   (lateFailedRefunds). The row no longer counts, so the amount can be refunded again.
 */
export function refundTransition(t: RefundTransition): SQL {
  const { refund, now } = t;
  const next = ourRefundStatus(refund.status);
  const failing = next === 'failed' || next === 'canceled';
  const chargeTotal = chargeTotalOf(refund);
  const succeededOthers = sql`(SELECT COALESCE(sum(o.amount), 0) FROM refunds o WHERE o.payment_id = m.payment_id AND o.status = 'succeeded' AND o.id <> m.id)`;
  let total: SQL;
  if (chargeTotal !== null) total = failing ? sql`${chargeTotal}::int` : sql`GREATEST(p.amount_refunded, ${chargeTotal}::int)`;
  else total = failing ? sql`GREATEST(${succeededOthers}, p.amount_refunded - m.amount)` : sql`GREATEST(p.amount_refunded, ${succeededOthers} + m.amount)`;
  // Stripe's charge total already counts a pending refund (and any made elsewhere): take it then too.
  const touchesTotal = next === 'pending' && chargeTotal !== null ? sql`true` : sql`m.advanced`;

  const evidence = JSON.stringify({ refund: refund.id, amount: refund.amount, status: refund.status, ...t.evidence });
  const none = sql`SELECT NULL::uuid AS id WHERE false`;
  let raised: SQL = none;
  let cleared: SQL = none;
  let entry: SQL = sql`SELECT order_id, at, actor_role, actor_user_id, type, note, evidence, notify FROM order_events WHERE false`;
  if (failing) {
    const why = refund.failure_reason ? ` (${refund.failure_reason})` : '';
    const note = `Refund of ${refund.amount} ${next} at Stripe${why}: not returned to the customer; it can be refunded again`;
    raised = sql`UPDATE orders o SET ${raiseFlag('refund_failed')}, updated_at = ${now}::timestamptz
      FROM moved m WHERE o.id = m.order_id AND m.advanced RETURNING o.id`;
    entry = sql`SELECT m.order_id, ${now}::timestamptz, 'system'::actor_role, NULL::uuid, 'payment', ${note},
             ${evidence}::jsonb || jsonb_build_object('refundRow', m.id, 'refundOutcome', ${next}::text,
               'failureReason', ${refund.failure_reason ?? null}::text, 'failedAt', ${t.stripeTime}::bigint),
             NULL::notification_type
      FROM moved m WHERE m.advanced`;
  } else if (next === 'succeeded') {
    // Cleared only by a refund asked for after the last failure: an admin acted on it.
    cleared = sql`UPDATE orders o SET ${clearFlag('refund_failed')}, updated_at = ${now}::timestamptz
      FROM moved m WHERE o.id = m.order_id AND m.advanced AND ${hasFlag('refund_failed')}
        AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = m.order_id AND e.type = 'payment'
                        AND e.evidence->>'refundOutcome' IS NOT NULL AND e.at >= m.created_at)
      RETURNING o.id`;
    const s = t.success;
    const note = s ? sql`${s.note}` : sql`'Refund of ' || m.amount || ' confirmed by Stripe: ' || m.reason`;
    entry = sql`SELECT m.order_id, ${now}::timestamptz, ${s?.actorRole ?? 'system'}::actor_role, ${s?.actorUserId ?? null}::uuid, 'payment', ${note},
             ${evidence}::jsonb || jsonb_build_object('refundRow', m.id),
             'refund_issued'::notification_type
      FROM moved m WHERE m.advanced`;
  }

  // A refund we have no row for, on our PaymentIntent: inserted with its status as it is now. The
  // statement's other CTEs cannot see that row, so `moved` takes it from the INSERT's RETURNING.
  // Two events about it at once (Stripe sends a failure as three) are serialised by the webhook's
  // payment lock (refundEventLock), so the second finds the row as `target`. Should two ever race
  // anyway, the second waits on the unique index and, if it carries a later status, moves the row
  // the first inserted (ON CONFLICT sees it though our snapshot does not). Either way `advanced`
  // is true exactly when the status is not pending.
  const pi = paymentIntentOf(refund);
  const adopted = t.adoptAs
    ? sql`INSERT INTO refunds (id, order_id, payment_id, amount, reason, actor_user_id, status, stripe_refund_id, created_at)
      SELECT ${t.adoptAs}::uuid, p.order_id, p.id, ${refund.amount}::int, ${OUTSIDE_REFUND_REASON}, NULL, ${next}, ${refund.id}, to_timestamp(${refund.created}::bigint)
      FROM payments p
      WHERE ${t.guard ?? sql`true`} AND p.stripe_payment_intent_id = ${pi} AND ${refund.amount}::int > 0 AND NOT EXISTS (SELECT 1 FROM target)
      ORDER BY p.created_at LIMIT 1
      ON CONFLICT (stripe_refund_id) DO UPDATE SET status = EXCLUDED.status
        WHERE refunds.payment_id = EXCLUDED.payment_id AND ${rankOf(sql`refunds.status`)} < ${RANK[next]}
      RETURNING id, order_id, payment_id, amount, reason, created_at, ${next !== 'pending'}::boolean AS advanced`
    : sql`SELECT NULL::uuid AS id, NULL::uuid AS order_id, NULL::uuid AS payment_id, NULL::int AS amount, NULL::text AS reason,
             NULL::timestamptz AS created_at, NULL::boolean AS advanced WHERE false`;

  return sql`target AS (
      SELECT r.id, r.status AS old_status FROM refunds r JOIN payments p ON p.id = r.payment_id
      WHERE ${t.guard ?? sql`true`} AND ${t.match}
      ORDER BY (r.stripe_refund_id IS NOT NULL) DESC LIMIT 1
      FOR UPDATE OF r
    ),
    adopted AS (${adopted}),
    updated AS (
      UPDATE refunds r SET
        status = CASE WHEN ${rankOf(sql`r.status`)} < ${RANK[next]} THEN ${next} ELSE r.status END,
        stripe_refund_id = COALESCE(r.stripe_refund_id, ${refund.id})
      FROM target t
      WHERE r.id = t.id AND (${rankOf(sql`r.status`)} < ${RANK[next]} OR r.stripe_refund_id IS NULL)
      RETURNING r.id, r.order_id, r.payment_id, r.amount, r.reason, r.created_at, (${rankOf(sql`t.old_status`)} < ${RANK[next]}) AS advanced
    ),
    moved AS (SELECT * FROM updated UNION ALL SELECT * FROM adopted),
    paid AS (
      UPDATE payments p SET amount_refunded = LEAST(p.amount_captured, GREATEST(0, ${total})), updated_at = ${now}::timestamptz
      FROM moved m WHERE p.id = m.payment_id AND ${touchesTotal}
      RETURNING p.id
    ),
    flag AS (${raised}),
    unflag AS (${cleared}),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence, notify)
      ${entry}
    )`;
}

/**
 * For a `charge.refunded` event (CTE `pay` = our payment): the amount of our refunds on it that
 * failed or were canceled at or after the event was created. Stripe's total in such an event
 * still counts them (it was sent before the failure), so it is taken net of them: a late
 * `charge.refunded` cannot resurrect a failed refund.
 */
export function lateFailedRefunds(event: Stripe.Event): SQL {
  return sql`(SELECT COALESCE(sum(r.amount), 0) FROM refunds r JOIN pay ON r.payment_id = pay.id
      WHERE NOT ${refundHoldsMoney(sql`r.status`)}
        AND EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = r.order_id AND e.type = 'payment'
                    AND e.evidence->>'refundRow' = r.id::text AND (e.evidence->>'failedAt')::bigint >= ${event.created}))`;
}

/**
 * The first statement of a refund outcome's batch: locks our payment, so the effect that follows
 * (a new statement, with a new snapshot under READ COMMITTED) sees every refund outcome committed
 * before it. Without it, two events at once (Stripe sends a failure as three, and outcomes of
 * different refunds of one charge can cross) each took the refunded total from a snapshot the
 * other had already changed, and the total could end above Stripe's.
 */
export function lockPaymentFor(match: SQL): SQL {
  // NO KEY UPDATE, like the UPDATE of payments it comes before: a refund being reserved (its
  // foreign key takes KEY SHARE on the payment while it holds the order) must not wait on it.
  return sql`SELECT p.id FROM payments p WHERE ${match} FOR NO KEY UPDATE`;
}

/** For a webhook about refunds (`charge.refunded` and the four Refund events): lockPaymentFor its PaymentIntent. */
export function refundEventLock(event: Stripe.Event): SQL | undefined {
  const object = event.data.object as { object?: string; payment_intent?: string | { id: string } | null };
  if (event.type !== 'charge.refunded' && object.object !== 'refund') return undefined;
  const pi = typeof object.payment_intent === 'string' ? object.payment_intent : (object.payment_intent?.id ?? null);
  return lockPaymentFor(sql`p.stripe_payment_intent_id = ${pi}`);
}

/**
 * The webhook effect of `refund.created`, `refund.updated`, `refund.failed` and `charge.refund.updated`.
 * A Refund on one of our PaymentIntents that matches no row (made in the Stripe Dashboard) is
 * recorded as a new row (no actor, OUTSIDE_REFUND_REASON), so its later failure lowers our total.
 */
export function refundEventEffect(event: Stripe.Event, refund: Stripe.Refund, now: string): SQL {
  return sql`
    WITH seen AS (
      INSERT INTO webhook_events (event_id, type) VALUES (${event.id}, ${event.type}) ON CONFLICT DO NOTHING RETURNING 1
    ),
    ${refundTransition({
      match: refundRowMatch(refund),
      guard: sql`EXISTS (SELECT 1 FROM seen)`,
      refund,
      now,
      stripeTime: event.created,
      evidence: { eventId: event.id },
      adoptAs: crypto.randomUUID(),
    })}
    SELECT EXISTS (SELECT 1 FROM seen) AS fresh,
           EXISTS (SELECT 1 FROM target) OR EXISTS (SELECT 1 FROM payments WHERE stripe_payment_intent_id = ${paymentIntentOf(refund)}) AS found,
           EXISTS (SELECT 1 FROM moved) AS applied, EXISTS (SELECT 1 FROM flag) AS flagged`;
}
