/**
 * POST /v1/admin/zones/{id}/slots/generate: one read (the zone's time zone and closed dates,
 * which the pure `planSlots` needs) and then one INSERT.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { runQuery } from '../../db/client.js';
import { slots } from '../../db/schema.js';
import { FOREIGN_KEY_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { planSlots, type SlotWindow } from '../../domain/slots.js';
import type { GenerateSlotsInput } from './schemas.js';
import { noZone, toAdminSlot } from './shared.js';

const Dates = z.array(z.string());
/** The zone's time zone and its closed dates in the range (json: parsed by some drivers, text on others). */
const ZoneDatesRow = z.object({ time_zone: z.string(), closed: z.union([Dates, z.string().transform((text) => Dates.parse(JSON.parse(text)))]) });

/**
 * Plans the slots in the pure domain (`planSlots`: clock changes never throw there, they skip or
 * clip a window and say so) and inserts them in one statement. Windows the clock skips and
 * windows a clock change moved are reported, so the admin sees what that day will really offer.
 */
export async function generateZoneSlots(deps: Pick<Deps, 'database' | 'clock'>, zoneId: string, input: GenerateSlotsInput) {
  const [zone] = await deps.database.rows(ZoneDatesRow, sql`
    SELECT z.time_zone,
           coalesce((SELECT json_agg(c.date::text) FROM zone_closures c
                     WHERE c.zone_id = z.id AND c.date BETWEEN ${input.from}::date AND ${input.to}::date), '[]'::json) AS closed
    FROM zones z WHERE z.id = ${zoneId}::uuid`);
  if (!zone) throw noZone();
  const closedDates = zone.closed;
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
