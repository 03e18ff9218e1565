/**
 * Adding a tip to a delivered order: the customer's, charged on the saved card
 * (POST /v1/orders/{id}/tip), and the staff member's record of a cash tip on a pay-on-delivery
 * order (POST /v1/staff/orders/{id}/tip). The amount rules are src/domain/tip.ts; the one-tip
 * rule and the key's claim ./claim.ts; the charge ./charge.ts.
 */
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { requirePayments } from '../payments/shared.js';
import { chargeTip, tipFailure } from './charge.js';
import { claimTip, readForTip, type TipCommand, type TipRow } from './claim.js';

/** A pending tip younger than this is being charged by another request with its key: answer 409, not a second call. */
const IN_FLIGHT_MS = 30_000;

export interface TipOutcome {
  tip: TipRow;
  /** False for a replay of an earlier call with this key. */
  fresh: boolean;
}

/**
 * The customer's tip. Round trips: 2 to read and claim, then Stripe (the hold's saved card, the
 * PaymentIntent), then 1 to record the answer: 3. A replay with the same key: 1 (the tip as it
 * is), or it resumes a charge left `pending` by a crash or a timeout (Stripe looked up first).
 * A failed charge is thrown as 402 `card_declined` / `authentication_required`, the same on
 * every replay.
 */
export async function addTip(deps: Deps, cmd: Omit<TipCommand, 'method' | 'ownOrder'>): Promise<TipOutcome> {
  requirePayments(deps);
  const full: TipCommand = { ...cmd, method: 'card', ownOrder: true };
  const ctx = await readForTip(deps, full);
  const claimed = ctx.replay ? { tip: ctx.replay, fresh: false } : await claimTip(deps, full, ctx);
  let tip = claimed.tip;
  if (claimed.fresh) tip = await chargeTip(deps, tip, ctx.holdIntent!, false);
  else if (tip.status === 'pending') {
    // Another request with this key is charging it, or one did and never recorded Stripe's answer.
    if (deps.clock.now().getTime() - Date.parse(tip.createdAt) < IN_FLIGHT_MS) {
      throw new ApiError('payment_in_progress', 'This tip is being charged by an earlier request with this key; retry shortly.', { details: { tipId: tip.id }, retryAfterSeconds: 5 });
    }
    tip = await chargeTip(deps, tip, ctx.holdIntent!, true);
  }
  if (tip.status === 'failed') throw tipFailure(tip);
  return { tip, fresh: claimed.fresh };
}

/** A cash tip the driver received at the door, recorded by staff. Round trips: 2 (read, then one statement); a replay 1. */
export async function recordCashTip(deps: Deps, cmd: Omit<TipCommand, 'method' | 'ownOrder'>): Promise<TipOutcome> {
  const full: TipCommand = { ...cmd, method: 'cash', ownOrder: false };
  const ctx = await readForTip(deps, full);
  if (ctx.replay) return { tip: ctx.replay, fresh: false };
  return claimTip(deps, full, ctx);
}
