/**
 * A customer's saved addresses. Every function is one SQL statement that also matches the
 * postcode to its zone (see ../scheduling/sql.ts), so `served` is always current and each
 * endpoint is one round trip. Every statement filters by user_id: another customer's
 * address is indistinguishable from a missing one.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { FOREIGN_KEY_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { isoOf, zoneForPostcode } from '../scheduling/sql.js';
import type { AddressDto, CreateAddressInput, UpdateAddressInput } from './schemas.js';

export const MAX_ADDRESSES_PER_USER = 20;
const LIST_CAP = 100;

const AddressRow = z.object({
  id: z.string(),
  label: z.string().nullable(),
  line1: z.string(),
  line2: z.string().nullable(),
  city: z.string(),
  postcode: z.string(),
  instructions: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  zone_id: z.string().nullable(),
});
type AddressRow = z.infer<typeof AddressRow>;
const IdRow = z.object({ id: z.string() });

function toDto(r: AddressRow): AddressDto {
  return {
    id: r.id,
    label: r.label,
    line1: r.line1,
    line2: r.line2,
    city: r.city,
    postcode: r.postcode,
    instructions: r.instructions,
    served: r.zone_id !== null,
    zoneId: r.zone_id,
    createdAt: isoOf(r.created_at),
    updatedAt: isoOf(r.updated_at),
  };
}

/** Selects the DTO columns from a relation `a` of address rows, with each one's zone. */
const withZone = (source: SQL) => sql`
  SELECT a.id, a.label, a.line1, a.line2, a.city, a.postcode, a.instructions, a.created_at, a.updated_at, m.id AS zone_id
  FROM ${source} a
  LEFT JOIN LATERAL (${zoneForPostcode(sql`a.postcode`)}) m ON true`;

const notFound = () => new ApiError('not_found', 'No such address.');

export async function listAddresses(deps: Deps, userId: string): Promise<AddressDto[]> {
  const rows = await deps.database.rows(AddressRow, sql`
    ${withZone(sql`(SELECT * FROM addresses WHERE user_id = ${userId}::uuid ORDER BY created_at DESC, id DESC LIMIT ${LIST_CAP})`)}
    ORDER BY a.created_at DESC, a.id DESC`);
  return rows.map(toDto);
}

export async function getAddress(deps: Deps, userId: string, id: string): Promise<AddressDto> {
  const [row] = await deps.database.rows(
    AddressRow,
    withZone(sql`(SELECT * FROM addresses WHERE id = ${id}::uuid AND user_id = ${userId}::uuid)`),
  );
  if (!row) throw notFound();
  return toDto(row);
}

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
  return toDto(row);
}

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
  return toDto(row);
}

/** Orders keep their own snapshot of the address; orders.address_id is ON DELETE SET NULL. */
export async function deleteAddress(deps: Deps, userId: string, id: string): Promise<void> {
  const rows = await deps.database.rows(
    IdRow,
    sql`DELETE FROM addresses WHERE id = ${id}::uuid AND user_id = ${userId}::uuid RETURNING id`,
  );
  if (rows.length === 0) throw notFound();
}
