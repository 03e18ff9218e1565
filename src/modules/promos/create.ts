/** POST /v1/admin/promo-codes: one INSERT. */
import { runQuery } from '../../db/client.js';
import { promoCodes } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { CreatePromoCodeInput, PromoCodeDto } from './schemas.js';
import { mapPromoError, toPromoCodeDto } from './shared.js';

/** An `amount` code is in the shop's currency (`CURRENCY`), as every price is. 409 `promo_code_taken`. */
export async function createPromoCode(deps: Deps, input: CreatePromoCodeInput): Promise<PromoCodeDto> {
  const now = deps.clock.now();
  try {
    const [row] = await runQuery(deps.database, (db) => db
      .insert(promoCodes)
      .values({
        ...input,
        validFrom: input.validFrom === null ? null : new Date(input.validFrom),
        validUntil: input.validUntil === null ? null : new Date(input.validUntil),
        currency: input.kind === 'amount' ? deps.config.currency : null,
        createdAt: now,
        updatedAt: now,
      })
      .returning());
    return toPromoCodeDto(row!);
  } catch (err) {
    mapPromoError(err);
  }
}
