import type { OrderStatus, TransitionEvidence } from '../../domain/order-status.js';
import type { Deps } from '../../deps.js';
import type { Logger } from '../../logger.js';
import type { OrderDto } from '../orders/schemas.js';
import type { StaffActor } from '../orders/shared.js';
import { changeOrderStatus } from '../orders/transition.js';
import { cancelOrder } from './cancel.js';
import { markPickupMissed } from './missed-pickup.js';

export type { StaffActor };

/**
 * Staff move an order to its next state (POST /v1/staff/orders/{id}/transitions). Every move
 * is one statement (src/modules/orders/transition.ts: the state machine's 409s and 422s, nothing
 * written on error); a move to `cancelled` is the cancel workflow (./cancel.ts), which also
 * releases or refunds the card payment, and one to `pickup_missed` is the missed-pickup workflow
 * (./missed-pickup.ts), which releases the hold and charges the zone's fee. Returns the order in its new state, with its owner.
 */
export async function transitionOrder(
  deps: Deps,
  cmd: { orderId: string; to: OrderStatus; actor: StaffActor; evidence: TransitionEvidence },
  log: Logger,
): Promise<OrderDto & { userId: string }> {
  if (cmd.to === 'cancelled') return cancelOrder(deps, { orderId: cmd.orderId, actor: cmd.actor, evidence: cmd.evidence }, log);
  if (cmd.to === 'pickup_missed') return markPickupMissed(deps, { orderId: cmd.orderId, actor: cmd.actor, evidence: cmd.evidence }, log);
  return changeOrderStatus(deps, cmd);
}
