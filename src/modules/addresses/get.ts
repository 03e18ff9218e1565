/** GET /v1/addresses/{id}: one of the caller's addresses, with its zone. One statement. */
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import type { AddressDto } from './schemas.js';
import { AddressRow, notFound, ownedDto, withZone } from './shared.js';

export async function getAddress(deps: Deps, userId: string, id: string): Promise<AddressDto> {
  const [row] = await deps.database.rows(
    AddressRow,
    withZone(sql`(SELECT * FROM addresses WHERE id = ${id}::uuid AND user_id = ${userId}::uuid)`),
  );
  if (!row) throw notFound();
  return ownedDto(deps, userId, row);
}
