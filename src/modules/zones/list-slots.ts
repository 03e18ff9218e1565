/** GET /v1/admin/zones/{id}/slots: the zone and every slot starting in a range. One round trip. */
import { eq, sql } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { slots, zones } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { SlotKind } from '../../domain/slots.js';
import { noZone, toAdminSlot, toZoneDto } from './shared.js';

/** One slot as the listing's subquery builds it (json_build_array), in this column order. */
type SlotTuple = [id: string, kind: SlotKind, startsAt: string, endsAt: string, capacity: number, reserved: number, cutoffMinutes: number, closed: boolean];

/**
 * The zone and its slots in one statement, the zone selected once: a join would repeat the
 * zone on every row, and 31 days of 5-minute slots of both kinds then came to 12.4 MiB over
 * Neon's SQL-over-HTTP, past its 10 MiB response limit (507). The slots come as one json array
 * of compact tuples (2.3 MiB for the same month); an unknown zone is no row at all.
 */
export async function listZoneSlots(
  deps: Deps,
  zoneId: string,
  range: { from: Date; to: Date; kind?: SlotKind | undefined },
) {
  const slotTuples = sql<SlotTuple[]>`coalesce((
    SELECT json_agg(json_build_array(s.id, s.kind, s.starts_at, s.ends_at, s.capacity, s.reserved, s.cutoff_minutes, s.closed)
                    ORDER BY s.starts_at, s.kind)
    FROM ${slots} s
    WHERE s.zone_id = ${zoneId}::uuid
      AND s.starts_at >= ${range.from.toISOString()}::timestamptz AND s.starts_at < ${range.to.toISOString()}::timestamptz
      ${range.kind ? sql`AND s.kind = ${range.kind}::slot_kind` : sql``}
  ), '[]'::json)`;
  const [row] = await runQuery(deps.database, (db) => db
    .select({ zone: zones, slots: slotTuples })
    .from(zones)
    .where(eq(zones.id, zoneId)));
  if (!row) throw noZone();
  return {
    zone: toZoneDto(row.zone),
    data: row.slots.map(([id, kind, startsAt, endsAt, capacity, reserved, cutoffMinutes, closed]) =>
      toAdminSlot({ id, zoneId: row.zone.id, kind, startsAt, endsAt, capacity, reserved, cutoffMinutes, closed }),
    ),
  };
}
