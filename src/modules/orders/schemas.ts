import { z } from '@hono/zod-openapi';
import { AddressSnapshotSchema } from '../../db/address-snapshot.js';
import { cursorParam } from '../../http/cursor.js';
import { instantOut, integer, integerOut, queryInteger, text, uuid, uuidOut } from '../../http/schemas.js';
import { MAX_NOTE_LENGTH, MISSED_PICKUP_REASONS, ORDER_FLAGS, ORDER_STATUSES } from '../../domain/order-status.js';
import { MAX_GRAMS_PER_LINE } from '../../domain/pricing.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_MIN_LENGTH, IDEMPOTENCY_KEY_PATTERN } from '../../domain/idempotency.js';

const Id = uuid();
/** A note staff write on the timeline (shown to the customer). */
export const NoteText = text({ max: MAX_NOTE_LENGTH });

export const OrderItemInput = z
  .object({
    serviceId: Id.openapi({ example: '7eceaf28-2b38-41fe-ba85-6d05eafd41a1' }),
    quantity: integer({ min: 1, max: 1000 }).optional().openapi({ description: 'per_item services: number of pieces.' }),
    estimatedWeightGrams: integer({ min: 100, max: 100_000 })
      .optional()
      .openapi({ description: 'per_kg services: the customer’s estimate; the final price comes from the weigh-in.', example: 6000 }),
    addOnIds: z.array(Id).max(10).default([]),
  })
  .strict();

/** Strict: a client-sent price (`total`, `unitPrice`, …) is rejected, never trusted. */
export const CreateOrderBody = z
  .object({
    items: z.array(OrderItemInput).min(1, 'an order needs at least one item').max(20),
    express: z.boolean().default(false),
    addressId: Id,
    pickupSlotId: Id,
    deliverySlotId: Id,
    notes: text({ max: 1000 }).optional(),
    paymentMethod: z.enum(['card', 'on_delivery']).openapi({
      description: '`card`: the order waits for payment (`pending_payment`). `on_delivery`: confirmed at once; staff take payment at the door.',
    }),
    promoCode: text({ max: 64 }).optional().openapi({
      description:
        'A promo code, any case, surrounding spaces ignored. The server computes the discount (shown as `estimate.discount`); a code that cannot be used answers 422/409 with a `promo_code_*` code and nothing is written.',
      example: 'WELCOME-10',
    }),
    useCredit: z.boolean().optional().openapi({
      description:
        'Default false. True: the account credit (GET /v1/me/credit) pays as much of the order as it can, after the discount (`estimate.creditApplied`); a card order keeps at least Stripe’s minimum charge on the card. Given back if the order is cancelled.',
      example: false,
    }),
  })
  .strict()
  .openapi('CreateOrderRequest', {
    example: {
      items: [{ serviceId: '7eceaf28-2b38-41fe-ba85-6d05eafd41a1', estimatedWeightGrams: 6000, addOnIds: [] }],
      express: false,
      addressId: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
      pickupSlotId: '6f1c2d1e-8d6e-4f0b-9a51-0c1e2a3b4c5d',
      deliverySlotId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      paymentMethod: 'card',
    },
  });

export const IdempotencyHeader = z.object({
  // Only typed here: the rule is the handler's (validateIdempotencyKey), so every malformed key,
  // one far too long included, is 400 `idempotency_key_invalid` like any other malformed header
  // (a zod bound answered 422 `validation_failed` past 1024 characters). The HTTP servers bound
  // the size of a request's headers (Node: 16 KiB by default, then 431).
  'idempotency-key': z
    .string()
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header', required: true },
      // The document states the rule itself (src/domain/idempotency.ts), which the handler
      // enforces as 400 `idempotency_key_missing` / `idempotency_key_invalid`.
      minLength: IDEMPOTENCY_KEY_MIN_LENGTH,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: IDEMPOTENCY_KEY_PATTERN.source,
      description: 'Required. 8–255 characters of [A-Za-z0-9_:.-], unique per attempt, scoped to the caller. A retry with the same key and body returns the original response; the same key with another body is refused (422 `idempotency_key_reused`). Keys are kept at least 24 hours (as Stripe does), then removed: retry within that window.',
      example: 'order-2026-11-28-7f3a9c',
    }),
});

const Money = integerOut();

const PricedLineSchema = z.object({
  serviceId: uuidOut(),
  pricingModel: z.enum(['per_kg', 'per_item']),
  unitPrice: Money,
  quantity: integerOut().nullable(),
  weightGrams: integerOut().nullable(),
  baseAmount: Money,
  addOnIds: z.array(uuidOut()),
  addOnsAmount: Money,
  expressSurcharge: Money,
  lineTotal: Money,
});

