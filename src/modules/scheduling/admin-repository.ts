/**
 * Admin data access for zones, slots and closures. Every function is one round trip, except
 * slot generation: one read (the zone's time zone and closed dates, which the pure
 * `planSlots` needs) and then one INSERT.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { runQuery } from '../../db/client.js';
import { slots, zones } from '../../db/schema.js';
import { CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { planSlots, type SlotKind, type SlotWindow } from '../../domain/slots.js';
import { ApiError } from '../../errors.js';
import type {
  AdminSlotDto,
  CreateSlotInput,
  CreateZoneInput,
  GenerateSlotsInput,
  UpdateSlotInput,
  UpdateZoneInput,
  ZoneDto,
} from './admin-schemas.js';
import { toAdminSlot, toZoneDto } from './admin-dto.js';
import { isoOf } from './sql.js';

/** Raw-SQL RETURNING list shaped like `SlotLike`. */
const SLOT_COLUMNS = sql.raw(
  `id, zone_id AS "zoneId", kind, starts_at AS "startsAt", ends_at AS "endsAt", capacity, reserved, cutoff_minutes AS "cutoffMinutes", closed`,
);
const SlotRow = z.object({
  id: z.string(),
  zoneId: z.string(),
  kind: z.enum(['pickup', 'delivery']),
  startsAt: z.string(),
  endsAt: z.string(),
  capacity: z.number(),
  reserved: z.number(),
  cutoffMinutes: z.number(),
  closed: z.boolean(),
});

const noZone = () => new ApiError('not_found', 'No such zone.');

// ---- zones -------------------------------------------------------------------------------------

export async function listZones(deps: Deps): Promise<ZoneDto[]> {
  const rows = await runQuery(deps.database, (db) => db.select().from(zones).orderBy(asc(zones.name), asc(zones.id)));
  return rows.map(toZoneDto);
}

export async function createZone(deps: Deps, input: CreateZoneInput): Promise<ZoneDto> {
  const now = deps.clock.now();
  const [row] = await runQuery(deps.database, (db) => db
    .insert(zones)
    .values({ ...input, createdAt: now, updatedAt: now })
    .returning());
  return toZoneDto(row!);
}

/**
 * Changing `timeZone` does not move existing slots (they are instants); it changes which local
 * date they fall on for closures, and the wall times of slots generated from now on.
 */
export async function updateZone(deps: Deps, id: string, input: UpdateZoneInput): Promise<ZoneDto> {
  const [row] = await runQuery(deps.database, (db) => db
    .update(zones)
    .set({ ...input, updatedAt: deps.clock.now() })
    .where(eq(zones.id, id))
    .returning());
  if (!row) throw noZone();
  return toZoneDto(row);
}

// ---- slots -------------------------------------------------------------------------------------

/** A slot added on a closed local date is born closed, in the same statement. */
export async function createSlot(deps: Deps, zoneId: string, input: CreateSlotInput): Promise<AdminSlotDto> {
  const now = deps.clock.now().toISOString();
  const startsAt = new Date(input.startsAt).toISOString();
  try {
    const [row] = await deps.database.rows(SlotRow, sql`
      INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, cutoff_minutes, closed, created_at, updated_at)
      SELECT z.id, ${input.kind}::slot_kind, ${startsAt}::timestamptz, ${new Date(input.endsAt).toISOString()}::timestamptz,
             ${input.capacity}, ${input.cutoffMinutes},
             EXISTS (SELECT 1 FROM zone_closures c
                     WHERE c.zone_id = z.id AND c.date = (${startsAt}::timestamptz AT TIME ZONE z.time_zone)::date),
             ${now}::timestamptz, ${now}::timestamptz
      FROM zones z WHERE z.id = ${zoneId}::uuid
      RETURNING ${SLOT_COLUMNS}`);
    if (!row) throw noZone();
    return toAdminSlot(row);
  } catch (err) {
    if (pgError(err)?.code === UNIQUE_VIOLATION) {
      throw new ApiError('slot_exists', `This zone already has a ${input.kind} slot starting at ${startsAt}.`);
    }
    throw err;
  }
}

const Dates = z.array(z.string());
/** `closed` is a json array: parsed by the driver, or on a driver that leaves json as text, a string. */
const ZoneDatesRow = z.object({ time_zone: z.string(), closed: z.union([Dates, z.string().transform((text) => Dates.parse(JSON.parse(text)))]) });

/**
 * Plans the slots in the pure domain (`planSlots`: clock changes never throw there, they skip or
 * clip a window and say so) and inserts them in one statement. Windows the clock skips and
 * windows a clock change moved are reported, so the admin sees what that day will really offer.
 */
export async function generateZoneSlots(deps: Deps, zoneId: string, input: GenerateSlotsInput) {
  const [zone] = await deps.database.rows(ZoneDatesRow, sql`
    SELECT z.time_zone,
           coalesce((SELECT json_agg(c.date::text) FROM zone_closures c
                     WHERE c.zone_id = z.id AND c.date BETWEEN ${input.from}::date AND ${input.to}::date), '[]'::json) AS closed
    FROM zones z WHERE z.id = ${zoneId}::uuid`);
  if (!zone) throw noZone();
  const closedDates: string[] = zone.closed;
  const plan = planSlots(
    { zoneId, timeZone: zone.time_zone, cutoffMinutes: input.cutoffMinutes, windows: input.windows as SlotWindow[] }, // weekday is 0..6 (schema)
    { from: input.from, to: input.to },
    closedDates,
  );
  const report = {
    skippedWindows: plan.skipped,
    adjustedWindows: plan.adjusted.map((a) => ({ ...a, startsAt: a.startsAt.toISOString(), endsAt: a.endsAt.toISOString() })),
  };
  const planned = plan.slots;
  if (planned.length === 0) return { created: 0, skipped: 0, data: [], ...report };
  const now = deps.clock.now();
  try {
    // Re-running a template is safe: windows that already have a slot are skipped, not doubled.
    const created = await runQuery(deps.database, (db) => db
      .insert(slots)
      .values(planned.map((s) => ({ ...s, createdAt: now, updatedAt: now })))
      .onConflictDoNothing({ target: [slots.zoneId, slots.kind, slots.startsAt] })
      .returning());
    const data = created
      .map(toAdminSlot)
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.kind.localeCompare(b.kind));
    return { created: data.length, skipped: planned.length - data.length, data, ...report };
  } catch (err) {
    // The zone vanished between the read and the write.
    if (pgError(err)?.code === FOREIGN_KEY_VIOLATION) throw noZone();
    throw err;
  }
}

