import type { Deps } from '../../deps.js';
import type { Logger } from '../../logger.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import type { OrderDto, WeighInInput } from '../orders/schemas.js';
import { orderDtoOf, orderQuery } from '../orders/shared.js';
import { weighInWith } from '../orders/weigh-in.js';
import type { SQL } from 'drizzle-orm';
import { batchThen, parseRows } from '../../db/client.js';
import { PriorAttempt } from '../payments/attempts.js';
import { captureAttemptSql, captureOrderPayment } from '../payments/capture.js';
import { paymentStateOf, paymentStateQueries, type PaymentOrderRow, type PaymentRow } from '../payments/shared.js';
import type { StaffActor } from './transition.js';

/**
 * The weigh-in workflow (POST /v1/staff/orders/{id}/weigh-in): record the weights and fix the
 * final price (src/modules/orders/weigh-in.ts: one read and one statement; its 409s and 422s),
 * then, for a card order, capture that price (src/modules/payments/capture.ts).
 *
 * A Stripe failure does not undo the weigh-in: the order stays weighed, the failure is logged
 * on `log`, and POST …/capture (or the payments job) retries: it looks the capture up at Stripe
 * first (src/modules/payments/attempts.ts). A hold Stripe cancelled or let expire is collected
 * off-session (src/modules/payments/collect.ts). Database round trips for a card order: the
 * weigh-in's read; its write batch, which also reads the payment rows and records the capture
 * attempt; after Stripe, ONE batch that records Stripe's answers (capture, overage row or the
 * approval flag), brings `payment_outstanding` in line with the balance
 * (src/modules/orders/balance.ts) and reads the order back: the answer shows `balance`, the
 * flag, `overageApprovalRequired` and the payment entries on the timeline. A
 * pay-on-delivery order is answered from the weigh-in's own result.
 */
export async function recordWeighIn(deps: Deps, orderId: string, input: WeighInInput, actor: StaffActor, log: Logger): Promise<OrderDto> {
  const now = deps.clock.now();
  // In the weigh-in's write batch, after the write: the payment state and, for a weighed order
  // whose hold awaits capture, the capture's attempt recorded before it is sent (./attempts.ts).
  const { order: weighed, also } = await weighInWith(deps, orderId, input, actor, (db) => [
    ...paymentStateQueries(db, orderId),
    db.execute(captureAttemptSql(orderId, now)),
  ]);
  if (weighed.paymentMethod !== 'card') return weighed;
  const [orderRows, paymentRows, waiverRows, prior] = also as [PaymentOrderRow[], PaymentRow[], Array<{ amount: number }>, unknown];
  const deferred: SQL[] = [];
  await captureOrderPayment(deps, orderId, { state: paymentStateOf(orderRows, paymentRows, waiverRows), capturePrior: parseRows(PriorAttempt, prior)[0], deferred }).catch((error: unknown) =>
    log.error('capture after weigh-in failed', { error, orderId }),
  );
  // Stripe's answers, the flag and the read-back: one batch. The weigh-in is recorded whatever
  // this batch meets: if it fails, the payments job's sweep raises the flag on its next run and
  // the webhook records the capture; answer with what was written.
  const at = deps.clock.now().toISOString();
  const read = await batchThen(deps.database, [...deferred, syncOutstandingFlag(orderId, at)], (db) => orderQuery(db, orderId))
    .then(orderDtoOf)
    .catch((error: unknown) => {
      log.warn('recording the capture, flagging or reading the order back failed', { error, orderId });
      return undefined;
    });
  if (!read) return weighed;
  const { userId: _owner, ...order } = read;
  return order;
}
