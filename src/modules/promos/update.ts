/** PATCH /v1/admin/promo-codes/{id}: one UPDATE (a refusal costs one more read, to say why). */
import { and, eq, sql } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { promoCodes } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { PromoCodeDto, UpdatePromoCodeInput } from './schemas.js';
import { mapPromoError, toPromoCodeDto } from './shared.js';

const redeemed = (id: string) => sql`EXISTS (SELECT 1 FROM orders o WHERE o.promo_code_id = ${id}::uuid)`;

/** SQL: the window the PATCH leaves (a sent end, else the stored one) is empty: it ends at or before it starts. */
function emptyWindow(input: UpdatePromoCodeInput) {
  const from = input.validFrom === undefined ? sql`${promoCodes.validFrom}` : sql`${input.validFrom}::timestamptz`;
  const until = input.validUntil === undefined ? sql`${promoCodes.validUntil}` : sql`${input.validUntil}::timestamptz`;
  return sql`COALESCE(${until} <= ${from}, false)`;
}

/**
 * Changes only the fields sent. Limits, window, minimum, first-order and `active` may change at
 * any time (orders already placed keep their discount); `kind` and `value` only while no order
 * has ever redeemed the code, cancelled ones included (409 `promo_code_redeemed`): an order's
 * weigh-in re-applies the code as it was. A `maxRedemptions` below the redemptions held is 409
 * `promo_limit_below_redemptions` (the table's CHECK). A window left empty (the sent `validFrom`
 * or `validUntil` against the stored other end) is 422 `validation_failed`, nothing saved: the
 * body's own check sees only the fields sent. Unknown id: 404.
 */
export async function updatePromoCode(deps: Deps, id: string, input: UpdatePromoCodeInput): Promise<PromoCodeDto> {
  const { validFrom, validUntil, ...rest } = input;
  const changesValue = input.kind !== undefined || input.value !== undefined;
  const movesWindow = validFrom !== undefined || validUntil !== undefined;
  const changes = {
    ...rest,
    ...(validFrom === undefined ? {} : { validFrom: validFrom === null ? null : new Date(validFrom) }),
    ...(validUntil === undefined ? {} : { validUntil: validUntil === null ? null : new Date(validUntil) }),
    ...(input.kind === undefined ? {} : { currency: input.kind === 'amount' ? deps.config.currency : null }),
    updatedAt: deps.clock.now(),
  };
  let rows;
  try {
    rows = await runQuery(deps.database, (db) => db
      .update(promoCodes)
      .set(changes)
      .where(and(eq(promoCodes.id, id), changesValue ? sql`NOT ${redeemed(id)}` : undefined, movesWindow ? sql`NOT ${emptyWindow(input)}` : undefined))
      .returning());
  } catch (err) {
    mapPromoError(err);
  }
  if (rows[0]) return toPromoCodeDto(rows[0]);
  const [exists] = await runQuery(deps.database, (db) =>
    db.select({ id: promoCodes.id, empty: movesWindow ? sql<boolean>`${emptyWindow(input)}` : sql<boolean>`false` }).from(promoCodes).where(eq(promoCodes.id, id)));
  if (!exists) throw new ApiError('not_found', 'No such promo code.');
  if (exists.empty) {
    const field = validUntil !== undefined ? 'validUntil' : 'validFrom';
    throw new ApiError('validation_failed', 'The code’s window would end at or before it starts.', [
      { field: `body.${field}`, message: field === 'validUntil' ? 'must be after validFrom' : 'must be before validUntil' },
    ]);
  }
  throw new ApiError('promo_code_redeemed', 'Orders have redeemed this code: its kind and value are fixed. Deactivate it and create another.');
}
