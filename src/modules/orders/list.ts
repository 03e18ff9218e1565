import { z } from '@hono/zod-openapi';
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { orders } from '../../db/schema.js';
import type { OrderStatus } from '../../domain/order-status.js';
import type { Deps } from '../../deps.js';
import { CursorInstant, CursorUuid, decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { OrderSummaryDto } from './schemas.js';
import { deliverySlot, pickupSlot, summaryColumns, toOrderSummary, utcMicros } from './shared.js';

/** Keyset cursor over (created_at DESC, id DESC): stable while new orders arrive. */
const OrderCursor = z.tuple([CursorInstant, CursorUuid]);

function encodeOrderCursor(createdAt: string, id: string): string {
  return encodeCursor([createdAt, id]);
}

function decodeOrderCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = decodeCursor(cursor, OrderCursor);
  return { createdAt, id };
}

export interface ListFilter {
  userId?: string;
  status?: OrderStatus;
  extra?: SQL[];
  limit: number;
  cursor?: string;
}

/** One statement, newest first; fetches one extra row to know whether a next page exists. */
export async function listOrders(deps: Deps, f: ListFilter): Promise<{ data: OrderSummaryDto[]; nextCursor: string | null }> {
  const where: SQL[] = [...(f.extra ?? [])];
  if (f.userId) where.push(eq(orders.userId, f.userId));
  if (f.status) where.push(eq(orders.status, f.status));
  if (f.cursor) {
    const c = decodeOrderCursor(f.cursor);
    where.push(sql`(${orders.createdAt}, ${orders.id}) < (${c.createdAt}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await runQuery(deps.database, (db) => db
    .select({ ...summaryColumns, sortAt: utcMicros(orders.createdAt) })
    .from(orders)
    .innerJoin(pickupSlot, eq(pickupSlot.id, orders.pickupSlotId))
    .innerJoin(deliverySlot, eq(deliverySlot.id, orders.deliverySlotId))
    .where(and(...where))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(f.limit + 1));
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    data: page.map(({ order, pickup, delivery }) => toOrderSummary(order, pickup, delivery)),
    nextCursor: rows.length > f.limit && last ? encodeOrderCursor(last.sortAt, last.order.id) : null,
  };
}
