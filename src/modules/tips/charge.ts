/**
 * Charging a customer's tip off-session on the card saved with the order's hold, as the lost-hold
 * balance is charged (src/modules/payments/collect.ts): a PaymentIntent with `customer`,
 * `payment_method`, `off_session: true`, `confirm: true`; a bank that declines or asks for
 * authentication makes Stripe answer 402 `card_error` (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method).
 *
 * The tip row is written `pending` before the call (./claim.ts) and the Stripe idempotency key is
 * derived from it (`tip-<tip id>`), so a retry after a crash or a timeout sends the same key; a
 * retry first looks the intent up by our metadata (`kind: tip`, `tip_id`), so an answer Stripe
 * gave but we lost is adopted, not charged again. A declined tip is recorded `failed` with its
 * decline code and answered 402; it creates no outstanding balance (a tip is not owed), and the
 * customer may tip again with a new key. The intent's metadata says `kind: tip`: the webhook
 * (src/modules/payments/tip-events.ts) records it on the tip and never on the order's payments.
 */
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeErrorOf } from '../../payments/stripe-errors.js';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { intentByMetadata } from '../payments/attempts.js';
import { savedPaymentMethod } from '../payments/collect.js';
import { providerError, requirePayments } from '../payments/shared.js';
import { tipJson, TipRow } from './claim.js';

/** Stripe's own clock may differ a little from ours: a look-up searches from this long before the tip. */
const LOOKUP_SLACK_MS = 10 * 60_000;

/** The key a tip's PaymentIntent is created with (and the metadata `attempt` that names it). */
export const tipIntentKey = (tipId: string) => `tip-${tipId}`;

/**
 * Charges a `pending` tip. Stripe: the hold is read for its saved card, a retry lists the
 * customer's intents since the tip, then one PaymentIntent is created. Database: one statement
 * records the answer (with a timeline entry). Throws 502 `payment_provider_error` when Stripe
 * did not answer (the tip stays `pending`; a retry with the same key resumes here).
 */
export async function chargeTip(deps: Deps, tip: TipRow, holdIntent: string, resuming: boolean): Promise<TipRow> {
  const stripe = await requirePayments(deps).client();
  const saved = await savedPaymentMethod(deps, holdIntent);
  if (!saved.customer || !saved.paymentMethod) return record(deps, tip, { status: 'failed', pi: null, failureCode: 'no_saved_card' });
  const key = tipIntentKey(tip.id);
  let pi: Stripe.PaymentIntent | undefined;
  try {
    if (resuming) {
      const since = new Date(Date.parse(tip.createdAt) - LOOKUP_SLACK_MS);
      pi = await intentByMetadata(stripe, saved.customer, tip.orderId, 'tip')({ since, keys: [key] });
    }
    pi ??= await stripe.paymentIntents.create(
      {
        amount: tip.amount,
        currency: tip.currency.toLowerCase(),
        customer: saved.customer,
        payment_method: saved.paymentMethod,
        off_session: true,
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        description: 'Tip for the driver',
        metadata: { order_id: tip.orderId, kind: 'tip', tip_id: tip.id, attempt: key },
      },
      { idempotencyKey: key },
    );
  } catch (err) {
    if (!isStripeErrorOf(err, 'StripeCardError')) providerError(err);
    const code = err.code === 'authentication_required' ? 'authentication_required' : (err.decline_code ?? err.code ?? 'card_declined');
    return record(deps, tip, { status: 'failed', pi: err.payment_intent?.id ?? null, failureCode: code });
  }
  if (pi.status === 'succeeded' || pi.status === 'processing') {
    return record(deps, tip, { status: pi.status === 'succeeded' ? 'succeeded' : 'processing', pi: pi.id, failureCode: null });
  }
  const code = pi.status === 'requires_action' ? 'authentication_required' : (pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? 'card_declined');
  return record(deps, tip, { status: 'failed', pi: pi.id, failureCode: code });
}

/** Stripe's answer on the tip (only while it is `pending`: a webhook may have been first) and a timeline entry; the tip as it is after. */
async function record(deps: Deps, tip: TipRow, answer: { status: 'succeeded' | 'processing' | 'failed'; pi: string | null; failureCode: string | null }): Promise<TipRow> {
  const now = deps.clock.now().toISOString();
  const note =
    answer.status === 'failed'
      ? `Tip of ${tip.amount} ${tip.currency} not charged: the saved card failed (${answer.failureCode})`
      : `Tip of ${tip.amount} ${tip.currency} for the driver charged on the saved card`;
  const rows = await deps.database.rows(z.object({ row: TipRow }), sql`
    WITH moved AS (
      UPDATE tips SET status = ${answer.status}, stripe_payment_intent_id = COALESCE(${answer.pi}, stripe_payment_intent_id),
                      failure_code = ${answer.failureCode}, updated_at = ${now}::timestamptz
      WHERE id = ${tip.id}::uuid AND status = 'pending'
      RETURNING *
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, type, note, evidence)
      SELECT order_id, ${now}::timestamptz, 'system', 'payment', ${note},
             jsonb_build_object('tipId', id, 'amount', amount, 'paymentIntent', stripe_payment_intent_id, 'declineCode', failure_code)
      FROM moved
    )
    SELECT ${tipJson} AS row FROM (SELECT * FROM moved UNION ALL SELECT * FROM tips WHERE id = ${tip.id}::uuid AND NOT EXISTS (SELECT 1 FROM moved)) t`);
  return rows[0]?.row ?? tip;
}

/** A failed tip as the API answers it: 402 with Stripe's reason, the same on every replay. */
export function tipFailure(tip: TipRow): ApiError {
  const code = tip.failureCode === 'authentication_required' ? 'authentication_required' : 'card_declined';
  const detail =
    code === 'authentication_required'
      ? 'The bank asks the customer to authenticate this payment, which cannot happen off-session: the tip was not charged.'
      : `The saved card was declined (${tip.failureCode ?? 'card_declined'}): the tip was not charged.`;
  return new ApiError(code, detail, { details: { tipId: tip.id, amount: tip.amount, currency: tip.currency, reason: tip.failureCode } });
}
