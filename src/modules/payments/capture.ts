import { AnyRow, parseRows, rowsOf } from '../../db/client.js';
import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeErrorOf } from '../../payments/stripe-errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { isBelowMinimum, minimumCharge } from '../../domain/currency.js';
import { recordPaymentFailure } from '../../metrics/index.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { raiseFlag } from '../orders/shared.js';
import { intentByMetadata, intentWhen, PriorAttempt, priorAttemptSql, sendOnce } from './attempts.js';
import { collectLostHold, holdLost, savedPaymentMethod, type BalanceCollection } from './collect.js';
import { releaseHold } from './settle-cancelled.js';
import { paymentStateOf, paymentStateQueries, providerError, recordIntent, recordIntentSql, requirePayments, type PaymentOrderRow, type PaymentRow, type PaymentState } from './shared.js';

/** `waived`: below Stripe's minimum charge, so not collected; recorded on the order's timeline. */
export type OverageOutcome = 'none' | 'charged' | 'awaiting_approval' | 'failed' | 'waived';

export type CaptureOutcome =
  | { kind: 'not_card' }
  | { kind: 'captured'; captured: number; overage: OverageOutcome }
  | { kind: 'already_captured'; captured: number; overage: OverageOutcome }
  | BalanceCollection;

function notCapturable(status: string): ApiError {
  return new ApiError('capture_not_possible', `The card hold is ${status}; nothing can be captured.`, { details: { paymentStatus: status } });
}

/**
 * Captures the weighed price. At most the hold is captured (Stripe refuses more, and the
 * rest is released); the remainder becomes an off-session overage charge, or waits for the
 * customer's approval above the threshold. Every Stripe call is a recorded attempt
 * (./attempts.ts): a retry after a 500, a timeout or a crash looks the capture up at Stripe
 * first, then captures with a new attempt key, so it captures once. Safe to call again at any time:
 * a captured hold is not captured twice, and an overage left over by an earlier failure is
 * charged then. A lost hold (released or cancelled by Stripe, or refused) is not the end:
 * the outstanding balance is charged off-session on the saved card (./collect.ts).
 */
export async function captureOrderPayment(deps: Deps, orderId: string, opts: CaptureOptions = {}): Promise<CaptureOutcome> {
  const stripe = await requirePayments(deps).client();
  const read = opts.state ? { state: opts.state, prior: opts.capturePrior } : await readForCapture(deps, orderId);
  const { order, hold, overage, covered } = read.state;
  const deferred = opts.deferred;
  if (order.paymentMethod !== 'card' || !hold?.stripePaymentIntentId) return { kind: 'not_card' };
  if (order.finalTotal === null) throw new ApiError('capture_not_possible', 'Weigh the order first: the final price is not known yet.');
  if (hold.status === 'succeeded') {
    const settled = await settleOverage(deps, order, hold, hold.amountCaptured, overage, Boolean(order.overageApprovedAt), covered, deferred);
    return { kind: 'already_captured', captured: hold.amountCaptured, overage: settled };
  }
  if (hold.status !== 'requires_capture') {
    if (holdLost(order, hold.status)) return collectLostHold(deps, order, hold, deferred);
    throw notCapturable(hold.status);
  }
  // Never more than Stripe authorised (a partial authorisation holds less than we asked for).
  const authorised = hold.amountCapturable > 0 ? Math.min(hold.amountCapturable, hold.amount) : hold.amount;
  // Never what an admin waived (or the customer paid another way) while the capture was failing.
  const toCapture = Math.min(order.finalTotal - covered, authorised);
  if (toCapture <= 0) {
    // Nothing left to take from the hold: release it rather than capture waived money.
    await releaseHold(deps, order.id);
    return { kind: 'captured', captured: 0, overage: 'none' };
  }
  let pi: Stripe.PaymentIntent;
  try {
    const intentId = hold.stripePaymentIntentId;
    const capture = { orderId: order.id, operation: 'capture', subject: hold.id, lookup: intentWhen(stripe, intentId, (pi) => pi.status !== 'requires_capture') } as const;
    pi = (await sendOnce(deps, capture, (idempotencyKey) => stripe.paymentIntents.capture(intentId, { amount_to_capture: toCapture }, { idempotencyKey }), read.prior)).result;
  } catch (err) {
    recordPaymentFailure(deps.metrics, 'capture', err);
    // Not capturable any more: captured by an earlier attempt whose answer we lost, or
    // released (expired, cancelled). Take Stripe's word for which.
    if (!(isStripeErrorOf(err, 'StripeInvalidRequestError') && err.code === 'payment_intent_unexpected_state')) providerError(err);
    pi = await stripe.paymentIntents.retrieve(hold.stripePaymentIntentId).catch(providerError);
  }
  if (pi.status !== 'succeeded') {
    deps.metrics.payment({ operation: 'capture', outcome: 'declined' });
    await recordIntent(deps, hold, pi, `Capture refused: the card hold is ${pi.status}`);
    if (holdLost(order, pi.status === 'requires_payment_method' ? 'failed' : pi.status)) return collectLostHold(deps, order, hold, deferred);
    throw notCapturable(pi.status);
  }
  const capturedNote = `Captured ${pi.amount_received} of the ${hold.amount} hold`;
  // Deferred: the caller's closing batch syncs payment_outstanding; at once, recordIntent clears it.
  if (deferred) deferred.push(recordIntentSql(deps, hold, pi, capturedNote));
  else await recordIntent(deps, hold, pi, capturedNote);
  deps.metrics.payment({ operation: 'capture', outcome: 'succeeded' });
  const settled = await settleOverage(deps, order, hold, pi.amount_received, overage, Boolean(order.overageApprovedAt), covered, deferred);
  return { kind: 'captured', captured: pi.amount_received, overage: settled };
}

