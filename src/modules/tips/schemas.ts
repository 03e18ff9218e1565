import { z } from '@hono/zod-openapi';
import { TIP_PRESETS } from '../../domain/tip.js';
import { instantOut, integer, integerOut, timestamp, uuidOut } from '../../http/schemas.js';

/** A preset percentage of the final total, or an amount: exactly one (src/domain/tip.ts). */
export const TipBody = z
  .object({
    percent: integer({ min: 10, max: 20 })
      .refine((p) => (TIP_PRESETS as readonly number[]).includes(p), 'must be 10, 15 or 20')
      .optional()
      .openapi({ enum: [...TIP_PRESETS], description: 'A preset: 10, 15 or 20 % of the order’s final total, rounded half up to a minor unit (then down to the currency’s step).', example: 15 }),
    amount: integer({ min: 1, max: 1_000_000_000 })
      .optional()
      .openapi({ description: 'The tip in minor units of the order’s currency, instead of a preset. At least one major unit (and Stripe’s minimum charge), at most half the final total.', example: 300 }),
  })
  .strict()
  .refine((b) => (b.percent === undefined) !== (b.amount === undefined), 'give exactly one of percent and amount')
  .openapi('TipRequest', { example: { percent: 15 } });

export const TipSchema = z
  .object({
    id: uuidOut(),
    orderId: uuidOut(),
    amount: integerOut().openapi({ description: 'Minor units.', example: 375 }),
    currency: z.string().openapi({ example: 'USD' }),
    percent: integerOut().nullable().openapi({ description: 'The preset asked for, or null for an amount.' }),
    method: z.enum(['card', 'cash']),
    status: z.enum(['pending', 'processing', 'succeeded']).openapi({
      description: '`succeeded`: charged (or, cash, received); `processing`: Stripe is still working on it (its webhook finishes it); `pending`: the charge was not answered yet (retry with the same key).',
    }),
    createdAt: instantOut(),
  })
  .openapi('Tip');

export const StaffTipsQuery = z.object({
  from: timestamp().optional().openapi({ description: 'Start of the range (inclusive). Default: 30 days before `to`.', example: '2026-11-01T00:00:00Z' }),
  to: timestamp().optional().openapi({ description: 'End of the range (exclusive). Default: now. At most 92 days after `from`.', example: '2026-12-01T00:00:00Z' }),
});

const StaffTip = z.object({
  id: uuidOut(),
  orderId: uuidOut(),
  amount: integerOut(),
  currency: z.string(),
  method: z.enum(['card', 'cash']),
  createdAt: instantOut(),
});

export const StaffTipsSchema = z
  .object({
    from: instantOut(),
    to: instantOut(),
    count: integerOut().openapi({ description: 'Tips received in the range.' }),
    totals: z.array(z.object({ currency: z.string(), amount: integerOut() })).openapi({ description: 'Sum per currency, minor units (one currency per shop).' }),
    data: z.array(StaffTip).openapi({ description: 'Newest first, at most 500 (`truncated` says when there were more; the totals count them all).' }),
    truncated: z.boolean(),
  })
  .openapi('StaffTips');

export type TipInput = z.infer<typeof TipBody>;
export type TipDto = z.infer<typeof TipSchema>;
export type StaffTipsDto = z.infer<typeof StaffTipsSchema>;
