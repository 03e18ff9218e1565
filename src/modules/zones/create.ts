/** POST /v1/admin/zones: one INSERT; the body was validated by CreateZoneBody. */
import { runQuery } from '../../db/client.js';
import { zones } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { CreateZoneInput, ZoneDto } from './schemas.js';
import { checkMissedPickupFee, toZoneDto } from './shared.js';

export async function createZone(deps: Deps, input: CreateZoneInput): Promise<ZoneDto> {
  checkMissedPickupFee(deps.config.currency, input.missedPickupFee);
  const now = deps.clock.now();
  const [row] = await runQuery(deps.database, (db) => db
    .insert(zones)
    .values({ ...input, createdAt: now, updatedAt: now })
    .returning());
  // Slot generation plans in the zone's time zone: one statement when it is remembered.
  deps.orderInputs.putZoneTimeZone(row!.id, row!.timeZone);
  return toZoneDto(row!);
}
