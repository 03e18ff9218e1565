import type { Deps } from '../../deps.js';
import type { Logger } from '../../logger.js';
import { getOrder } from '../orders/get.js';
import type { OrderDto, WeighInInput } from '../orders/schemas.js';
import { weighIn } from '../orders/weigh-in.js';
import { captureOrderPayment } from '../payments/capture.js';
import type { StaffActor } from './transition.js';

/**
 * The weigh-in workflow (POST /v1/staff/orders/{id}/weigh-in): record the weights and fix the
 * final price (src/modules/orders/weigh-in.ts: one read and one statement; its 409s and 422s),
 * then, for a card order, capture that price (src/modules/payments/capture.ts).
 *
 * A Stripe failure does not undo the weigh-in: the order stays weighed with the hold intact,
 * the failure is logged on `log`, and POST …/capture (or the payments job) retries: it looks the
 * capture up at Stripe first (src/modules/payments/attempts.ts). A card order is read back after the capture (one more round trip), so
 * the answer shows what the capture did: `overageApprovalRequired`, the payment entries on the
 * timeline. A pay-on-delivery order is answered from the weigh-in's own result.
 */
export async function recordWeighIn(deps: Deps, orderId: string, input: WeighInInput, actor: StaffActor, log: Logger): Promise<OrderDto> {
  const weighed = await weighIn(deps, orderId, input, actor);
  if (weighed.paymentMethod !== 'card') return weighed;
  await captureOrderPayment(deps, orderId).catch((error: unknown) => log.error('capture after weigh-in failed', { error, orderId }));
  // The weigh-in is recorded whatever this read meets: if it fails, answer with what was written.
  const read = await getOrder(deps, orderId).catch((error: unknown) => {
    log.warn('reading the order back after the capture failed', { error, orderId });
    return undefined;
  });
  if (!read) return weighed;
  const { userId: _owner, ...order } = read;
  return order;
}