/**
 * `reserved` is only ever changed by bookings; the CHECK constraint `slots_capacity` is what
 * refuses a capacity below it, so there is no read-then-write race with a booking in flight.
 */
export async function updateSlot(deps: Deps, id: string, input: UpdateSlotInput): Promise<AdminSlotDto> {
  try {
    const [row] = await runQuery(deps.database, (db) => db
      .update(slots)
      .set({ ...input, updatedAt: deps.clock.now() })
      .where(eq(slots.id, id))
      .returning());
    if (!row) throw new ApiError('not_found', 'No such slot.');
    return toAdminSlot(row);
  } catch (err) {
    const info = pgError(err);
    // The only CHECK an update of these columns can break is slots_capacity (the body is validated).
    if (info?.code === CHECK_VIOLATION && (info.constraint ?? 'slots_capacity') === 'slots_capacity') {
      const ex = new ApiError('capacity_below_reserved', `Capacity ${input.capacity} is below the number already booked.`);
      ex.details = { slotId: id, capacity: input.capacity };
      throw ex;
    }
    throw err;
  }
}

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

// ---- closures ----------------------------------------------------------------------------------

const ClosureRow = z.object({
  zone_id: z.string(),
  date: z.string(),
  reason: z.string().nullable(),
  created_at: z.string(),
  created: z.boolean(),
  newly_closed: z.number(),
  already_closed: z.number(),
});

/**
 * Records a closed date and closes that local date's slots in one statement. Repeating it is
 * harmless: the closure is kept (its reason replaced when a new one is sent) and `created`
 * tells the route whether to answer 201 or 200. Orders already booked on the date are left
 * alone; staff contact those customers.
 */
export async function addClosure(deps: Deps, zoneId: string, input: { date: string; reason?: string | undefined }) {
  const now = deps.clock.now().toISOString();
  const [row] = await deps.database.rows(ClosureRow, sql`
    WITH z AS (SELECT id, time_zone FROM zones WHERE id = ${zoneId}::uuid),
    closure AS (
      INSERT INTO zone_closures (zone_id, date, reason, created_at)
      SELECT z.id, ${input.date}::date, ${input.reason ?? null}, ${now}::timestamptz FROM z
      ON CONFLICT (zone_id, date) DO UPDATE SET reason = coalesce(EXCLUDED.reason, zone_closures.reason)
      RETURNING zone_id, date::text AS date, reason, created_at, (xmax = 0) AS created
    ),
    newly AS (
      UPDATE slots s SET closed = true, updated_at = ${now}::timestamptz
      FROM z
      WHERE s.zone_id = z.id AND NOT s.closed AND (s.starts_at AT TIME ZONE z.time_zone)::date = ${input.date}::date
      RETURNING s.id
    )
    SELECT closure.*,
           (SELECT count(*)::int FROM newly) AS newly_closed,
           (SELECT count(*)::int FROM slots s, z
             WHERE s.zone_id = z.id AND s.closed AND (s.starts_at AT TIME ZONE z.time_zone)::date = ${input.date}::date) AS already_closed
    FROM closure`);
  if (!row) throw noZone();
  return {
    created: row.created,
    closure: {
      zoneId: row.zone_id,
      date: row.date,
      reason: row.reason,
      createdAt: isoOf(row.created_at),
      // The last subquery sees the table as it was before this statement, so the two add up.
      slotsClosed: row.newly_closed + row.already_closed,
    },
  };
}

const RemovedClosureRow = z.object({ zone_found: z.number(), removed: z.number() });

/**
 * Deletes a closed date and reopens that local date's slots in one statement. Reopening clears
 * `closed` on every slot of the date, including one an admin had closed on its own.
 */
export async function removeClosure(deps: Deps, zoneId: string, date: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  const [row] = await deps.database.rows(RemovedClosureRow, sql`
    WITH z AS (SELECT id, time_zone FROM zones WHERE id = ${zoneId}::uuid),
    removed AS (
      DELETE FROM zone_closures c USING z WHERE c.zone_id = z.id AND c.date = ${date}::date RETURNING c.zone_id
    ),
    reopened AS (
      UPDATE slots s SET closed = false, updated_at = ${now}::timestamptz
      FROM z
      WHERE EXISTS (SELECT 1 FROM removed)
        AND s.zone_id = z.id AND s.closed AND (s.starts_at AT TIME ZONE z.time_zone)::date = ${date}::date
      RETURNING s.id
    )
    SELECT (SELECT count(*)::int FROM z) AS zone_found,
           (SELECT count(*)::int FROM removed) AS removed,
           (SELECT count(*)::int FROM reopened) AS reopened`);
  if (!row?.zone_found) throw noZone();
  if (!row.removed) throw new ApiError('not_found', `The zone is not closed on ${date}.`);
}
