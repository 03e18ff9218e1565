/** POST /v1/admin/zones/{id}/slots: one INSERT … SELECT; `slot_exists` (409), `not_found` (404). */
import { sql } from 'drizzle-orm';
import { UNIQUE_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { AdminSlotDto, CreateSlotInput } from './schemas.js';
import { noZone, SLOT_COLUMNS, SlotRow, toAdminSlot } from './shared.js';

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
