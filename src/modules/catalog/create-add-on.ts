/** POST /v1/admin/services/{id}/add-ons: one INSERT. */
import { runQuery } from '../../db/client.js';
import { addOns, type AddOn } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { invalidateCatalog } from './cache.js';
import type { AddOnDto } from './schemas.js';
import { addOnDto, mapCatalogError } from './shared.js';

/** Writes, then invalidates the cached public catalog (./cache.ts), only once the write has succeeded. */
export async function createAddOn(
  deps: Deps,
  requestUrl: string,
  serviceId: string,
  input: { slug: string; name: string; price: number },
): Promise<AddOnDto> {
  const result = await insertAddOn(deps, serviceId, input);
  await invalidateCatalog(deps, requestUrl);
  return addOnDto(result);
}

async function insertAddOn(
  deps: Deps,
  serviceId: string,
  input: { slug: string; name: string; price: number },
): Promise<AddOn> {
  const now = deps.clock.now();
  try {
    const [row] = await runQuery(deps.database, (db) => db
      .insert(addOns)
      .values({ ...input, serviceId, createdAt: now, updatedAt: now })
      .returning());
    return row!;
  } catch (err) {
    mapCatalogError(err);
  }
}
