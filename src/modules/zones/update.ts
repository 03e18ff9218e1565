/** PATCH /v1/admin/zones/{id}: one UPDATE; `not_found` (404) for an unknown zone. */
import { eq } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { zones } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { UpdateZoneInput, ZoneDto } from './schemas.js';
import { checkMissedPickupFee, noZone, toZoneDto } from './shared.js';

/**
 * Changing `timeZone` does not move existing slots (they are instants); it changes which local
 * date they fall on for closures, and the wall times of slots generated from now on.
 */
export async function updateZone(deps: Deps, id: string, input: UpdateZoneInput): Promise<ZoneDto> {
  checkMissedPickupFee(deps.config.currency, input.missedPickupFee);
  const [row] = await runQuery(deps.database, (db) => db
    .update(zones)
    .set({ ...input, updatedAt: deps.clock.now() })
    .where(eq(zones.id, id))
    .returning());
  if (!row) throw noZone();
  deps.orderInputs.putZoneTimeZone(row.id, row.timeZone);
  return toZoneDto(row);
}