export const PriceBreakdownSchema = z
  .object({
    currency: z.string().openapi({ example: 'USD' }),
    lines: z.array(PricedLineSchema),
    subtotal: Money.openapi({ example: 1500 }),
    expressSurcharge: Money,
    minimumOrderFee: Money,
    deliveryFee: Money.openapi({ example: 499 }),
    roundingAdjustment: Money.optional().openapi({
      description:
        'Only in three-decimal currencies (BHD, JOD, KWD, OMR, TND), when not zero: the thousandths taken off the sum so the total is a multiple of 10, as Stripe requires. Rounded down, in the customer’s favour.',
      example: 5,
    }),
    discount: z
      .object({ code: z.string().openapi({ example: 'WELCOME-10' }), amount: Money.openapi({ example: 150 }) })
      .optional()
      .openapi({
        description:
          'Only with a promo code: the code and the minor units it took off the subtotal (percent codes round half up; never below the zone’s minimum order; a multiple of the currency’s Stripe step). Fees are decided on the undiscounted subtotal.',
      }),
    creditApplied: Money.optional().openapi({ description: 'Only when account credit was used: the minor units of credit spent on this order.', example: 500 }),
    total: Money.openapi({ description: 'What the card or the door pays: subtotal and fees, less the discount and the credit.', example: 1999 }),
  })
  .openapi('PriceBreakdown');

const SlotRef = z.object({ id: uuidOut(), startsAt: instantOut(), endsAt: instantOut() });

