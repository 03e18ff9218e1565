import type { Deps } from '../../deps.js';
import type { Logger } from '../../logger.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import type { OrderDto, WeighInInput } from '../orders/schemas.js';
import { orderDtoOf, orderQuery } from '../orders/shared.js';
import { weighIn } from '../orders/weigh-in.js';
import { captureOrderPayment } from '../payments/capture.js';
import type { StaffActor } from './transition.js';

/**
 * The weigh-in workflow (POST /v1/staff/orders/{id}/weigh-in): record the weights and fix the
 * final price (src/modules/orders/weigh-in.ts: one read and one statement; its 409s and 422s),
 * then, for a card order, capture that price (src/modules/payments/capture.ts).
 *
 * A Stripe failure does not undo the weigh-in: the order stays weighed, the failure is logged
 * on `log`, and POST …/capture (or the payments job) retries: it looks the capture up at Stripe
 * first (src/modules/payments/attempts.ts). A hold Stripe cancelled or let expire is collected
 * off-session (src/modules/payments/collect.ts). Whatever the capture did, or failed to do, one
 * batch then brings the `payment_outstanding` flag in line with the order's balance
 * (src/modules/orders/balance.ts) and reads the order back: the answer shows
 * `balance`, the flag, `overageApprovalRequired` and the payment entries on the timeline. A
 * pay-on-delivery order is answered from the weigh-in's own result.
 */
export async function recordWeighIn(deps: Deps, orderId: string, input: WeighInInput, actor: StaffActor, log: Logger): Promise<OrderDto> {
  const weighed = await weighIn(deps, orderId, input, actor);
  if (weighed.paymentMethod !== 'card') return weighed;
  await captureOrderPayment(deps, orderId).catch((error: unknown) => log.error('capture after weigh-in failed', { error, orderId }));
  // The weigh-in is recorded whatever this batch meets: if it fails, the payments job's sweep
  // raises the flag on its next run; answer with what was written.
  const read = await deps.database
    .batch((db) => [db.execute(syncOutstandingFlag(orderId, deps.clock.now().toISOString())), orderQuery(db, orderId)] as const)
    .then(([, row]) => orderDtoOf(row))
    .catch((error: unknown) => {
      log.warn('flagging or reading the order back after the capture failed', { error, orderId });
      return undefined;
    });
  if (!read) return weighed;
  const { userId: _owner, ...order } = read;
  return order;
}
