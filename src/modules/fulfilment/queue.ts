import { z } from '@hono/zod-openapi';
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { orders, users, zones } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { CursorInstant, CursorUuid, decodeCursor, encodeCursor, invalidCursor } from '../../http/cursor.js';
import { isoOf as iso } from '../../db/timestamps.js';
import { deliverySlot, pickupSlot, summaryColumns, toOrderSummary, utcMicros } from '../orders/shared.js';
import type { QueueQueryInput, StaffOrderSummaryDto } from './schemas.js';

type Kind = QueueQueryInput['kind'];

const QueueCursor = z.tuple([z.enum(['pickup', 'delivery']), CursorInstant, CursorUuid]);

/**
 * Keyset cursor over (slot start ASC, order id ASC) of the `kind` slot. The start is carried
 * at the database's microsecond precision so no row is skipped or repeated between pages, and
 * the kind is carried so a cursor cannot be replayed against the other ordering.
 */
export function encodeQueueCursor(kind: Kind, startsAt: string, id: string): string {
  return encodeCursor([kind, startsAt, id]);
}

export function decodeQueueCursor(cursor: string, kind: Kind): { startsAt: string; id: string } {
  const [k, startsAt, id] = decodeCursor(cursor, QueueCursor);
  if (k !== kind) throw invalidCursor(`this cursor pages kind=${k}; send the same kind`);
  return { startsAt, id };
}

/**
 * The staff work queue in ONE statement: orders in the order their `kind` window starts
 * (what a driver or the wash floor works through), filtered by status, zone, slot and the
 * window's local date in the zone's own time zone. Orders of synthetic users (release probes)
 * are left out unless `synthetic=true` asks for them alone: the join to `users` rides in the
 * same statement.
 */
export async function staffQueue(
  deps: Deps,
  q: QueueQueryInput,
): Promise<{ data: StaffOrderSummaryDto[]; nextCursor: string | null }> {
  const keySlot = q.kind === 'pickup' ? pickupSlot : deliverySlot;
  const where: SQL[] = [eq(users.synthetic, q.synthetic === 'true')];
  if (q.status) where.push(eq(orders.status, q.status));
  if (q.zone) where.push(eq(orders.zoneId, q.zone));
  if (q.slot) where.push(eq(q.kind === 'pickup' ? orders.pickupSlotId : orders.deliverySlotId, q.slot));
  if (q.flag === 'any') where.push(sql`${orders.flags} <> '{}'::text[]`);
  else if (q.flag) where.push(sql`${q.flag}::text = ANY(${orders.flags})`);
  if (q.date) {
    where.push(sql`(${keySlot.startsAt} AT TIME ZONE ${zones.timeZone})::date = ${q.date}::date`);
    // The same rows, as a range an index can serve (slots_starts_idx): a local date D lies within
    // [D-1, D+2) UTC for any UTC offset under 24 h, so this only lets the planner find the date's
    // slots without reading every slot of the history.
    where.push(sql`${keySlot.startsAt} >= (${q.date}::date - 1)::timestamp AT TIME ZONE 'UTC'`);
    where.push(sql`${keySlot.startsAt} < (${q.date}::date + 2)::timestamp AT TIME ZONE 'UTC'`);
  }
  if (q.cursor) {
    const c = decodeQueueCursor(q.cursor, q.kind);
    where.push(sql`(${keySlot.startsAt}, ${orders.id}) > (${c.startsAt}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await runQuery(deps.database, (db) => db
    .select({
      ...summaryColumns,
      order: {
        ...summaryColumns.order,
        zoneId: orders.zoneId,
        express: orders.express,
        bagCount: orders.bagCount,
        weighedAt: orders.weighedAt,
        address: orders.address,
        flags: orders.flags,
      },
      sortAt: utcMicros(keySlot.startsAt),
    })
    .from(orders)
    .innerJoin(zones, eq(zones.id, orders.zoneId))
    .innerJoin(users, eq(users.id, orders.userId))
    .innerJoin(pickupSlot, eq(pickupSlot.id, orders.pickupSlotId))
    .innerJoin(deliverySlot, eq(deliverySlot.id, orders.deliverySlotId))
    .where(and(...where))
    .orderBy(asc(keySlot.startsAt), asc(orders.id))
    .limit(q.limit + 1));
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    data: page.map(({ order: o, pickup, delivery }) => ({
      ...toOrderSummary(o, pickup, delivery),
      zoneId: o.zoneId,
      express: o.express,
      bagCount: o.bagCount,
      weighedAt: o.weighedAt ? iso(o.weighedAt) : null,
      address: o.address,
      flags: o.flags as StaffOrderSummaryDto['flags'],
    })),
    nextCursor: rows.length > q.limit && last ? encodeQueueCursor(q.kind, last.sortAt, last.order.id) : null,
  };
}
