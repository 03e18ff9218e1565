import { z } from '@hono/zod-openapi';
import { CREDIT_REASONS } from '../../db/schema.js';
import { cursorParam } from '../../http/cursor.js';
import { instantOut, integer, integerOut, queryInteger, text, uuidOut } from '../../http/schemas.js';

/** The reasons an admin may grant credit for; the order flow writes `order_applied` and `order_released` itself. */
export const GRANT_REASONS = ['goodwill', 'refund_to_credit', 'promo_reward'] as const;

export const CreditEntrySchema = z
  .object({
    id: uuidOut(),
    amount: integerOut().openapi({ description: 'Signed minor units: positive = credit given, negative = spent on an order.', example: 500 }),
    currency: z.string().openapi({ example: 'GBP' }),
    reason: z.enum(CREDIT_REASONS).openapi({
      description: '`goodwill`, `refund_to_credit`, `promo_reward`: granted by an admin; `refund_to_credit` with an `orderId` is that order’s card money refunded to credit (POST /v1/staff/orders/{id}/refunds, `destination: "credit"`). `order_applied`: spent on `orderId`. `order_released`: given back when `orderId` was cancelled.',
    }),
    note: z.string().nullable().openapi({ example: 'Sorry about the late delivery' }),
    orderId: uuidOut().nullable(),
    createdAt: instantOut(),
  })
  .openapi('CreditEntry');
export type CreditEntryDto = z.infer<typeof CreditEntrySchema>;

export const CreditAccountSchema = z
  .object({
    balance: integerOut().openapi({ description: 'Minor units; never negative. Equal to the sum of every entry.', example: 1500 }),
    currency: z.string().openapi({ example: 'GBP' }),
    entries: z.array(CreditEntrySchema).openapi({ description: 'Newest first, one page.' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page of entries; null on the last page.' }),
  })
  .openapi('CreditAccount');
export type CreditAccountDto = z.infer<typeof CreditAccountSchema>;

export const CreditQuery = z.object({
  limit: queryInteger({ min: 1, max: 100 }).default(20),
  cursor: cursorParam().optional(),
});

export const GrantCreditBody = z
  .object({
    amount: integer({ min: 1, max: 10_000_000 }).openapi({ description: 'Minor units of the shop’s currency to add (positive).', example: 500 }),
    reason: z.enum(GRANT_REASONS),
    note: text({ min: 1, max: 500 }).openapi({ description: 'Why: shown to the customer in their credit history.', example: 'Sorry about the late delivery' }),
  })
  .strict()
  .openapi('GrantCreditRequest', { example: { amount: 500, reason: 'goodwill', note: 'Sorry about the late delivery' } });
export type GrantCreditInput = z.infer<typeof GrantCreditBody>;
