import { z } from '@hono/zod-openapi';
import { PROMO_CODE_PATTERN } from '../../domain/promo.js';
import { instantOut, integer, integerOut, text, timestamp, uuidOut } from '../../http/schemas.js';

const MinorUnits = integer({ min: 1, max: 10_000_000 });

/** A code as admins type it: trimmed and upper-cased before the rule is checked; stored so. */
const Code = text({ max: 64 })
  .transform((v) => v.toUpperCase())
  .pipe(z.string().regex(PROMO_CODE_PATTERN, 'must be 3–32 of A–Z, 0–9 and -'))
  .openapi({ type: 'string', maxLength: 64, description: 'Case-insensitive: stored trimmed and upper case. 3–32 of A–Z, 0–9 and `-`.', example: 'WELCOME-10' });

const limits = {
  minimumSubtotal: integer({ min: 1, max: 10_000_000 }).nullable().openapi({ description: 'Minor units: the order subtotal (lines, before fees) must reach it. Null = none.', example: 2000 }),
  validFrom: timestamp().nullable().openapi({ description: 'UTC instant from which the code works (inclusive). Null = at once.' }),
  validUntil: timestamp().nullable().openapi({ description: 'UTC instant at which the code stops working (exclusive). Null = never.' }),
  maxRedemptions: integer({ min: 1, max: 10_000_000 }).nullable().openapi({ description: 'Redemptions by orders that are not cancelled, all customers together. Null = unlimited.', example: 100 }),
  perCustomerLimit: integer({ min: 1, max: 1000 }).openapi({ description: 'Redemptions per customer (orders not cancelled).', example: 1 }),
  firstOrderOnly: z.boolean().openapi({ description: 'Only for a customer with no order that is not cancelled.' }),
  active: z.boolean().openapi({ description: 'False: refused as `promo_code_inactive`.' }),
};

const kindValue = {
  kind: z.enum(['percent', 'amount']).openapi({ description: '`percent`: `value` is basis points of the subtotal (1000 = 10%). `amount`: `value` is minor units of the shop’s currency.' }),
  value: MinorUnits.openapi({ description: 'Basis points 1..10000 (`percent`) or minor units (`amount`).', example: 1000 }),
};

function windowAndValue(b: { kind?: string; value?: number; validFrom?: string | null; validUntil?: string | null }, ctx: z.RefinementCtx) {
  if (b.kind === 'percent' && b.value !== undefined && b.value > 10_000) {
    ctx.addIssue({ code: 'custom', path: ['value'], message: 'a percent code takes 1..10000 basis points' });
  }
  if (b.validFrom && b.validUntil && b.validUntil <= b.validFrom) {
    ctx.addIssue({ code: 'custom', path: ['validUntil'], message: 'must be after validFrom' });
  }
}

export const CreatePromoCodeBody = z
  .object({
    code: Code,
    ...kindValue,
    minimumSubtotal: limits.minimumSubtotal.default(null),
    validFrom: limits.validFrom.default(null),
    validUntil: limits.validUntil.default(null),
    maxRedemptions: limits.maxRedemptions.default(null),
    perCustomerLimit: limits.perCustomerLimit.default(1),
    firstOrderOnly: limits.firstOrderOnly.default(false),
    active: limits.active.default(true),
  })
  .strict()
  .superRefine(windowAndValue)
  .openapi('CreatePromoCodeRequest', {
    example: { code: 'WELCOME-10', kind: 'percent', value: 1000, maxRedemptions: 500, perCustomerLimit: 1, firstOrderOnly: true, validUntil: '2027-01-31T23:59:59Z' },
  });
export type CreatePromoCodeInput = z.infer<typeof CreatePromoCodeBody>;

export const UpdatePromoCodeBody = z
  .object({
    kind: kindValue.kind.optional(),
    value: kindValue.value.optional(),
    minimumSubtotal: limits.minimumSubtotal.optional(),
    validFrom: limits.validFrom.optional(),
    validUntil: limits.validUntil.optional(),
    maxRedemptions: limits.maxRedemptions.optional(),
    perCustomerLimit: limits.perCustomerLimit.optional(),
    firstOrderOnly: limits.firstOrderOnly.optional(),
    active: limits.active.optional(),
  })
  .strict()
  .superRefine(windowAndValue)
  .openapi('UpdatePromoCodeRequest', { example: { active: false } });
export type UpdatePromoCodeInput = z.infer<typeof UpdatePromoCodeBody>;

export const PromoCodeSchema = z
  .object({
    id: uuidOut(),
    code: z.string().openapi({ example: 'WELCOME-10' }),
    kind: z.enum(['percent', 'amount']),
    value: integerOut().openapi({ example: 1000 }),
    currency: z.string().nullable().openapi({ description: '`amount` codes: the shop’s currency. Null for `percent`.', example: null }),
    minimumSubtotal: integerOut().nullable(),
    validFrom: instantOut().nullable(),
    validUntil: instantOut().nullable(),
    maxRedemptions: integerOut().nullable(),
    perCustomerLimit: integerOut(),
    firstOrderOnly: z.boolean(),
    active: z.boolean(),
    redemptionCount: integerOut().openapi({ description: 'Orders holding the code now (cancelled orders gave theirs back).', example: 12 }),
    createdAt: instantOut(),
    updatedAt: instantOut(),
  })
  .openapi('PromoCode');
export type PromoCodeDto = z.infer<typeof PromoCodeSchema>;

export const PromoCodeListSchema = z.object({ data: z.array(PromoCodeSchema) }).openapi('PromoCodeList');
