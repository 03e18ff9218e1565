/** PATCH /v1/admin/add-ons/{id}: one UPDATE. */
import { eq } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { addOns, type AddOn } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { invalidateCatalog } from './cache.js';
import type { AddOnDto, UpdateAddOnInput } from './schemas.js';
import { addOnDto } from './shared.js';

/** Writes, then invalidates the cached public catalog (./cache.ts), only once the write has succeeded. */
export async function updateAddOn(deps: Deps, requestUrl: string, id: string, input: UpdateAddOnInput): Promise<AddOnDto> {
  const result = await writeAddOn(deps, id, input);
  await invalidateCatalog(deps, requestUrl);
  return addOnDto(result);
}

async function writeAddOn(deps: Deps, id: string, input: UpdateAddOnInput): Promise<AddOn> {
  const [row] = await runQuery(deps.database, (db) => db
    .update(addOns)
    .set({ ...input, updatedAt: deps.clock.now() })
    .where(eq(addOns.id, id))
    .returning());
  if (!row) throw new ApiError('not_found', 'No such add-on.');
  return row;
}
