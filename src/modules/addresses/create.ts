/** POST /v1/addresses: save an address, at most MAX_ADDRESSES_PER_USER per user. One statement. */
import { sql } from 'drizzle-orm';
import { FOREIGN_KEY_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { AddressDto, CreateAddressInput } from './schemas.js';
import { AddressRow, ownedDto, withZone } from './shared.js';

export const MAX_ADDRESSES_PER_USER = 20;

/**
 * The per-user limit is checked inside the INSERT itself, so there is no separate read.
 * (Two requests racing at 19 could both pass under READ COMMITTED; the limit is a guard
 * against abuse, not an invariant worth a lock.)
 */
export async function createAddress(deps: Deps, userId: string, input: CreateAddressInput): Promise<AddressDto> {
  const now = deps.clock.now().toISOString();
  let rows: AddressRow[];
  try {
    rows = await deps.database.rows(AddressRow, sql`
      WITH ins AS (
        INSERT INTO addresses (user_id, label, line1, line2, city, postcode, instructions, created_at, updated_at)
        SELECT ${userId}::uuid, ${input.label ?? null}, ${input.line1}, ${input.line2 ?? null}, ${input.city},
               ${input.postcode}, ${input.instructions ?? null}, ${now}::timestamptz, ${now}::timestamptz
        WHERE (SELECT count(*) FROM addresses WHERE user_id = ${userId}::uuid) < ${MAX_ADDRESSES_PER_USER}
        RETURNING *
      )
      ${withZone(sql`ins`)}`);
  } catch (err) {
    if (pgError(err)?.code === FOREIGN_KEY_VIOLATION) {
      throw new ApiError('invalid_token', 'The account behind this token no longer exists.');
    }
    throw err;
  }
  const [row] = rows;
  if (!row) {
    throw new ApiError('address_limit_reached', `You can save at most ${MAX_ADDRESSES_PER_USER} addresses; delete one first.`);
  }
  return ownedDto(deps, userId, row);
}
