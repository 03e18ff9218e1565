import { customerCanCancel, type TransitionEvidence } from '../../domain/order-status.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { OrderDto } from '../orders/schemas.js';
import { changeOrderStatus } from '../orders/transition.js';
import { settleCancelledOrder } from '../payments/settle-cancelled.js';

export interface CancelCommand {
  orderId: string;
  /** Who cancels. A customer may cancel only their own order (anyone else's reads as 404), and only before pickup. */
  actor: { role: 'customer' | 'staff' | 'admin'; userId: string };
  /** Shown on the timeline: the customer's reason or the staff note. */
  note?: string | undefined;
  /** Staff evidence recorded with the move (bag count is refused on a cancellation by the state machine). */
  evidence?: TransitionEvidence;
}

/**
 * Cancels an order, then settles its card payment: the one place both the customer's cancel
 * and a staff cancellation go through.
 *
 * 1. ONE statement (src/modules/orders/transition.ts) moves the order to `cancelled`, gives
 *    back the slot capacity it has not used and writes the timeline entry. A customer may only
 *    cancel while `pending_payment` or `confirmed` (409 `order_not_cancellable` with
 *    `details.status`); staff may cancel any order not yet delivered (the state machine's 409s).
 * 2. A card order's hold is released, or what was captured refunded (src/modules/payments/
 *    settle-cancelled.ts). The order is cancelled whatever Stripe answers: a failure is logged
 *    on `log`, a hold Stripe did not release expires on its own and the payments job reports it.
 *
 * Returns the order as it is after step 1, with its owner.
 */
export async function cancelOrder(deps: Deps, cmd: CancelCommand, log: Logger): Promise<OrderDto & { userId: string }> {
  const customer = cmd.actor.role === 'customer';
  const evidence: TransitionEvidence = { ...cmd.evidence };
  if (cmd.note !== undefined) evidence.note = cmd.note;
  const order = await changeOrderStatus(deps, {
    orderId: cmd.orderId,
    ...(customer ? { ownerId: cmd.actor.userId } : {}),
    to: 'cancelled',
    actor: cmd.actor,
    evidence,
    refuse: (current) => {
      if (customer && !customerCanCancel(current.status)) {
        throw new ApiError(
          'order_not_cancellable',
          `An order that is ${current.status} can no longer be cancelled from the app; contact the shop.`,
          { details: { status: current.status } },
        );
      }
    },
  });
  if (order.paymentMethod === 'card') {
    await settleCancelledOrder(deps, order.id, cmd.actor.userId).catch((error: unknown) =>
      log.error('settling the payment of a cancelled order failed', { error, orderId: order.id }),
    );
  }
  return order;
}
