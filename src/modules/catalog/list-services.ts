/**
 * The services with their add-ons, in display order: GET /v1/admin/services (all of them) and,
 * through the cache (./cache.ts), GET /v1/services (active ones only).
 */
import { asc, eq } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { addOns, services } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { ServiceDto } from './schemas.js';
import { toServiceDto } from './shared.js';

/** One statement: drizzle's relational query aggregates the add-ons in SQL. */
export async function listServices(deps: Deps, opts: { includeInactive: boolean }): Promise<ServiceDto[]> {
  const rows = await runQuery(deps.database, (db) => db.query.services.findMany({
    where: opts.includeInactive ? undefined : eq(services.active, true),
    orderBy: [asc(services.sortOrder), asc(services.name)],
    with: {
      addOns: {
        where: opts.includeInactive ? undefined : eq(addOns.active, true),
        orderBy: [asc(addOns.name)],
      },
    },
  }));
  return rows.map((r) => toServiceDto(r, r.addOns));
}
