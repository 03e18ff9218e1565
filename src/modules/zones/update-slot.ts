/** PATCH /v1/admin/slots/{id}: one UPDATE; `not_found` (404), `capacity_below_reserved` (409). */
import { eq } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { slots } from '../../db/schema.js';
import { CHECK_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { AdminSlotDto, UpdateSlotInput } from './schemas.js';
import { toAdminSlot } from './shared.js';

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
      throw new ApiError('capacity_below_reserved', `Capacity ${input.capacity} is below the number already booked.`, {
        details: { slotId: id, capacity: input.capacity },
      });
    }
    throw err;
  }
}
