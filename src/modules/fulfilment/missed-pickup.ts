import type { TransitionEvidence } from '../../domain/order-status.js';
import type { Deps } from '../../deps.js';
import type { Logger } from '../../logger.js';
import type { OrderDto } from '../orders/schemas.js';
import type { StaffActor } from '../orders/shared.js';
import { changeOrderStatus } from '../orders/transition.js';
import { captureOrderPayment } from '../payments/capture.js';
import { releaseHold } from '../payments/settle-cancelled.js';

/**
 * Staff mark a pickup missed (POST /v1/staff/orders/{id}/transitions with `to: pickup_missed`
 * and a `reason`): the driver came and could not collect. `pickup_missed` is terminal.
 *
 * 1. ONE statement (src/modules/orders/transition.ts) moves a `confirmed` order to
 *    `pickup_missed`, gives back the capacity of both its slots, sets what the order owes to
 *    its zone's `missed_pickup_fee` (minor units, as the order's final total: `balance.due`),
 *    and writes the timeline entry (`evidence: { reason, fee, amount }`, the note), which
 *    queues the customer's `pickup_missed` notification (the outbox trigger of migration 0014).
 * 2. A card order's hold is released, as a cancellation releases it
 *    (src/modules/payments/settle-cancelled.ts), so the estimate is never taken; then, if the
 *    fee is not 0, it is collected as an outstanding balance on the card saved with the hold,
 *    off-session, once (src/modules/payments/collect.ts, through the capture path's lost-hold
 *    branch). A decline or an authentication request flags the order `payment_outstanding`
 *    and tells the customer, who pays it with the PaymentSheet (POST /v1/orders/{id}/payment-sheet);
 *    a Stripe failure is logged and left to the payments job, which collects lost holds' balances.
 *    A pay-on-delivery order keeps the fee as its outstanding balance.
 *
 * Returns the order as step 1 left it (its `balance.outstanding` is the fee until collected).
 * Round trips: 1, plus for a card order the release's (2) and, with a fee, the collection's (3).
 */
export async function markPickupMissed(
  deps: Deps,
  cmd: { orderId: string; actor: StaffActor; evidence: TransitionEvidence },
  log: Logger,
): Promise<OrderDto & { userId: string }> {
  const order = await changeOrderStatus(deps, { ...cmd, to: 'pickup_missed' });
  if (order.paymentMethod === 'card' && deps.payments) {
    await chargeFee(deps, order).catch((error: unknown) =>
      log.error('settling the payment of a missed pickup failed', { error, orderId: order.id }),
    );
  }
  return order;
}

async function chargeFee(deps: Deps, order: OrderDto): Promise<void> {
  await releaseHold(deps, order.id);
  if (order.balance.outstanding > 0) await captureOrderPayment(deps, order.id);
}
