/** PATCH /v1/addresses/{id}: change the fields sent, then read it back with its zone. One statement. */
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import type { AddressDto, UpdateAddressInput } from './schemas.js';
import { AddressRow, notFound, ownedDto, withZone } from './shared.js';

/** Request field → column. A fixed map, so no client-supplied name ever reaches SQL. */
const COLUMNS: Record<keyof UpdateAddressInput, string> = {
  label: 'label',
  line1: 'line1',
  line2: 'line2',
  city: 'city',
  postcode: 'postcode',
  instructions: 'instructions',
};

export async function updateAddress(deps: Deps, userId: string, id: string, input: UpdateAddressInput): Promise<AddressDto> {
  const sets = (Object.keys(input) as Array<keyof UpdateAddressInput>)
    .filter((k) => input[k] !== undefined)
    .map((k) => sql`${sql.identifier(COLUMNS[k])} = ${input[k]}`);
  sets.push(sql`updated_at = ${deps.clock.now().toISOString()}::timestamptz`);
  const [row] = await deps.database.rows(AddressRow, sql`
    WITH upd AS (
      UPDATE addresses SET ${sql.join(sets, sql`, `)}
      WHERE id = ${id}::uuid AND user_id = ${userId}::uuid
      RETURNING *
    )
    ${withZone(sql`upd`)}`);
  if (!row) throw notFound();
  return ownedDto(deps, userId, row);
}
