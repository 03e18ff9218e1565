/**
 * POST /v1/admin/zones/{id}/slots/generate: ONE statement when the zone's time zone is
 * remembered (deps.orderInputs, filled by every zone read and write and by this endpoint), two
 * when it is not or has changed since (seed scripts pass no cache: always two).
 *
 * The slots are planned in code, in the zone's time zone, by the pure `planSlots` (its clock-change
 * rule: docs/runbook.md, "Slots across clock changes"; PostgreSQL's `AT TIME ZONE` resolves
 * skipped and repeated wall times differently, so the plan is not made in SQL). The statement
 * checks the time zone the plan was made in against the zone's, leaves out the zone's closed
 * dates (a slot's date is the local date of its start, as closures define it everywhere) and
 * inserts the rest, `ON CONFLICT DO NOTHING`; it returns the zone's time zone, its closed dates in
 * the range, how many slots were on open dates and the slots created. A remembered time zone that
 * is stale (or none) makes it insert nothing: the plan is redone in the time zone it returned and
 * sent again.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { FOREIGN_KEY_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { planSlots, type SlotPlan, type SlotWindow } from '../../domain/slots.js';
import type { GenerateSlotsInput } from './schemas.js';
import { noZone, SlotRow, toAdminSlot } from './shared.js';

/** json columns: parsed by some drivers, text on others. */
const json = <T extends z.ZodType>(schema: T) => z.union([schema, z.string().transform((text) => schema.parse(JSON.parse(text)))]);
const WriteRow = z.object({
  time_zone: z.string().nullable(),
  closed: json(z.array(z.string())),
  planned: z.number(),
  created: json(z.array(SlotRow)),
});
type Written = z.output<typeof WriteRow>;

/** Gives up after this many statements (the time zone would have to change between each). */
const MAX_STATEMENTS = 3;

/**
 * Plans the slots (clock changes never throw there: they skip or clip a window and say so) and
 * inserts them. Windows the clock skips and windows a clock change moved are reported, so the
 * admin sees what that day will really offer. Errors: 404 `not_found` (no such zone), 422 from
 * `planSlots` (a bad template or range). Round trips: 1 with the zone's time zone remembered, else 2.
 */
export async function generateZoneSlots(
  deps: Pick<Deps, 'database' | 'clock'> & { orderInputs?: Pick<Deps['orderInputs'], 'zoneTimeZone' | 'putZoneTimeZone'> },
  zoneId: string,
  input: GenerateSlotsInput,
) {
  const now = deps.clock.now().toISOString();
  let timeZone = deps.orderInputs?.zoneTimeZone(zoneId);
  for (let sent = 0; sent < MAX_STATEMENTS; sent++) {
    const plan = timeZone === undefined ? undefined : planIn(timeZone, zoneId, input);
    const written = await writePlan(deps, zoneId, input, timeZone ?? null, plan, now);
    if (written.time_zone === null) throw noZone();
    deps.orderInputs?.putZoneTimeZone(zoneId, written.time_zone);
    if (plan && written.time_zone === timeZone) return answer(plan, written);
    timeZone = written.time_zone;
  }
  throw new Error(`the time zone of zone ${zoneId} changed under ${MAX_STATEMENTS} slot generations in a row`);
}

function planIn(timeZone: string, zoneId: string, input: GenerateSlotsInput): SlotPlan {
  // Closed dates are left out by the statement; weekday is 0..6 (schema).
  return planSlots({ zoneId, timeZone, cutoffMinutes: input.cutoffMinutes, windows: input.windows as SlotWindow[] }, { from: input.from, to: input.to }, []);
}

/** The one statement. With no plan (time zone unknown) it writes nothing and reports the zone. */
async function writePlan(
  deps: Pick<Deps, 'database'>,
  zoneId: string,
  input: GenerateSlotsInput,
  timeZone: string | null,
  plan: SlotPlan | undefined,
  now: string,
): Promise<Written> {
  const planned = JSON.stringify(
    (plan?.slots ?? []).map((s) => ({ kind: s.kind, starts_at: s.startsAt.toISOString(), ends_at: s.endsAt.toISOString(), capacity: s.capacity })),
  );
  try {
    const [row] = await deps.database.rows(WriteRow, sql`
      WITH z AS (SELECT id, time_zone FROM zones WHERE id = ${zoneId}::uuid),
      closed AS (SELECT c.date FROM zone_closures c JOIN z ON c.zone_id = z.id
                 WHERE c.date BETWEEN ${input.from}::date AND ${input.to}::date),
      planned AS (
        SELECT p.kind::slot_kind AS kind, p.starts_at, p.ends_at, p.capacity
        FROM jsonb_to_recordset(${planned}::jsonb) AS p(kind text, starts_at timestamptz, ends_at timestamptz, capacity int)
        JOIN z ON z.time_zone = ${timeZone}::text
        WHERE (p.starts_at AT TIME ZONE z.time_zone)::date NOT IN (SELECT date FROM closed)),
      created AS (
        -- Re-running a template is safe: windows that already have a slot are skipped, not doubled.
        INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, cutoff_minutes, created_at, updated_at)
        SELECT z.id, planned.kind, planned.starts_at, planned.ends_at, planned.capacity, ${input.cutoffMinutes}, ${now}::timestamptz, ${now}::timestamptz
        FROM planned, z
        ON CONFLICT (zone_id, kind, starts_at) DO NOTHING
        RETURNING id, zone_id, kind, starts_at, ends_at, capacity, reserved, cutoff_minutes, closed)
      SELECT (SELECT time_zone FROM z) AS time_zone,
             coalesce((SELECT json_agg(date::text ORDER BY date) FROM closed), '[]'::json) AS closed,
             (SELECT count(*) FROM planned)::int AS planned,
             coalesce((SELECT json_agg(json_build_object('id', id, 'zoneId', zone_id, 'kind', kind, 'startsAt', starts_at, 'endsAt', ends_at,
                         'capacity', capacity, 'reserved', reserved, 'cutoffMinutes', cutoff_minutes, 'closed', closed)) FROM created), '[]'::json) AS created`);
    return row!;
  } catch (err) {
    // The zone vanished between the statement's read of it and its insert.
    if (pgError(err)?.code === FOREIGN_KEY_VIOLATION) throw noZone();
    throw err;
  }
}

/** The answer: what was created, and the plan's report for the open dates only. */
function answer(plan: SlotPlan, written: Written) {
  const closed = new Set(written.closed);
  const data = written.created
    .map(toAdminSlot)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.kind.localeCompare(b.kind));
  return {
    created: data.length,
    skipped: written.planned - data.length,
    data,
    skippedWindows: plan.skipped.filter((w) => !closed.has(w.date)),
    adjustedWindows: plan.adjusted
      .filter((w) => !closed.has(w.date))
      .map((a) => ({ ...a, startsAt: a.startsAt.toISOString(), endsAt: a.endsAt.toISOString() })),
  };
}
