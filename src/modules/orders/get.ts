import { runQuery } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { OrderDto } from './schemas.js';
import { orderDtoOf, orderQuery } from './shared.js';

/**
 * One statement: the order with its lines, timeline and slot windows. With `userId`, only
 * that customer's order is visible; anyone else's id reads exactly like a missing one.
 */
export async function findOrder(deps: Deps, orderId: string, userId?: string): Promise<(OrderDto & { userId: string }) | undefined> {
  return orderDtoOf(await runQuery(deps.database, (db) => orderQuery(db, orderId, userId)));
}

export async function getOrder(deps: Deps, orderId: string, userId?: string): Promise<OrderDto & { userId: string }> {
  const order = await findOrder(deps, orderId, userId);
  if (!order) throw new ApiError('not_found', 'No such order.');
  return order;
}

