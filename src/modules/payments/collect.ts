/**
 * Collecting what is outstanding on a card order whose hold was lost: Stripe released it
 * (cancelled automatically about 7 days after the authorisation, `cancellation_reason:
 * automatic`) or refused to capture it. The card saved with the hold (`setup_future_usage:
 * off_session`) is charged off-session for the order's outstanding balance (the
 * `order_balances` view, twin of src/domain/balance.ts), as a `balance` payment row.
 *
 * Stripe's recipe for charging a saved card without the customer: a PaymentIntent with
 * `customer`, `payment_method`, `off_session: true` and `confirm: true`. When the bank asks for
 * authentication or declines, Stripe answers 402 `card_error` (`authentication_required`,
 * `card_declined`, …) with the PaymentIntent in `error.payment_intent`, and the customer must
 * come back on-session to pay (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method,
 * https://docs.stripe.com/payments/cards/charging-saved-cards#off-session-payments-with-saved-cards).
 * Here that means: the row records the failure and its decline code, the order is flagged
 * `payment_outstanding`, and POST /v1/orders/{id}/payment-sheet offers a PaymentSheet for the
 * balance (src/modules/payments/sheet-balance.ts).
 *
 * The customer authorised the hold's amount, and an overage above it up to
 * OVERAGE_APPROVAL_THRESHOLD (src/modules/payments/capture.ts); a balance beyond that is not
 * charged off-session unless they approved the overage, but left to them (PaymentSheet).
 *
 * One off-session attempt per order: the row's id is derived from the order id, so racing or
 * repeated captures share one row, and the Stripe call's idempotency key (`balance-<row id>`)
 * is derived from that row, written BEFORE the call. A crash between the two leaves the row in
 * `requires_confirmation`; the next capture sends the same key again. A declined card is not
 * retried off-session (the customer pays on-session instead).
 */
import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeErrorOf } from '../../payments/stripe-errors.js';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { AnyRow, parseRows } from '../../db/client.js';
import { recordPaymentFailure } from '../../metrics/index.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { intentByMetadata, PriorAttempt, priorAttemptSql, sendOnce } from './attempts.js';
import { providerError, requirePayments, type PaymentOrderRow, type PaymentRow } from './shared.js';

/**
 * What collecting a lost hold's balance did. `charged`: Stripe took it; `processing`: Stripe
 * is still working on it (its webhook finishes it); `failed`: declined or authentication
 * required, the order is flagged `payment_outstanding` and the customer pays with the
 * PaymentSheet; `awaiting_customer`: the balance exceeds the lost hold by more than the
 * overage approval threshold and the customer has not approved an overage, so it is not
 * charged without them: the order is flagged and the customer pays with the PaymentSheet;
 * `none`: nothing was outstanding.
 */
export type BalanceOutcome = 'charged' | 'processing' | 'failed' | 'awaiting_customer' | 'none';

/** The capture path's answer when the hold was lost and the balance was collected instead. */
export interface BalanceCollection {
  kind: 'balance';
  captured: 0;
  balance: BalanceOutcome;
}

/**
 * Whether a hold in this state is lost for good: released or cancelled by Stripe, or declined.
 * A cancelled order is never charged (its hold was released on purpose).
 */
export function holdLost(order: PaymentOrderRow, holdStatus: string): boolean {
  return order.status !== 'cancelled' && (holdStatus === 'canceled' || holdStatus === 'failed');
}

/** A UUID derived from a name (SHA-256, laid out as an RFC 9562 version-8 UUID): the same name, the same id. */
export async function derivedId(name: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(name))).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The customer and payment method saved with the hold: what an off-session charge uses. */
export async function savedPaymentMethod(deps: Deps, holdIntentId: string): Promise<{ customer?: string; paymentMethod?: string }> {
  const holdIntent = await (await requirePayments(deps).client()).paymentIntents.retrieve(holdIntentId).catch(providerError);
  return {
    paymentMethod: typeof holdIntent.payment_method === 'string' ? holdIntent.payment_method : holdIntent.payment_method?.id,
    customer: typeof holdIntent.customer === 'string' ? holdIntent.customer : holdIntent.customer?.id,
  };
}

