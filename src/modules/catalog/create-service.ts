/** POST /v1/admin/services: a service and its add-ons, in one batch. */
import { eq } from 'drizzle-orm';
import { addOns, services } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { invalidateCatalog } from './cache.js';
import type { CreateServiceInput, ServiceDto } from './schemas.js';
import { mapCatalogError, toServiceDto } from './shared.js';

/** Writes, then invalidates the cached public catalog (./cache.ts), only once the write has succeeded. */
export async function createService(deps: Deps, requestUrl: string, input: CreateServiceInput): Promise<ServiceDto> {
  const result = await insertService(deps, input);
  await invalidateCatalog(deps, requestUrl);
  return result;
}

/** The service and its add-ons in one batch: one round trip, all or nothing. */
async function insertService(deps: Deps, input: CreateServiceInput): Promise<ServiceDto> {
  const id = crypto.randomUUID();
  const now = deps.clock.now();
  const serviceRow = {
    id,
    slug: input.slug,
    name: input.name,
    description: input.description,
    pricingModel: input.pricingModel,
    unitPrice: input.unitPrice,
    currency: deps.config.currency,
    turnaroundHours: input.turnaroundHours,
    expressSurchargeBps: input.express?.surchargeBps ?? null,
    expressTurnaroundHours: input.express?.turnaroundHours ?? null,
    sortOrder: input.sortOrder,
    createdAt: now,
    updatedAt: now,
  };
  const addOnRows = input.addOns.map((a) => ({ ...a, serviceId: id, createdAt: now, updatedAt: now }));
  try {
    const [created, createdAddOns] = await deps.database.batch((db) => [
      db.insert(services).values(serviceRow).returning(),
      addOnRows.length > 0
        ? db.insert(addOns).values(addOnRows).returning()
        : db.select().from(addOns).where(eq(addOns.serviceId, id)),
    ]);
    return toServiceDto(created[0]!, createdAddOns);
  } catch (err) {
    mapCatalogError(err);
  }
}
