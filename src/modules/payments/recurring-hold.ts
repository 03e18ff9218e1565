/**
 * A card occurrence's hold (issue 19: "card occurrences use the saved card off-session"): right
 * after the job places the order, the estimate plus buffer (`holdAmount`, as the PaymentSheet
 * holds it) is authorised on the customer's saved card with Stripe's recipe for charging a saved
 * card without the customer — a PaymentIntent with `customer`, `payment_method`,
 * `off_session: true`, `confirm: true` — and `capture_method: manual`, because an order's card
 * payment is a hold captured at the weigh-in (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method,
 * https://docs.stripe.com/payments/place-a-hold-on-a-payment-method).
 *
 * The saved card: the payment method of the customer's latest hold that was authorised
 * (`requires_capture` or `succeeded`), read from Stripe, on their Stripe Customer
 * (`users.stripe_customer_id`): the PaymentSheet saves it with the hold (`setup_future_usage:
 * off_session`, src/modules/payments/sheet.ts), as the tips and the lost-hold balance use it
 * (src/modules/payments/collect.ts `savedPaymentMethod`). A schedule's `payment_method` only says
 * `card`; it names no card.
 *
 * It lands in the same rows and states as the PaymentSheet's hold, so the weigh-in's capture,
 * a cancellation's release and the webhook work unchanged:
 * - the `payments` row (kind `hold`, unique per order) with the intent; authorised
 *   (`requires_capture`), the order moves `pending_payment` → `confirmed` in the same statement,
 *   with the timeline entry the webhook would write (which tells the customer `order_confirmed`);
 *   the webhook's `amount_capturable_updated` then finds it already applied;
 * - declined or authentication required: Stripe answers 402 `card_error` with the intent in
 *   `error.payment_intent` (`requires_payment_method`): the row is `failed` with that intent and
 *   the order stays `pending_payment`, so POST /v1/orders/{id}/payment-sheet returns that same
 *   intent for the customer to confirm on-session (Stripe's advice: bring the customer back to
 *   complete it), and its webhook confirms the order as any sheet hold's does.
 *
 * Once per order: the Stripe call is a recorded attempt of operation `hold` on the order
 * (src/modules/payments/attempts.ts, key `hold-<orderId>`), the same operation as the
 * PaymentSheet's hold, so a job rerun (or the sheet, opened meanwhile) looks the intent up by
 * our metadata before ever sending again: one PaymentIntent per order.
 *
 * Telling the customer is the caller's (src/modules/recurring/job.ts), in the statement that records the occurrence, so
 * it happens once per (schedule, date) however often the job runs.
 */
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeErrorOf } from '../../payments/stripe-errors.js';
import { z } from 'zod';
import { AnyRow } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { recordPaymentFailure } from '../../metrics/index.js';
import { runRecurringPickups, type HoldOutcome, type RecurringReport } from '../recurring/job.js';
import { intentByMetadata, sendOnce } from './attempts.js';
import { savedPaymentMethod } from './collect.js';
import { requirePayments } from './shared.js';
import { holdAmount } from './sheet.js';

/** The order as the hold's read finds it. */
interface CardOrder {
  id: string;
  userId: string;
  currency: string;
}

/**
 * The recurring pickups' part of the scheduled job (src/modules/recurring/job.ts) with card
 * occurrences held off-session: what runScheduledJobs runs (./exclusive.ts). The recurring module
 * sits below payments (eslint.config.js MODULE_LAYERS), so the hold is handed to it.
 */
export const runRecurringJob = (deps: Deps, daysAhead?: number): Promise<RecurringReport> => runRecurringPickups(deps, holdOffSession, daysAhead);

const Saved = z.object({
  pending: z.boolean(),
  currency: z.string(),
  estimated_total: z.number(),
  customer: z.string().nullable(),
  saved_hold: z.string().nullable(),
  hold_status: z.string().nullable(),
  hold_amount: z.number().nullable(),
});

/**
 * Authorises the order's hold off-session on the saved card (the `HoldCard` the recurring job is
 * handed; see the module comment). Database: one read (the order, its hold if any, the saved
 * card's hold), and when a card is there, the attempt recorded (./attempts.ts) and one statement
 * recording Stripe's answer. Stripe: the saved hold read, one PaymentIntent created and confirmed.
 * A request Stripe refuses (400: the saved card detached, …) is `customer_needed` with Stripe's
 * code. Throws when Stripe gave no answer (a 5xx, a timeout, a rate limit): the job leaves the
 * date claimed and a later run retries, which looks the intent up first.
 */
