import { z } from '@hono/zod-openapi';
import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import { alias, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { runQuery } from '../../db/client.js';
import type { OrderStatus } from '../../domain/order-status.js';
import { orderEvents, orderLines, orders, slots } from '../../db/schema.js';
import type { Db } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { CursorInstant, CursorUuid, decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { OrderDto, OrderSummaryDto, TimelineEntryDto } from './schemas.js';

type OrderRow = typeof orders.$inferSelect;
type LineRow = typeof orderLines.$inferSelect;
type EventRow = typeof orderEvents.$inferSelect;
type SlotRow = typeof slots.$inferSelect;

const iso = (d: Date | string) => new Date(d).toISOString();
const slotRef = (s: Pick<SlotRow, 'id' | 'startsAt' | 'endsAt'>) => ({ id: s.id, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt) });

export function toTimelineEntry(e: Pick<EventRow, 'at' | 'actorRole' | 'actorUserId' | 'type' | 'fromStatus' | 'toStatus' | 'note' | 'evidence'>): TimelineEntryDto {
  return {
    at: iso(e.at),
    actor: { role: e.actorRole, userId: e.actorUserId },
    type: e.type as TimelineEntryDto['type'],
    from: e.fromStatus,
    to: e.toStatus,
    note: e.note,
    evidence: e.evidence ?? null,
  };
}

export function toOrderDto(
  o: OrderRow,
  lines: LineRow[],
  events: EventRow[],
  pickup: Pick<SlotRow, 'id' | 'startsAt' | 'endsAt'>,
  delivery: Pick<SlotRow, 'id' | 'startsAt' | 'endsAt'>,
): OrderDto {
  return {
    id: o.id,
    status: o.status,
    paymentMethod: o.paymentMethod,
    express: o.express,
    notes: o.notes,
    zoneId: o.zoneId,
    address: o.address,
    pickupSlot: slotRef(pickup),
    deliverySlot: slotRef(delivery),
    currency: o.currency,
    estimate: o.estimate,
    final: o.finalBreakdown ?? null,
    bagCount: o.bagCount,
    weighedAt: o.weighedAt ? iso(o.weighedAt) : null,
    overageApprovalRequired: o.overageApprovalRequired && !o.overageApprovedAt,
    flags: o.flags as OrderDto['flags'],
    flaggedReason: o.flaggedReason as OrderDto['flaggedReason'],
    lines: [...lines]
      .sort((a, b) => a.position - b.position)
      .map((l) => ({
        serviceId: l.serviceId,
        serviceName: l.serviceName,
        pricingModel: l.pricingModel,
        unitPrice: l.unitPrice,
        quantity: l.quantity,
        estimatedWeightGrams: l.estimatedWeightGrams,
        finalQuantity: l.finalQuantity,
        finalWeightGrams: l.finalWeightGrams,
        addOns: l.addOns,
        estimatedTotal: l.estimatedTotal,
        finalTotal: l.finalTotal,
      })),
    timeline: [...events].sort((a, b) => a.id - b.id).map(toTimelineEntry),
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
  };
}

/** The query behind findOrder, on any handle (the database, or a batch being built). */
export function orderQuery(db: Db, orderId: string, userId?: string) {
  return db.query.orders.findFirst({
    where: userId ? and(eq(orders.id, orderId), eq(orders.userId, userId)) : eq(orders.id, orderId),
    with: {
      lines: true,
      events: { orderBy: [asc(orderEvents.id)] },
      pickupSlot: { columns: { id: true, startsAt: true, endsAt: true } },
      deliverySlot: { columns: { id: true, startsAt: true, endsAt: true } },
    },
  });
}

/** orderQuery's row as the API shows it (plus the owner, for the caller to drop). */
export function orderDtoOf(row: Awaited<ReturnType<typeof orderQuery>>): (OrderDto & { userId: string }) | undefined {
  if (!row) return undefined;
  return { ...toOrderDto(row, row.lines, row.events, row.pickupSlot, row.deliverySlot), userId: row.userId };
}

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

/** Keyset cursor over (created_at DESC, id DESC): stable while new orders arrive. */
const OrderCursor = z.tuple([CursorInstant, CursorUuid]);

export function encodeOrderCursor(createdAt: string, id: string): string {
  return encodeCursor([createdAt, id]);
}

export function decodeOrderCursor(cursor: string): { createdAt: string; id: string } {
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

/** The list view of an order, shared by the customer list and the staff queue. */
export function toOrderSummary(
  o: Pick<OrderRow, 'id' | 'status' | 'paymentMethod' | 'currency' | 'estimatedTotal' | 'finalTotal' | 'createdAt'>,
  pickup: Pick<SlotRow, 'id' | 'startsAt' | 'endsAt'>,
  delivery: Pick<SlotRow, 'id' | 'startsAt' | 'endsAt'>,
): OrderSummaryDto {
  return {
    id: o.id,
    status: o.status,
    paymentMethod: o.paymentMethod,
    currency: o.currency,
    estimatedTotal: o.estimatedTotal,
    finalTotal: o.finalTotal,
    pickupSlot: slotRef(pickup),
    deliverySlot: slotRef(delivery),
    createdAt: iso(o.createdAt),
  };
}

/** An instant as ISO UTC text at the database's microsecond precision, for a cursor. */
export const utcMicros = (column: SQL | AnyPgColumn) =>
  sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const pickupSlot = alias(slots, 'pickup_slot');
export const deliverySlot = alias(slots, 'delivery_slot');

/**
 * The columns a summary shows (toOrderSummary), joined to both slots as pickupSlot and
 * deliverySlot: the order's JSON documents (estimate, address, pricing rules) stay in the
 * database instead of being sent and parsed for every row of a page.
 */
export const summaryColumns = {
  order: {
    id: orders.id,
    status: orders.status,
    paymentMethod: orders.paymentMethod,
    currency: orders.currency,
    estimatedTotal: orders.estimatedTotal,
    finalTotal: orders.finalTotal,
    createdAt: orders.createdAt,
  },
  pickup: { id: pickupSlot.id, startsAt: pickupSlot.startsAt, endsAt: pickupSlot.endsAt },
  delivery: { id: deliverySlot.id, startsAt: deliverySlot.startsAt, endsAt: deliverySlot.endsAt },
};

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
