import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import { instantOut, uuid, uuidOut } from '../../http/schemas.js';

const SlotRef = z.object({ id: uuidOut(), startsAt: instantOut(), endsAt: instantOut() });

/** Strict, at least one slot: a slot the order already has keeps it (a no-op for that window). */
export const RescheduleBody = z
  .object({
    pickupSlotId: uuid().optional().openapi({ description: 'The new pickup slot (a `pickup` slot of the order’s zone).', example: '6f1c2d1e-8d6e-4f0b-9a51-0c1e2a3b4c5d' }),
    deliverySlotId: uuid().optional().openapi({ description: 'The new delivery slot (a `delivery` slot of the order’s zone).', example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' }),
  })
  .strict()
  .refine((b) => b.pickupSlotId !== undefined || b.deliverySlotId !== undefined, 'give pickupSlotId, deliverySlotId or both')
  .openapi('RescheduleRequest', { example: { pickupSlotId: '6f1c2d1e-8d6e-4f0b-9a51-0c1e2a3b4c5d' } });

/**
 * The answer to a reschedule, stored with its Idempotency-Key and returned again on a retry:
 * the order's slots once moved (a no-op: the ones it has). The whole order: GET /v1/orders/{id}.
 */
export const RescheduleResultSchema = z
  .object({
    orderId: uuidOut(),
    status: z.enum(ORDER_STATUSES),
    changed: z.boolean().openapi({ description: 'False when the slots asked for are the ones the order already had: nothing was changed.' }),
    pickupSlot: SlotRef,
    deliverySlot: SlotRef,
  })
  .openapi('RescheduleResult');

export type RescheduleInput = z.infer<typeof RescheduleBody>;
export type RescheduleResult = z.infer<typeof RescheduleResultSchema>;
