import { z } from '@hono/zod-openapi';
import { cursorParam } from '../../http/cursor.js';
import { date, text } from '../../http/schemas.js';
import { MAX_BAG_COUNT, MAX_NOTE_LENGTH, MIN_BAG_COUNT, ORDER_STATUSES } from '../../domain/order-status.js';
import { MAX_GRAMS_PER_LINE } from '../../domain/pricing.js';
import { OrderSchema, OrderSummarySchema } from '../orders/schemas.js';
import { ORDER_FLAGS } from '../orders/flags.js';

const Id = z.uuid({ message: 'must be a UUID' });
const Note = text({ max: MAX_NOTE_LENGTH });

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
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorParam().optional(),
});

export const StaffOrderSummarySchema = OrderSummarySchema.extend({
  zoneId: z.uuid(),
  express: z.boolean(),
  bagCount: z.number().int().nullable(),
  weighedAt: z.iso.datetime().nullable(),
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
    note: Note.optional().openapi({ description: 'Shown to the customer on the timeline.', example: 'Left with the concierge' }),
    bagCount: z
      .number()
      .int()
      .min(MIN_BAG_COUNT)
      .max(MAX_BAG_COUNT)
      .optional()
      .openapi({ description: `Required for \`picked_up\` (${MIN_BAG_COUNT}–${MAX_BAG_COUNT}); refused on any other step.`, example: 3 }),
  })
  .strict()
  .openapi('StaffTransitionRequest', { example: { to: 'picked_up', bagCount: 3, note: 'Two bags and a suit carrier' } });

const Grams = z.number().int().min(1).max(MAX_GRAMS_PER_LINE);

export const WeighInLine = z
  .object({
    position: z.number().int().min(0).max(19).openapi({ description: "The line's index in the order's `lines` (0-based).", example: 0 }),
    weightGrams: Grams.optional().openapi({ description: 'per_kg lines: the weighed weight. Required for each of them.', example: 7250 }),
    quantity: z.number().int().min(1).max(1000).optional().openapi({ description: 'per_item lines: the counted items, if not as ordered.' }),
  })
  .strict();

export const WeighInBody = z
  .object({
    weightGrams: Grams.optional().openapi({ description: 'Shorthand for an order with exactly one per_kg line.', example: 7250 }),
    lines: z.array(WeighInLine).max(20).optional(),
    note: Note.optional().openapi({ example: 'One extra bag of towels' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.weightGrams === undefined) === (body.lines === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give either weightGrams or lines, not both' });
    }
  })
  .openapi('WeighInRequest', {
    description: 'Either `weightGrams` (the order has exactly one per_kg line) or `lines`.',
    example: { lines: [{ position: 0, weightGrams: 7250 }, { position: 1, quantity: 4 }], note: 'One shirt fewer than booked' },
  });

export type QueueQueryInput = z.infer<typeof QueueQuery>;
export type StaffOrderSummaryDto = z.infer<typeof StaffOrderSummarySchema>;
export type WeighInInput = z.infer<typeof WeighInBody>;