export async function holdOffSession(deps: Deps, orderId: string, userId: string, scheduleId: string): Promise<HoldOutcome> {
  if (!deps.payments) return { kind: 'none' };
  const stripe = await requirePayments(deps).client();
  const [saved] = await deps.database.rows(Saved, sql`
      SELECT (o.payment_method = 'card' AND o.status = 'pending_payment') AS pending, o.currency, o.estimated_total,
             u.stripe_customer_id AS customer,
             (SELECT p.stripe_payment_intent_id FROM payments p JOIN orders q ON q.id = p.order_id
               WHERE q.user_id = u.id AND q.id <> o.id AND p.kind = 'hold' AND p.stripe_payment_intent_id IS NOT NULL
                 AND p.status IN ('requires_capture', 'succeeded')
               ORDER BY p.created_at DESC LIMIT 1) AS saved_hold,
             h.status::text AS hold_status, h.amount AS hold_amount
      FROM orders o JOIN users u ON u.id = o.user_id LEFT JOIN payments h ON h.order_id = o.id AND h.kind = 'hold'
      WHERE o.id = ${orderId}::uuid AND o.user_id = ${userId}::uuid`);
  if (!saved) return { kind: 'none' };
  const order: CardOrder = { id: orderId, userId, currency: saved.currency };
  const amount = holdAmount(saved.estimated_total, deps.config.paymentHoldBufferBps, saved.currency);
  // A rerun after its hold was recorded (the run died before recording the date): what it was.
  if (saved.hold_status === 'requires_capture' || saved.hold_status === 'succeeded') return { kind: 'held' };
  if (!saved.pending) return { kind: 'none' };
  if (saved.hold_status) {
    return { kind: 'customer_needed', reason: saved.hold_status === 'failed' ? 'card_declined' : 'payment_pending', amount: saved.hold_amount ?? amount };
  }
  if (!saved.customer || !saved.saved_hold) return { kind: 'customer_needed', reason: 'no_saved_card', amount };
  const card = await savedPaymentMethod(deps, saved.saved_hold);
  if (card.customer !== saved.customer || !card.paymentMethod) return { kind: 'customer_needed', reason: 'no_saved_card', amount };

  let pi: Stripe.PaymentIntent;
  try {
    const hold = { orderId: order.id, operation: 'hold', subject: order.id, lookup: intentByMetadata(stripe, saved.customer, order.id, 'hold') } as const;
    ({ result: pi } = await sendOnce(deps, hold, (idempotencyKey) => stripe.paymentIntents.create(
      {
        amount,
        currency: order.currency.toLowerCase(),
        customer: saved.customer!,
        payment_method: card.paymentMethod,
        off_session: true,
        confirm: true,
        capture_method: 'manual',
        // Off-session there is nobody to follow a redirect; card-like methods only.
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        metadata: { order_id: order.id, user_id: order.userId, kind: 'hold', attempt: idempotencyKey, recurring_pickup_id: scheduleId },
      },
      { idempotencyKey },
    )));
  } catch (err) {
    recordPaymentFailure(deps.metrics, 'authorise', err);
    // Stripe refused the request itself (the saved card was detached, …): retrying cannot help; the customer pays on the sheet.
    if (isStripeErrorOf(err, 'StripeInvalidRequestError')) return { kind: 'customer_needed', reason: err.code ?? 'saved_card_unusable', amount };
    if (!isStripeErrorOf(err, 'StripeCardError')) throw err;
    const reason = err.code === 'authentication_required' ? 'authentication_required' : (err.decline_code ?? err.code ?? 'card_declined');
    // Without the intent the sheet could not offer it again: no row, the sheet makes its own hold.
    if (err.payment_intent) await record(deps, order, err.payment_intent, reason);
    return { kind: 'customer_needed', reason, amount };
  }
  if (pi.status === 'requires_capture') {
    deps.metrics.payment({ operation: 'authorise', outcome: 'succeeded' });
    await record(deps, order, pi, null);
    return { kind: 'held' };
  }
  // Answered without an error but not authorised (a look-up adopted a declined intent, or the bank wants 3-D Secure).
  const reason = pi.status === 'requires_action' ? 'authentication_required' : (pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? pi.status);
  await record(deps, order, pi, reason);
  return { kind: 'customer_needed', reason, amount: pi.amount };
}

/**
 * ONE statement: the hold row as the PaymentSheet's path and its webhook would leave it, and,
 * when authorised, the order confirmed with the webhook's timeline entry (whose trigger queues
 * `order_confirmed`). Nothing when the order already has a hold row.
 */
async function record(deps: Deps, order: CardOrder, pi: Stripe.PaymentIntent, failure: string | null): Promise<void> {
  const now = deps.clock.now().toISOString();
  const status = failure ? 'failed' : 'requires_capture';
  // The webhook's floor for the hold's expiry (src/modules/payments/webhook.ts): about 7 days, 6 to be safe.
  const captureBefore = failure ? null : new Date((pi.created + 6 * 86_400) * 1000).toISOString();
  const evidence = JSON.stringify({ paymentIntent: pi.id, amount: pi.amount, offSession: true, ...(failure ? { declineCode: failure } : {}) });
  await deps.database.rows(AnyRow, sql`
    WITH ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, amount_capturable, capture_before, created_at, updated_at)
      VALUES (${crypto.randomUUID()}::uuid, ${order.id}::uuid, 'hold', 'card', ${status}::payment_status, ${pi.id}, ${order.currency}, ${pi.amount}::int,
              ${failure ? 0 : pi.amount_capturable}::int, ${captureBefore}::timestamptz, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING order_id
    ),
    confirmed AS (
      UPDATE orders o SET status = 'confirmed', updated_at = ${now}::timestamptz
      FROM ins WHERE o.id = ins.order_id AND ${status} = 'requires_capture' AND o.status = 'pending_payment'
      RETURNING o.id
    )
    INSERT INTO order_events (order_id, at, actor_role, type, from_status, to_status, note, evidence)
    SELECT id, ${now}::timestamptz, 'system'::actor_role, 'status_changed', 'pending_payment'::order_status, 'confirmed'::order_status,
           'Card authorised off-session (recurring pickup)', ${evidence}::jsonb FROM confirmed
    UNION ALL
    SELECT order_id, ${now}::timestamptz, 'system'::actor_role, 'payment', NULL::order_status, NULL::order_status,
           ${`Saved card not authorised off-session (${failure ?? ''}); the customer pays with the PaymentSheet`}, ${evidence}::jsonb
    FROM ins WHERE ${status} = 'failed'`);
}
