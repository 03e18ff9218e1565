import { z } from '@hono/zod-openapi';
import { cursorParam } from '../../http/cursor.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_MIN_LENGTH, IDEMPOTENCY_KEY_PATTERN } from '../../domain/idempotency.js';
import { date, instantOut, integer, integerOut, queryInteger, text, uuid, uuidOut } from '../../http/schemas.js';
import { MAX_BAG_COUNT, MIN_BAG_COUNT, MISSED_PICKUP_REASONS, ORDER_FLAGS, ORDER_STATUSES } from '../../domain/order-status.js';
import { NoteText, OrderSchema, OrderSummarySchema } from '../orders/schemas.js';

const Id = uuid();

export const QueueQuery = z.object({
  status: z.enum(ORDER_STATUSES).optional().openapi({ example: 'confirmed' }),
  zone: Id.optional().openapi({ description: 'Only orders in this zone.', example: '5d1f0c9e-2b7a-4c3e-9f10-6a7b8c9d0e1f' }),
  date: date().optional().openapi({
    description: "The slot's local date in its zone's time zone (a 21:00 New York pickup is on the New York date, not the UTC one).",
    example: '2026-11-30',
  }),
  slot: Id.optional().openapi({ description: 'Only orders booked into this slot (a pickup or delivery slot, as `kind` says).' }),
  flag: z
    .enum([...ORDER_FLAGS, 'any'])
    .optional()
    .openapi({ description: 'Only orders with this flag open (`any`: with at least one): the orders that need a person.', example: 'any' }),
  kind: z
    .enum(['pickup', 'delivery'])
    .default('pickup')
    .openapi({ description: 'Which slot `date`, `slot` and the ordering refer to. Default `pickup`.', example: 'pickup' }),
  synthetic: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({
      description:
        'Whose orders: `false` (default) real customers only; `true` only the synthetic release-probe customer\'s (docs/runbook.md, "Synthetic customer (release probes)").',
      example: 'false',
    }),
  limit: queryInteger({ min: 1, max: 100 }).default(50),
  cursor: cursorParam().optional(),
});

export const StaffOrderSummarySchema = OrderSummarySchema.extend({
  zoneId: uuidOut(),
  express: z.boolean(),
  bagCount: integerOut().nullable(),
  weighedAt: instantOut().nullable(),
  address: OrderSchema.shape.address,
  flags: OrderSchema.shape.flags,
}).openapi('StaffOrderSummary');

export const QueuePageSchema = z
  .object({
    data: z.array(StaffOrderSummarySchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` (with the same `kind`) for the next page; null on the last page.' }),
  })
  .openapi('StaffOrderQueue');

export const TransitionBody = z
  .object({
    to: z.enum(ORDER_STATUSES).openapi({ example: 'picked_up' }),
    note: NoteText.optional().openapi({ description: 'Shown to the customer on the timeline.', example: 'Left with the concierge' }),
    bagCount: integer({ min: MIN_BAG_COUNT, max: MAX_BAG_COUNT })
      .optional()
      .openapi({ description: `Required for \`picked_up\` (${MIN_BAG_COUNT}–${MAX_BAG_COUNT}); refused on any other step.`, example: 3 }),
    reason: z
      .enum(MISSED_PICKUP_REASONS)
      .optional()
      .openapi({ description: 'Required for `pickup_missed` (why the laundry could not be collected; say more in `note`); refused on any other step.', example: 'customer_absent' }),
  })
  .strict()
  .openapi('StaffTransitionRequest', { example: { to: 'picked_up', bagCount: 3, note: 'Two bags and a suit carrier' } });

export const CancelOrderBody = z
  .object({ reason: text({ min: 1, max: 500 }).optional() })
  .strict()
  .openapi('CancelOrderRequest');

export const RefundBody = z
  .object({
    amount: integer({ min: 1, max: 10_000_000 }).openapi({ description: 'Minor units.', example: 500 }),
    reason: text({ min: 3, max: 500 }).openapi({ example: 'Shirt returned with a stain' }),
    destination: z
      .enum(['card', 'credit'])
      .default('card')
      .openapi({
        description:
          '`card` (default): Stripe refunds of the captured card money. `credit`: the amount goes to the customer’s account credit instead (no Stripe call; a `refund_to_credit` entry naming the order in their credit history); requires `Idempotency-Key`. Both count against one total: what was captured on the card.',
        example: 'card',
      }),
  })
  .strict()
  .openapi('RefundRequest');

/**
 * Required for `destination: "credit"` (one write with no Stripe key behind it); ignored for a card refund.
 * Only typed here, as orders' IdempotencyHeader: validateIdempotencyKey owns the rule, so a key far
 * too long is 400 `idempotency_key_invalid` like any other malformed key, not 422 `validation_failed`.
 */
export const RefundHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header', required: false },
      minLength: IDEMPOTENCY_KEY_MIN_LENGTH,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: IDEMPOTENCY_KEY_PATTERN.source,
      description:
        'Required for a refund to credit (400 `idempotency_key_missing` / `idempotency_key_invalid`): the same key and body again answers the first refund (`Idempotent-Replayed: true`) and adds nothing; another body, 422 `idempotency_key_reused`. Card refunds are made safe to retry by Stripe keys derived from our own rows.',
    }),
});

export const WaiveBalanceBody = z
  .object({
    reason: text({ min: 1, max: 500 }).openapi({
      description: 'Why the shop will not collect it. Shown on the order’s timeline with the admin.',
      example: 'Card hold expired; regular customer, goodwill',
    }),
    amount: integer({ min: 1, max: 10_000_000 })
      .optional()
      .openapi({
        description: 'Minor units of the order’s currency. Default: the whole outstanding amount. More than is outstanding is 422 `waiver_exceeds_outstanding`.',
        example: 2409,
      }),
  })
  .strict()
  .openapi('WaiveBalanceRequest');

export const InPersonBody = z
  .object({
    method: z.enum(['cash', 'card_present']),
    amount: integer({ min: 0, max: 10_000_000 }).openapi({ description: 'Minor units taken at the door: exactly the amount due (the final total); anything else is 422 `payment_amount_mismatch` with `details.due`.', example: 2149 }),
  })
  .strict()
  .openapi('InPersonPaymentRequest');

export const RefundSchema = z
  .object({
    refundId: uuidOut().openapi({ description: 'The first refund row (card), or the credit entry (credit).' }),
    amount: integerOut().openapi({ description: 'Minor units, as asked.' }),
    destination: z.enum(['card', 'credit']),
    status: z.enum(['succeeded', 'pending', 'failed']).openapi({
      description:
        'Stripe’s answer (https://docs.stripe.com/api/refunds/object#refund_object-status). `succeeded`: done. `pending`: accepted, ' +
        'not finished yet (some payment methods, or a Stripe balance too low to cover it); the amount stays reserved and the ' +
        'outcome arrives by webhook (or the payments job): it may still fail. `failed`: Stripe failed or canceled it at once; ' +
        'the amount can be refunded again and the order is flagged `refund_failed`. A refund that fails later (a card refund ' +
        'can, even after `succeeded`) is recorded the same way, on the timeline and as the `refund_failed` flag. A refund to credit is always `succeeded`.',
    }),
  })
  .openapi('Refund');

export type QueueQueryInput = z.infer<typeof QueueQuery>;
export type StaffOrderSummaryDto = z.infer<typeof StaffOrderSummarySchema>;