const BalanceRow = z.object({ id: z.string().nullable(), status: z.string().nullable(), amount: z.number().nullable(), pi: z.string().nullable(), outstanding: z.number() });

const SETTLED: Record<string, BalanceOutcome> = { succeeded: 'charged', processing: 'processing', failed: 'failed', canceled: 'failed' };

/**
 * Charges the outstanding balance of a weighed card order whose hold is lost, off-session on
 * the card saved with the hold. Database: one batch writes (or finds) the row and records the
 * charge's attempt (./attempts.ts), one batch records Stripe's answer and brings the
 * `payment_outstanding` flag in line (with `deferred`, the caller's closing batch does: the weigh-in). Stripe: the hold
 * is read for its saved card, then one PaymentIntent is created and confirmed.
 * Throws 502 `payment_provider_error` when Stripe could not be reached (safe to retry: the
 * same row, the same idempotency key).
 */
export async function collectLostHold(deps: Deps, order: PaymentOrderRow, hold: PaymentRow, deferred?: SQL[]): Promise<BalanceCollection> {
  const stripe = await requirePayments(deps).client();
  const paymentId = await derivedId(`balance-off-session:${order.id}`);
  const now = deps.clock.now().toISOString();
  // Beyond this the customer has not agreed to be charged without them.
  const ceiling = order.overageApprovedAt ? Number.MAX_SAFE_INTEGER : hold.amount + deps.config.overageApprovalThreshold;
  const rowSql = sql`
    WITH b AS (SELECT order_id, outstanding FROM order_balances WHERE order_id = ${order.id}::uuid),
    ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, currency, amount, created_at, updated_at)
      SELECT ${paymentId}::uuid, b.order_id, 'balance', 'card', 'requires_confirmation', ${order.currency}, b.outstanding, ${now}::timestamptz, ${now}::timestamptz
      FROM b WHERE b.outstanding > 0 AND b.outstanding <= ${ceiling}::bigint
        -- The customer is paying it on the PaymentSheet (open, in 3-D Secure, or paid and its
        -- webhook not here yet): charging the saved card as well would take it twice.
        AND NOT EXISTS (SELECT 1 FROM payments q WHERE q.order_id = b.order_id AND q.kind = 'balance'
                          AND q.id <> ${paymentId}::uuid AND q.status NOT IN ('succeeded', 'canceled'))
      ON CONFLICT (id) DO NOTHING
      RETURNING id::text, status::text, amount, stripe_payment_intent_id AS pi
    )
    SELECT r.id, r.status, r.amount, r.pi, b.outstanding
    FROM b LEFT JOIN (
      SELECT * FROM ins
      UNION ALL
      SELECT id::text, status::text, amount, stripe_payment_intent_id AS pi FROM payments WHERE id = ${paymentId}::uuid
    ) r ON true`;
  // The same batch records the charge's attempt (./attempts.ts) while the row still awaits Stripe's answer.
  const awaiting = sql`SELECT id::text FROM payments WHERE id = ${paymentId}::uuid AND status = 'requires_confirmation'`;
  const [rowResult, priorResult] = await deps.database.batch((db) => [
    db.execute(rowSql),
    db.execute(priorAttemptSql(order.id, 'balance', awaiting, deps.clock.now())),
  ]);
  const [row] = parseRows(BalanceRow, rowResult);
  const done = (balance: BalanceOutcome): BalanceCollection => ({ kind: 'balance', captured: 0, balance });
  if (!row || (row.id === null && row.outstanding <= 0)) return done('none');
  if (row.id === null || row.status === null || row.amount === null) {
    // Too much to take without the customer, or the customer is paying it: flag it; they pay with the PaymentSheet.
    await deps.database.rows(AnyRow, syncOutstandingFlag(order.id, now));
    return done('awaiting_customer');
  }
  // Answered before: report it, never charge again.
  if (row.status !== 'requires_confirmation') return done(SETTLED[row.status] ?? 'processing');

  const saved = await savedPaymentMethod(deps, hold.stripePaymentIntentId!);
  if (!saved.customer || !saved.paymentMethod) {
    await settle(deps, order.id, row.id, { status: 'failed', pi: null, captured: 0 }, `No saved card to charge the outstanding ${row.amount} ${order.currency}; the customer must pay it`, { amount: row.amount });
    return done('failed');
  }
  let pi: Stripe.PaymentIntent;
  try {
    // A recorded attempt (./attempts.ts): a retry looks the charge up by our metadata before sending.
    const amount = row.amount;
    const charge = { orderId: order.id, operation: 'balance', subject: row.id, lookup: intentByMetadata(stripe, saved.customer, order.id, 'balance') } as const;
    ({ result: pi } = await sendOnce(deps, charge, (idempotencyKey) => stripe.paymentIntents.create(
      {
        amount,
        currency: order.currency.toLowerCase(),
        customer: saved.customer,
        payment_method: saved.paymentMethod,
        off_session: true,
        confirm: true,
        // Off-session there is nobody to follow a redirect; card-like methods only.
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        metadata: { order_id: order.id, kind: 'balance', payment_id: row.id, attempt: idempotencyKey },
      },
      { idempotencyKey },
    ), parseRows(PriorAttempt, priorResult)[0]));
  } catch (err) {
    recordPaymentFailure(deps.metrics, 'capture', err);
    if (!isStripeErrorOf(err, 'StripeCardError')) {
      // No answer: flagged until the retry (which looks it up first) or Stripe's webhook says what happened.
      await deps.database.rows(AnyRow, syncOutstandingFlag(order.id, now));
      providerError(err);
    }
    const code = err.decline_code ?? err.code ?? 'card_declined';
    await settle(deps, order.id, row.id, { status: 'failed', pi: err.payment_intent?.id ?? null, captured: 0, deferred },
      `Charging the outstanding ${row.amount} ${order.currency} on the saved card failed (${code}); the customer must pay it`,
      { paymentIntent: err.payment_intent?.id ?? null, amount: row.amount, declineCode: code });
    return done('failed');
  }
  const status = pi.status === 'requires_payment_method' || pi.status === 'requires_action' ? 'failed' : pi.status;
  const outcome = SETTLED[status] ?? 'processing';
  deps.metrics.payment({ operation: 'capture', outcome: outcome === 'charged' ? 'succeeded' : outcome === 'processing' ? 'pending' : 'declined' });
  await settle(deps, order.id, row.id, { status, pi: pi.id, captured: pi.amount_received, deferred },
    outcome === 'failed'
      ? `Charging the outstanding ${row.amount} ${order.currency} on the saved card failed (${pi.status}); the customer must pay it`
      : `Charged the outstanding ${row.amount} ${order.currency} on the saved card (the hold was lost)`,
    { paymentIntent: pi.id, amount: row.amount, status: pi.status });
  return done(outcome);
}

/**
 * Records Stripe's answer on the balance row (only while it still awaits one) with a timeline
 * entry, then, in the same batch, raises or clears `payment_outstanding` from the new balance.
 * With `answer.deferred` the first statement goes there, for a caller's closing batch that syncs the flag.
 */
async function settle(
  deps: Deps,
  orderId: string,
  paymentId: string,
  answer: { status: string; pi: string | null; captured: number; deferred?: SQL[] | undefined },
  note: string,
  evidence: Record<string, unknown>,
): Promise<void> {
  const now = deps.clock.now().toISOString();
  const record = sql`
      WITH moved AS (
        UPDATE payments SET status = ${answer.status}::payment_status, stripe_payment_intent_id = ${answer.pi},
          amount_captured = GREATEST(amount_captured, ${answer.captured}::int), updated_at = ${now}::timestamptz
        WHERE id = ${paymentId}::uuid AND status = 'requires_confirmation'
        RETURNING order_id
      )
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note}, ${JSON.stringify(evidence)}::jsonb FROM moved`;
  if (answer.deferred) answer.deferred.push(record);
  else await deps.database.batch((db) => [db.execute(record), db.execute(syncOutstandingFlag(orderId, now))]);
}