export const TimelineEntrySchema = z
  .object({
    at: instantOut(),
    actor: z.object({ role: z.enum(['customer', 'staff', 'admin', 'system']), userId: uuidOut().nullable() }),
    type: z.enum(['created', 'status_changed', 'weighed', 'payment', 'rescheduled']),
    from: z.enum(ORDER_STATUSES).nullable(),
    to: z.enum(ORDER_STATUSES).nullable(),
    note: z.string().nullable(),
    evidence: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('TimelineEntry');

export const OrderLineSchema = z.object({
  serviceId: uuidOut(),
  serviceName: z.string(),
  pricingModel: z.enum(['per_kg', 'per_item']),
  unitPrice: Money,
  quantity: integerOut().nullable(),
  estimatedWeightGrams: integerOut().nullable(),
  finalQuantity: integerOut().nullable(),
  finalWeightGrams: integerOut().nullable(),
  addOns: z.array(z.object({ id: uuidOut(), name: z.string(), price: Money })),
  estimatedTotal: Money,
  finalTotal: Money.nullable(),
});

/** The order's balance (src/domain/balance.ts `orderBalance`), minor units of the order's currency. */
export const OrderBalanceSchema = z
  .object({
    due: Money.openapi({
      description: 'What the customer owes: the estimate until the weigh-in, then the final total; 0 once cancelled.',
      example: 2409,
    }),
    authorised: Money.openapi({ description: 'Held on the card (a PaymentIntent in `requires_capture`) and not captured yet.', example: 0 }),
    paid: Money.openapi({ description: 'Captured on the card (hold, overage and balance charges) or taken at the door. Refunds do not reduce it.', example: 2399 }),
    refunded: Money.openapi({
      description: 'Given back to the customer on the card (Stripe refunds), whatever the reason. A refund to account credit is not in it: see `refundedToCredit`.',
      example: 0,
    }),
    refundedToCredit: Money.openapi({
      description:
        'Given back to the customer as account credit instead of to the card (POST /v1/staff/orders/{id}/refunds with `destination: "credit"`): the sum of the `refund_to_credit` entries naming this order in the customer’s credit history. Not part of `refunded`; `refunded + refundedToCredit` is all that was given back, at most what was captured by card. Like `refunded`, it does not change `outstanding`: money given back is not money owed.',
      example: 500,
    }),
    waived: Money.openapi({
      description: 'Not collected on purpose: overages below Stripe’s minimum charge, and balances an admin waived with a reason (on the timeline).',
      example: 10,
    }),
    outstanding: Money.openapi({
      description:
        '`max(0, due − paid − waived)`: still to collect. Refunds (`refunded`, `refundedToCredit`) do not enter it. A weighed card order with something outstanding is flagged `payment_outstanding` and cannot go out for delivery until it is collected or waived.',
      example: 0,
    }),
  })
  .openapi('OrderBalance', { description: 'Integers in minor units of `currency` (cents; yen; fils for KWD).' });

/** Why and for how much a pickup was missed: the `pickup_missed` timeline entry, read for the app. */
export const MissedPickupSchema = z
  .object({
    at: instantOut(),
    reason: z.enum(MISSED_PICKUP_REASONS),
    note: z.string().nullable(),
    fee: Money.openapi({ description: 'The zone’s missed-pickup fee when it was marked, minor units of `currency` (0: nothing charged); what `balance.due` is.', example: 500 }),
  })
  .openapi('MissedPickup', { description: 'Set once the order is `pickup_missed`; the customer may book a new order.' });

export const OrderSchema = z
  .object({
    id: uuidOut(),
    status: z.enum(ORDER_STATUSES),
    paymentMethod: z.enum(['card', 'on_delivery']),
    express: z.boolean(),
    notes: z.string().nullable(),
    zoneId: uuidOut(),
    address: AddressSnapshotSchema,
    pickupSlot: SlotRef,
    deliverySlot: SlotRef,
    currency: z.string(),
    estimate: PriceBreakdownSchema.openapi({ description: 'Computed by the server at order time.' }),
    final: PriceBreakdownSchema.nullable().openapi({ description: 'Set at weigh-in; what the payment is captured at.' }),
    bagCount: integerOut().nullable(),
    weighedAt: instantOut().nullable(),
    overageApprovalRequired: z.boolean().openapi({
      description: 'The weighed price exceeds the card hold by more than the threshold: call approve-overage.',
    }),
    flags: z
      .array(z.enum(ORDER_FLAGS))
      .openapi({ description: 'Why the order needs a person, every open reason, oldest first (empty when none).' }),
    flaggedReason: z
      .enum(ORDER_FLAGS)
      .nullable()
      .openapi({ description: 'The latest of `flags`, or null. Kept for older clients: read `flags`.', deprecated: true }),
    balance: OrderBalanceSchema,
    missedPickup: MissedPickupSchema.nullable().openapi({ description: 'Only when the status is `pickup_missed`: the reason, the note and the fee.' }),
    lines: z.array(OrderLineSchema),
    timeline: z.array(TimelineEntrySchema).openapi({ description: 'Append-only, oldest first.' }),
    createdAt: instantOut(),
    updatedAt: instantOut(),
  })
  .openapi('Order');

export const OrderSummarySchema = z
  .object({
    id: uuidOut(),
    status: z.enum(ORDER_STATUSES),
    paymentMethod: z.enum(['card', 'on_delivery']),
    currency: z.string(),
    estimatedTotal: Money,
    finalTotal: Money.nullable(),
    pickupSlot: SlotRef,
    deliverySlot: SlotRef,
    createdAt: instantOut(),
  })
  .openapi('OrderSummary');

export const OrderPageSchema = z
  .object({
    data: z.array(OrderSummarySchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('OrderPage');

export const ListOrdersQuery = z.object({
  status: z.enum(ORDER_STATUSES).optional(),
  limit: queryInteger({ min: 1, max: 100 }).default(20),
  cursor: cursorParam().optional(),
});

const Grams = integer({ min: 1, max: MAX_GRAMS_PER_LINE });

export const WeighInLine = z
  .object({
    position: integer({ min: 0, max: 19 }).openapi({ description: "The line's index in the order's `lines` (0-based).", example: 0 }),
    weightGrams: Grams.optional().openapi({ description: 'per_kg lines: the weighed weight. Required for each of them.', example: 7250 }),
    quantity: integer({ min: 1, max: 1000 }).optional().openapi({ description: 'per_item lines: the counted items, if not as ordered.' }),
  })
  .strict();

export const WeighInBody = z
  .object({
    weightGrams: Grams.optional().openapi({ description: 'Shorthand for an order with exactly one per_kg line.', example: 7250 }),
    lines: z.array(WeighInLine).max(20).optional(),
    note: NoteText.optional().openapi({ example: 'One extra bag of towels' }),
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

export const OrderIdParam = z.object({
  id: Id.openapi({ param: { name: 'id', in: 'path' }, example: '3f0b9e8e-7c1d-4f7a-9d2a-5b6c7d8e9f01' }),
});

export type WeighInInput = z.infer<typeof WeighInBody>;
export type CreateOrderInput = z.infer<typeof CreateOrderBody>;
export type OrderDto = z.infer<typeof OrderSchema>;
export type OrderSummaryDto = z.infer<typeof OrderSummarySchema>;
export type TimelineEntryDto = z.infer<typeof TimelineEntrySchema>;