/**
 * The part of the weighed price the hold did not cover: nothing, already charged (or
 * declined, or waived), waived now because Stripe could not charge so little, waiting for
 * the customer's approval, or charged now off-session.
 */
export async function settleOverage(
  deps: Deps,
  order: PaymentOrderRow,
  hold: PaymentRow,
  captured: number,
  existing: PaymentRow | undefined,
  approved: boolean,
  /** Waived by an admin, or paid (or being paid) as a balance payment: not charged again. */
  covered = 0,
  deferred?: SQL[],
  overagePrior?: PriorAttempt,
): Promise<OverageOutcome> {
  const due = (order.finalTotal ?? 0) - captured - covered;
  if (due <= 0) return 'none';
  if (existing) return existing.status === 'failed' ? 'failed' : existing.status === 'waived' ? 'waived' : 'charged';
  // Before the approval step: an amount Stripe refuses is never worth asking the customer about.
  if (isBelowMinimum(order.currency, due)) return waiveOverage(deps, order.id, due, order.currency);
  if (due > deps.config.overageApprovalThreshold && !approved) {
    const now = deps.clock.now().toISOString();
    await writeOrDefer(deps, deferred, sql`
      WITH flagged AS (
        UPDATE orders SET overage_approval_required = true, updated_at = ${now}::timestamptz
        WHERE id = ${order.id}::uuid AND NOT overage_approval_required RETURNING id
      )
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence, notify)
      SELECT id, ${now}::timestamptz, 'system', 'payment',
             ${`The weighed price is ${due} above the hold; waiting for the customer's approval`},
             ${JSON.stringify({ overage: due, finalTotal: order.finalTotal, hold: hold.amount, captured })}::jsonb,
             'payment_action_required'
      FROM flagged`);
    return 'awaiting_approval';
  }
  return chargeOverage(deps, order.id, due, hold.stripePaymentIntentId!, order.currency, deferred, overagePrior);
}

/** Charges the difference off-session on the card saved with the hold. */
async function chargeOverage(
  deps: Deps,
  orderId: string,
  amount: number,
  holdIntentId: string,
  currency: string,
  deferred?: SQL[],
  known?: PriorAttempt,
): Promise<OverageOutcome> {
  const stripe = await requirePayments(deps).client();
  const { paymentMethod, customer } = await savedPaymentMethod(deps, holdIntentId);
  const paymentId = crypto.randomUUID();
  const overage = { orderId, operation: 'overage', subject: orderId, lookup: intentByMetadata(stripe, customer, orderId, 'overage') } as const;
  let pi: Stripe.PaymentIntent;
  try {
    ({ result: pi } = await sendOnce(deps, overage, (idempotencyKey) => stripe.paymentIntents.create(
      {
        amount,
        currency: currency.toLowerCase(),
        ...(customer ? { customer } : {}),
        ...(paymentMethod ? { payment_method: paymentMethod } : {}),
        off_session: true,
        confirm: true,
        // Off-session there is nobody to follow a redirect; card-like methods only.
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        metadata: { order_id: orderId, kind: 'overage', attempt: idempotencyKey },
      },
      { idempotencyKey },
    ), known));
  } catch (err) {
    // A currency with no documented minimum: Stripe converts to the settlement currency and decides.
    if (isStripeErrorOf(err, 'StripeInvalidRequestError') && err.code === 'amount_too_small') {
      return waiveOverage(deps, orderId, amount, currency);
    }
    recordPaymentFailure(deps.metrics, 'capture', err);
    if (!isStripeErrorOf(err, 'StripeCardError')) providerError(err);
    const failed = err.payment_intent;
    await insertOverage(deps, { orderId, paymentId, intentId: failed?.id ?? null, status: 'failed', amount, captured: 0, currency, note: `Overage of ${amount} declined: ${err.message}` }, deferred);
    return 'failed';
  }
  const status = pi.status === 'requires_payment_method' ? 'failed' : pi.status;
  await insertOverage(deps, { orderId, paymentId, intentId: pi.id, status, amount, captured: pi.amount_received, currency, note: `Charged the overage of ${amount}` }, deferred);
  deps.metrics.payment({ operation: 'capture', outcome: pi.status === 'succeeded' ? 'succeeded' : pi.status === 'processing' ? 'pending' : 'declined' });
  return pi.status === 'succeeded' || pi.status === 'processing' ? 'charged' : 'failed';
}

/**
 * An overage Stripe would refuse as `amount_too_small` (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts):
 * charging it can never succeed, and retrying it would answer 502 forever. It is waived and
 * recorded in one statement: an `overage` row with status `waived` (no PaymentIntent; the
 * unique (order, kind) index makes it once-only, and later captures read it back) and a
 * timeline entry saying what was waived and why. Not flagged: nothing is left for staff to do.
 */
async function waiveOverage(deps: Deps, orderId: string, amount: number, currency: string): Promise<'waived'> {
  const minimum = minimumCharge(currency);
  const why = minimum === null ? `Stripe's minimum charge in ${currency}` : `Stripe's minimum charge of ${minimum} ${currency}`;
  const note = `Overage of ${amount} ${currency} waived: below ${why}`;
  const evidence = { waived: amount, minimumCharge: minimum, reason: 'below_minimum_charge' };
  // Counted once: a concurrent capture that lost the insert waived nothing new.
  if (await insertOverage(deps, { orderId, paymentId: crypto.randomUUID(), intentId: null, status: 'waived', amount, captured: 0, currency, note, evidence })) {
    deps.metrics.payment({ operation: 'capture', outcome: 'waived' });
  }
  return 'waived';
}

/**
 * For a caller's batch: the capture attempt of the order's hold, recorded (./attempts.ts) when the
 * order is a weighed card order whose hold awaits capture, i.e. when a capture is sent next.
 */
export function captureAttemptSql(orderId: string, now: Date): SQL {
  const awaitingCapture = sql`SELECT id::text FROM payments WHERE order_id = ${orderId}::uuid AND kind = 'hold' AND status = 'requires_capture'
                              AND EXISTS (SELECT 1 FROM orders WHERE id = ${orderId}::uuid AND payment_method = 'card' AND final_total IS NOT NULL)`;
  return priorAttemptSql(orderId, 'capture', awaitingCapture, now);
}

/** The payment state and the capture's attempt: one batch. */
async function readForCapture(deps: Deps, orderId: string): Promise<{ state: PaymentState; prior: PriorAttempt | undefined }> {
  const [orderRows, paymentRows, waiverRows, prior] = await deps.database.batch((db) => [
    ...paymentStateQueries(db, orderId),
    db.execute(captureAttemptSql(orderId, deps.clock.now())),
  ]);
  return { state: paymentStateOf(orderRows, paymentRows, waiverRows), prior: parseRows(PriorAttempt, prior)[0] };
}

export interface CaptureOptions {
  /** The payment state, read in the caller's own batch (the weigh-in's write). */
  state?: PaymentState;
  /** The capture's attempt row (`priorAttemptSql` for `capture` of the hold), from the same batch. */
  capturePrior?: PriorAttempt;
  /**
   * Where the statements recording Stripe's answers go when the caller sends them, with its
   * `payment_outstanding` sync and read-back, in one closing batch; without it each runs at once.
   */
  deferred?: SQL[];
}

async function writeOrDefer(deps: Deps, deferred: SQL[] | undefined, statement: SQL): Promise<void> {
  if (deferred) deferred.push(statement);
  else await deps.database.rows(AnyRow, statement);
}

interface OverageRow {
  orderId: string;
  paymentId: string;
  intentId: string | null;
  status: string;
  amount: number;
  captured: number;
  currency: string;
  note: string;
  evidence?: Record<string, unknown>;
}

/**
 * The overage row and its timeline entry; a declined overage also flags the order for staff,
 * and (the batch's second statement) `payment_outstanding` follows the new balance: the
 * customer can then pay it with the PaymentSheet. False when an overage row already existed
 * (a concurrent attempt wrote it): nothing written. With `deferred`, the first statement is
 * left there for the caller's closing batch (which syncs the flag itself), and the answer is true.
 */
async function insertOverage(deps: Deps, row: OverageRow, deferred?: SQL[]): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  const { orderId, paymentId, intentId, status, amount, captured, currency, note } = row;
  const evidence = row.evidence ?? { paymentIntent: intentId, amount };
  const insert = sql`
    WITH ins AS (
      INSERT INTO payments (id, order_id, kind, method, status, stripe_payment_intent_id, currency, amount, amount_captured, created_at, updated_at)
      VALUES (${paymentId}::uuid, ${orderId}::uuid, 'overage', 'card', ${status}::payment_status, ${intentId}, ${currency},
              ${amount}::int, ${captured}::int, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING order_id
    ),
    flag AS (
      UPDATE orders SET ${raiseFlag('overage_failed')}, updated_at = ${now}::timestamptz
      WHERE id IN (SELECT order_id FROM ins) AND ${status} = 'failed'
    )
    INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
    SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note}, ${JSON.stringify(evidence)}::jsonb
    FROM ins
    RETURNING order_id`;
  if (deferred) {
    deferred.push(insert);
    return true;
  }
  const [written] = await deps.database.batch((db) => [db.execute(insert), db.execute(syncOutstandingFlag(orderId, now))]);
  return rowsOf(written).length > 0;
}
