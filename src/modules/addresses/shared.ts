/**
 * Private to the addresses module: the row → DTO mapping and the select every operation ends
 * with, which also matches each address's postcode to its zone (../scheduling/zone-match.ts),
 * for the address's owner (a synthetic user's addresses match synthetic zones only), so `served`
 * is always current and each endpoint is one round trip. Every statement of the
 * module filters by user_id: another customer's address is indistinguishable from a missing one.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { AddressSnapshotSchema } from '../../db/address-snapshot.js';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { zoneForPostcode } from '../scheduling/zone-match.js';
import type { AddressDto } from './schemas.js';

/** An address as the module's statements read it back (withZone's columns): checked as it enters. */
export const AddressRow = AddressSnapshotSchema.extend({
  id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  zone_id: z.string().nullable(),
});
export type AddressRow = z.infer<typeof AddressRow>;

/** The row of a statement that answers only which address it touched. */
export const IdRow = z.object({ id: z.string() });

/**
 * The DTO of a row the caller owns; the row is also remembered for the caller's next order
 * (`deps.orderInputs`, src/db/order-inputs.ts: the order's one write re-checks it).
 */
export function ownedDto(deps: Deps, userId: string, r: AddressRow): AddressDto {
  deps.orderInputs.putAddress({
    id: r.id, userId, label: r.label, line1: r.line1, line2: r.line2, city: r.city, postcode: r.postcode, instructions: r.instructions,
  });
  return toDto(r);
}

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
export const withZone = (source: SQL) => sql`
  SELECT a.id, a.label, a.line1, a.line2, a.city, a.postcode, a.instructions, a.created_at, a.updated_at, m.id AS zone_id
  FROM ${source} a
  LEFT JOIN LATERAL (${zoneForPostcode(sql`a.postcode`, { userId: sql`a.user_id` })}) m ON true`;

/** 404 `not_found`: no such address, or another customer's. */
export const notFound = () => new ApiError('not_found', 'No such address.');
