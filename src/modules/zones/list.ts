/** GET /v1/admin/zones: every zone, inactive ones too, by name. One round trip. */
import { asc } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { zones } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { ZoneDto } from './schemas.js';
import { toZoneDto } from './shared.js';

export async function listZones(deps: Deps): Promise<ZoneDto[]> {
  const rows = await runQuery(deps.database, (db) => db.select().from(zones).orderBy(asc(zones.name), asc(zones.id)));
  for (const row of rows) deps.orderInputs.putZoneTimeZone(row.id, row.timeZone);
  return rows.map(toZoneDto);
}
