import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { orders, zones } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { deliverySlot, pickupSlot, summaryColumns, toOrderSummary } from '../orders/read.js';
import type { QueueQueryInput, StaffOrderSummaryDto } from './schemas.js';

type Kind = QueueQueryInput['kind'];

const iso = (d: Date | string) => new Date(d).toISOString();
const toBase64Url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromBase64Url = (s: string) => atob(s.replace(/-/g, '+').replace(/_/g, '/'));

/**
 * Keyset cursor over (slot start ASC, order id ASC) of the `kind` slot. The start is carried
 * at the database's microsecond precision so no row is skipped or repeated between pages, and
 * the kind is carried so a cursor cannot be replayed against the other ordering.
 */
export function encodeQueueCursor(kind: Kind, startsAt: string, id: string): string {
  return toBase64Url(`${kind}|${startsAt}|${id}`);
}

export function decodeQueueCursor(cursor: string, kind: Kind): { startsAt: string; id: string } {
  const invalid = (message: string) =>
    new ApiError('validation_failed', `query.cursor: ${message}`, [{ field: 'query.cursor', message }]);
  let parts: string[];
  try {
    parts = fromBase64Url(cursor).split('|');
  } catch {
    throw invalid('invalid cursor');
  }
  const [k, startsAt, id] = parts;
  if (parts.length !== 3 || (k !== 'pickup' && k !== 'delivery')) throw invalid('invalid cursor');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(startsAt!) || Number.isNaN(Date.parse(startsAt!))) {
    throw invalid('invalid cursor');
  }
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id!)) throw invalid('invalid cursor');
  if (k !== kind) throw invalid(`this cursor pages kind=${k}; send the same kind`);
  return { startsAt: startsAt!, id: id! };
}


/**
 * The staff work queue in ONE statement: orders in the order their `kind` window starts
 * (what a driver or the wash floor works through), filtered by status, zone, slot and the
 * window's local date in the zone's own time zone.
 */
export async function staffQueue(
  deps: Deps,
  q: QueueQueryInput,
): Promise<{ data: StaffOrderSummaryDto[]; nextCursor: string | null }> {
  const keySlot = q.kind === 'pickup' ? pickupSlot : deliverySlot;
  const where: SQL[] = [];
  if (q.status) where.push(eq(orders.status, q.status));
  if (q.zone) where.push(eq(orders.zoneId, q.zone));
  if (q.slot) where.push(eq(q.kind === 'pickup' ? orders.pickupSlotId : orders.deliverySlotId, q.slot));
  if (q.flag === 'any') where.push(sql`${orders.flags} <> '{}'::text[]`);
  else if (q.flag) where.push(sql`${q.flag}::text = ANY(${orders.flags})`);
  if (q.date) where.push(sql`(${keySlot.startsAt} AT TIME ZONE ${zones.timeZone})::date = ${q.date}::date`);
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
      sortAt: sql<string>`to_char(${keySlot.startsAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(orders)
    .innerJoin(zones, eq(zones.id, orders.zoneId))
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
