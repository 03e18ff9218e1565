/** PATCH /v1/admin/services/{id}: the service, and its add-ons read back, in one batch. */
import { asc, eq } from 'drizzle-orm';
import { addOns, services } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { invalidateCatalog } from './cache.js';
import type { ServiceDto, UpdateServiceInput } from './schemas.js';
import { mapCatalogError, toServiceDto } from './shared.js';

/** Writes, then invalidates the cached public catalog (./cache.ts), only once the write has succeeded. */
export async function updateService(deps: Deps, requestUrl: string, id: string, input: UpdateServiceInput): Promise<ServiceDto> {
  const result = await writeService(deps, id, input);
  await invalidateCatalog(deps, requestUrl);
  return result;
}

async function writeService(deps: Deps, id: string, input: UpdateServiceInput): Promise<ServiceDto> {
  const { express, ...fields } = input;
  const changes = {
    ...fields,
    ...(express === undefined
      ? {}
      : { expressSurchargeBps: express?.surchargeBps ?? null, expressTurnaroundHours: express?.turnaroundHours ?? null }),
    updatedAt: deps.clock.now(),
  };
  try {
    const [updated, serviceAddOns] = await deps.database.batch((db) => [
      db.update(services).set(changes).where(eq(services.id, id)).returning(),
      db.select().from(addOns).where(eq(addOns.serviceId, id)).orderBy(asc(addOns.name)),
    ]);
    if (!updated[0]) throw new ApiError('not_found', 'No such service.');
    return toServiceDto(updated[0], serviceAddOns);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    mapCatalogError(err);
  }
}
