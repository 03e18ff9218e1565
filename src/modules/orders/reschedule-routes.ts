import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { validateIdempotencyKey } from '../../domain/idempotency.js';
import { problems } from '../../errors.js';
import { createRouter, type AppEnv, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { headerRef } from '../../http/openapi-document.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { rescheduleOrder } from './reschedule.js';
import { RescheduleBody, RescheduleResultSchema } from './reschedule-schemas.js';
import { IdempotencyHeader, OrderIdParam } from './schemas.js';
import type { z } from '@hono/zod-openapi';

const bearer = [{ bearerAuth: [] }];
const PROBLEMS = [
  'idempotency_key_missing',
  'idempotency_key_invalid',
  'idempotency_key_reused',
  'not_found',
  'order_not_reschedulable',
  'slot_unavailable',
  'slot_kind_mismatch',
  'slot_zone_mismatch',
  'delivery_too_early',
  'conflict',
] as const;
const RULES = [
  'Give `pickupSlotId`, `deliverySlotId` or both. The slots must be of the order’s zone (422 `slot_zone_mismatch`) and of the right kind (422 `slot_kind_mismatch`), and the delivery window must start no earlier than the pickup window’s end plus the services’ turnaround, as at booking (422 `delivery_too_early` with `details.earliestDeliveryStart`).',
  'One statement gives back the old slots’ capacity, reserves the new ones, moves the order and appends a `rescheduled` timeline entry (`evidence.pickup` / `evidence.delivery`: `fromSlotId`, `toSlotId`); the customer is notified (`rescheduled`). A full or closed slot answers 409 `slot_unavailable` (`details.reason`) and nothing changes; so does any refusal.',
  'Naming the slots the order already has is a no-op: 200 with `changed: false`.',
  'Requires `Idempotency-Key`: a retry with the same key and body returns the original answer (`Idempotent-Replayed: true`), even when the order has changed since; the same key with another body answers 422 `idempotency_key_reused`. The answer is the order’s slots, not the whole order: read it with GET.',
];
const responses = {
  200: { ...jsonResponse(RescheduleResultSchema, 'Rescheduled (or nothing to change, or the replay of the call that did it).'), headers: { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } },
  ...problems(...PROBLEMS),
};

const customerRoute = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/reschedule',
  operationId: 'rescheduleOrder',
  tags: ['Orders'],
  summary: 'Move an order’s pickup or delivery to other slots',
  description: [
    'The caller’s own order (another customer’s answers 404), while it is `pending_payment` or `confirmed` and its current pickup window’s booking cut-off has not passed; after that, 409 `order_not_reschedulable` (`details.status`, or `details.reason: past_cutoff` with `details.cutoffAt`): ask the shop. The new slots must be bookable as at booking: open, before their own cut-off (409 `slot_unavailable`, `reason: past_cutoff`) and not full.',
    ...RULES,
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(RescheduleBody) },
  responses,
});

const staffRoute = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/reschedule',
  operationId: 'staffRescheduleOrder',
  tags: ['Staff'],
  summary: 'Move any order’s pickup or delivery, past the cut-off',
  description: [
    'Staff and admins, on any order and past the booking cut-off: the pickup until it happens (`pending_payment`, `confirmed`), the delivery until it goes out (any state before `out_for_delivery`); otherwise 409 `order_not_reschedulable` (`details.status`, `details.slot`). A new slot must be open, not full, and its window not over (409 `slot_unavailable`, `reason: ended`). The timeline records the staff member.',
    ...RULES,
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(RescheduleBody) },
  responses,
});

function handler(staff: boolean) {
  return async (c: Context<AppEnv>, id: string, rawKey: string | undefined, input: z.infer<typeof RescheduleBody>) => {
    const { role, userId } = principalOf(c);
    const key = validateIdempotencyKey(rawKey);
    const actor = { role: staff && (role === 'staff' || role === 'admin') ? role : ('customer' as const), userId };
    const path = `${staff ? '/v1/staff' : '/v1'}/orders/${id}/reschedule`;
    const result = await rescheduleOrder(c.get('deps'), { orderId: id, actor, key, input, path });
    if (!result.fresh) c.header('Idempotent-Replayed', 'true');
    return result.body;
  };
}

const rescheduleOrderHandler: Handler<typeof customerRoute> = async (c) =>
  c.json(await handler(false)(c, c.req.valid('param').id, c.req.valid('header')['idempotency-key'], c.req.valid('json')), 200);

const staffRescheduleOrderHandler: Handler<typeof staffRoute> = async (c) =>
  c.json(await handler(true)(c, c.req.valid('param').id, c.req.valid('header')['idempotency-key'], c.req.valid('json')), 200);

/** Rescheduling: the customer's own order before the cut-off, and the shop's twin past it. */
export const rescheduleRoutes = createRouter().openapi(customerRoute, rescheduleOrderHandler).openapi(staffRoute, staffRescheduleOrderHandler);
