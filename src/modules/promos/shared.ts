import { CHECK_VIOLATION, UNIQUE_VIOLATION, pgError } from '../../db/errors.js';
import type { promoCodes } from '../../db/schema.js';
import { ApiError } from '../../errors.js';
import type { PromoCodeDto } from './schemas.js';

type PromoRow = typeof promoCodes.$inferSelect;

export function toPromoCodeDto(p: PromoRow): PromoCodeDto {
  return {
    id: p.id,
    code: p.code,
    kind: p.kind,
    value: p.value,
    currency: p.currency,
    minimumSubtotal: p.minimumSubtotal,
    validFrom: p.validFrom?.toISOString() ?? null,
    validUntil: p.validUntil?.toISOString() ?? null,
    maxRedemptions: p.maxRedemptions,
    perCustomerLimit: p.perCustomerLimit,
    firstOrderOnly: p.firstOrderOnly,
    active: p.active,
    redemptionCount: p.redemptionCount,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** A write's database refusal as the API's: a taken code (409), a limit below the redemptions held (409). */
export function mapPromoError(err: unknown): never {
  const info = pgError(err);
  if (info?.code === UNIQUE_VIOLATION) throw new ApiError('promo_code_taken', 'Another promo code has this code.');
  if (info?.code === CHECK_VIOLATION && info.constraint === 'promo_codes_redemptions_within_limit') {
    throw new ApiError('promo_limit_below_redemptions', 'More orders hold this code than the new limit allows; raise the limit or deactivate the code.');
  }
  if (info?.code === CHECK_VIOLATION) {
    throw new ApiError('validation_failed', `The change breaks promo code rule ${info.constraint ?? ''}.`.trim(), [
      { field: 'body', message: `violates ${info.constraint ?? 'a check constraint'}` },
    ]);
  }
  throw err;
}
