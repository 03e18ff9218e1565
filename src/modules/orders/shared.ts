/**
 * What the orders module's operations share, and what the modules above it (payments,
 * fulfilment) use of it: the order as the API shows it (row → DTO), the one query that reads
 * an order whole, the list columns, and the order flags.
 */
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { alias, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { orderBalance, type BalancePayment, type OrderBalance } from '../../domain/balance.js';
import type { MissedPickupReason, OrderFlag } from '../../domain/order-status.js';
import { creditEntries, orderEvents, orderLines, orders, slots } from '../../db/schema.js';
import type { Db } from '../../db/client.js';
import { isoOf as iso } from '../../db/timestamps.js';
import type { OrderDto, OrderSummaryDto, TimelineEntryDto } from './schemas.js';

type OrderRow = typeof orders.$inferSelect;
type LineRow = typeof orderLines.$inferSelect;
type EventRow = typeof orderEvents.$inferSelect;
type SlotRow = typeof slots.$inferSelect;

const slotRef = (s: SlotWindow) => ({ id: s.id, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt) });

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

type SlotWindow = Pick<SlotRow, 'id' | 'startsAt' | 'endsAt'>;

/** An order row with what orderQuery reads along with it. */
export type OrderWithRelations = OrderRow & {
  lines: LineRow[];
  events: EventRow[];
  pickupSlot: SlotWindow;
  deliverySlot: SlotWindow;
  /** The order's money as orderBalance() reads it (orderQuery's `payments` and `waivers`). */
  payments: (BalancePayment & { status: string })[];
  waivers: { amount: number }[];
  /** The order's refunds to account credit (orderQuery's `creditEntries`, `refund_to_credit` only). */
  creditEntries: { amount: number }[];
};

/** The order as the API shows it (OrderSchema), from its row and relations. */
export function toOrderDto(o: OrderWithRelations): OrderDto {
  const { lines, events } = o;
  return {
    id: o.id,
    status: o.status,
    paymentMethod: o.paymentMethod,
    express: o.express,
    notes: o.notes,
    zoneId: o.zoneId,
    address: o.address,
    pickupSlot: slotRef(o.pickupSlot),
    deliverySlot: slotRef(o.deliverySlot),
    currency: o.currency,
    estimate: o.estimate,
    final: o.finalBreakdown ?? null,
    bagCount: o.bagCount,
    weighedAt: o.weighedAt ? iso(o.weighedAt) : null,
    overageApprovalRequired: o.overageApprovalRequired && !o.overageApprovedAt,
    flags: o.flags as OrderDto['flags'],
    flaggedReason: o.flaggedReason as OrderDto['flaggedReason'],
    missedPickup: missedPickupOf(events),
    balance: balanceOf(o),
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

/** The order's balance (OrderBalanceSchema) from what orderQuery reads with it. */
export function balanceOf(o: Pick<OrderWithRelations, 'status' | 'finalTotal' | 'estimatedTotal' | 'payments' | 'waivers' | 'creditEntries'>): OrderBalance {
  return orderBalance({ status: o.status, finalTotal: o.finalTotal, estimatedTotal: o.estimatedTotal, payments: o.payments, waivers: o.waivers, creditRefunds: o.creditEntries });
}

/** The `pickup_missed` entry of the timeline (written by src/modules/orders/transition.ts with `reason` and `fee`), for the app. */
function missedPickupOf(events: readonly Pick<EventRow, 'at' | 'toStatus' | 'note' | 'evidence'>[]): OrderDto['missedPickup'] {
  const entry = events.find((e) => e.toStatus === 'pickup_missed');
  if (!entry) return null;
  const evidence = (entry.evidence ?? {}) as { reason?: MissedPickupReason; fee?: number };
  return { at: iso(entry.at), reason: evidence.reason ?? 'other', note: entry.note, fee: evidence.fee ?? 0 };
}

/** The query behind findOrder, on any handle (the database, or a batch being built). */
export function orderQuery(db: Db, orderId: string, userId?: string) {
  return db.query.orders.findFirst({
    where: userId ? and(eq(orders.id, orderId), eq(orders.userId, userId)) : eq(orders.id, orderId),
    with: {
      lines: true,
      events: { orderBy: [asc(orderEvents.id)] },
      // The balance's inputs, in the same query (no extra round trip): see toOrderDto.
      payments: { columns: { kind: true, status: true, amount: true, amountCapturable: true, amountCaptured: true, amountRefunded: true } },
      waivers: { columns: { amount: true } },
      creditEntries: { columns: { amount: true }, where: eq(creditEntries.reason, 'refund_to_credit') },
      pickupSlot: { columns: { id: true, startsAt: true, endsAt: true } },
      deliverySlot: { columns: { id: true, startsAt: true, endsAt: true } },
    },
  });
}

/** orderQuery's row as the API shows it (plus the owner, for the caller to drop). */
export function orderDtoOf(row: Awaited<ReturnType<typeof orderQuery>>): (OrderDto & { userId: string }) | undefined {
  if (!row) return undefined;
  return { ...toOrderDto(row), userId: row.userId };
}

/** The list view of an order, shared by the customer list and the staff queue. */
export function toOrderSummary(
  o: Pick<OrderRow, 'id' | 'status' | 'paymentMethod' | 'currency' | 'estimatedTotal' | 'finalTotal' | 'createdAt'>,
  pickup: SlotWindow,
  delivery: SlotWindow,
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

/** A member of the shop acting on an order: the timeline records who. */
export interface StaffActor {
  role: 'staff' | 'admin';
  userId: string;
}

/** `SET` assignments that raise `flag` on the row being updated (once). Right-hand sides read the old row. */
export function raiseFlag(flag: OrderFlag): SQL {
  return sql`flags = CASE WHEN ${flag} = ANY(flags) THEN flags ELSE array_append(flags, ${flag}::text) END, flagged_reason = ${flag}`;
}

/** `SET` assignments that clear `flag` (if raised); flagged_reason falls back to the latest one left. */
export function clearFlag(flag: OrderFlag): SQL {
  return sql`flags = array_remove(flags, ${flag}::text),
    flagged_reason = (array_remove(flags, ${flag}::text))[cardinality(array_remove(flags, ${flag}::text))]`;
}

/** Whether the row has `flag` raised. */
export function hasFlag(flag: OrderFlag): SQL {
  return sql`(${flag}::text = ANY(flags))`;
}
