/** GET /v1/addresses: the caller's addresses, newest first, with their zones. One statement. */
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import type { AddressDto } from './schemas.js';
import { AddressRow, ownedDto, withZone } from './shared.js';

const LIST_CAP = 100;

export async function listAddresses(deps: Deps, userId: string): Promise<AddressDto[]> {
  const rows = await deps.database.rows(AddressRow, sql`
    ${withZone(sql`(SELECT * FROM addresses WHERE user_id = ${userId}::uuid ORDER BY created_at DESC, id DESC LIMIT ${LIST_CAP})`)}
    ORDER BY a.created_at DESC, a.id DESC`);
  return rows.map((r) => ownedDto(deps, userId, r));
}
