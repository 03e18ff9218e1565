import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { validateIdempotencyKey } from '../../domain/idempotency.js';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type AppEnv, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { headerRef } from '../../http/openapi-document.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { createOrder } from './create.js';
import { getOrder } from './get.js';
import { listOrders } from './list.js';
import { rescheduleOrder } from './reschedule.js';
import { RescheduleBody, RescheduleResultSchema } from './reschedule-schemas.js';
import { CreateOrderBody, IdempotencyHeader, ListOrdersQuery, OrderIdParam, OrderPageSchema, OrderSchema } from './schemas.js';

const bearer = [{ bearerAuth: [] }];
const customer = [requireAuth()];

const create = createRoute({
  method: 'post',
  path: '/v1/orders',
  operationId: 'createOrder',
  tags: ['Orders'],
  summary: 'Place an order',
  description: [
    'Prices are computed by the server from the catalog and the zone (a client-sent price is rejected as an unknown field).',
    'Reserves one unit of capacity in the pickup and the delivery slot atomically: a full, closed or past-cut-off slot answers 409 `slot_unavailable` and nothing is written.',
    'Requires `Idempotency-Key`: a retry with the same key and body returns the original response (same status, same order); the same key with another body answers 422 `idempotency_key_reused`.',
    'Card orders start `pending_payment`; pay-on-delivery orders start `confirmed`.',
    '`promoCode`: the server computes the discount (`estimate.discount`). Its own rules answer 422 `promo_code_unknown`, `promo_code_inactive`, `promo_code_not_yet_valid`, `promo_code_expired`, `promo_code_minimum_not_met`; its counted limits are checked in the same statement that writes the order, exactly under concurrency: 409 `promo_code_exhausted` (total limit), `promo_code_already_used` (per-customer limit), `promo_code_first_order_only`. A refused code writes nothing.',
    '`useCredit: true`: account credit pays what it can after the discount (`estimate.creditApplied`); spent in the same statement, never below zero. A cancelled order gives back its redemption and its credit.',
  ].join('\n\n'),
  security: bearer,
  middleware: customer,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateOrderBody) },
  responses: {
    201: { ...jsonResponse(OrderSchema, 'Created (or the replay of the call that created it).'), headers: { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } },
    ...problems(
      'idempotency_key_missing',
      'idempotency_key_invalid',
      'idempotency_key_reused',
      'not_found',
      'postcode_not_served',
      'slot_unavailable',
      'slot_kind_mismatch',
      'slot_zone_mismatch',
      'delivery_too_early',
      'conflict',
      'empty_order',
      'invalid_quantity',
      'invalid_add_on',
      'express_unavailable',
      'currency_mismatch',
      'amount_overflow',
      'payments_not_configured',
      'promo_code_unknown',
      'promo_code_inactive',
      'promo_code_not_yet_valid',
      'promo_code_expired',
      'promo_code_minimum_not_met',
      'promo_code_exhausted',
      'promo_code_already_used',
      'promo_code_first_order_only',
    ),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/orders',
  operationId: 'listOrders',
  tags: ['Orders'],
  summary: 'The caller’s orders, newest first',
  description:
    'Summaries of the caller’s orders, newest first, optionally of one `status`. Keyset paging: pass `nextCursor` back as `cursor` until it is null.',
  security: bearer,
  middleware: customer,
  request: { query: ListOrdersQuery },
  responses: { 200: jsonResponse(OrderPageSchema, 'One page.') },
});

const get = createRoute({
  method: 'get',
  path: '/v1/orders/{id}',
  operationId: 'getOrder',
  tags: ['Orders'],
  summary: 'One order with its lines, price breakdown and timeline',
  description:
    'One of the caller’s orders: lines, estimate and final price breakdowns, balance, flags and the append-only timeline. Another customer’s order answers 404, exactly like a missing one.',
  security: bearer,
  middleware: customer,
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(OrderSchema, 'The order.'), ...problems('not_found') },
});

const createOrderHandler: Handler<typeof create> = async (c) => {
  const { userId } = principalOf(c);
  const key = validateIdempotencyKey(c.req.valid('header')['idempotency-key']);
  const result = await createOrder(c.get('deps'), userId, key, c.req.valid('json'));
  if (!result.created) c.header('Idempotent-Replayed', 'true');
  return c.json(result.body, 201);
};

const listOrdersHandler: Handler<typeof list> = async (c) => {
  const q = c.req.valid('query');
  const page = await listOrders(c.get('deps'), { userId: principalOf(c).userId, status: q.status, limit: q.limit, cursor: q.cursor });
  return c.json(page, 200);
};

const getOrderHandler: Handler<typeof get> = async (c) => {
  const { userId: _owner, ...order } = await getOrder(c.get('deps'), c.req.valid('param').id, principalOf(c).userId);
  return c.json(order, 200);
};

const RESCHEDULE_PROBLEMS = [
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
const RESCHEDULE_RULES = [
  'Give `pickupSlotId`, `deliverySlotId` or both. The slots must be of the order’s zone (422 `slot_zone_mismatch`) and of the right kind (422 `slot_kind_mismatch`), and the delivery window must start no earlier than the pickup window’s end plus the services’ turnaround, as at booking (422 `delivery_too_early` with `details.earliestDeliveryStart`).',
  'One statement gives back the old slots’ capacity, reserves the new ones, moves the order and appends a `rescheduled` timeline entry (`evidence.pickup` / `evidence.delivery`: `fromSlotId`, `toSlotId`); the customer is notified (`rescheduled`). A full or closed slot answers 409 `slot_unavailable` (`details.reason`) and nothing changes; so does any refusal.',
  'Naming the slots the order already has is a no-op: 200 with `changed: false`.',
  'Requires `Idempotency-Key`: a retry with the same key and body returns the original answer (`Idempotent-Replayed: true`), even when the order has changed since; the same key with another body answers 422 `idempotency_key_reused`. The answer is the order’s slots, not the whole order: read it with GET.',
];
const rescheduleResponses = {
  200: { ...jsonResponse(RescheduleResultSchema, 'Rescheduled (or nothing to change, or the replay of the call that did it).'), headers: { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } },
  ...problems(...RESCHEDULE_PROBLEMS),
};

const reschedule = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/reschedule',
  operationId: 'rescheduleOrder',
  tags: ['Orders'],
  summary: 'Move an order’s pickup or delivery to other slots',
  description: [
    'The caller’s own order (another customer’s answers 404), while it is `pending_payment` or `confirmed` and its current pickup window’s booking cut-off has not passed; after that, 409 `order_not_reschedulable` (`details.status`, or `details.reason: past_cutoff` with `details.cutoffAt`): ask the shop. The new slots must be bookable as at booking: open, before their own cut-off (409 `slot_unavailable`, `reason: past_cutoff`) and not full.',
    ...RESCHEDULE_RULES,
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(RescheduleBody) },
  responses: rescheduleResponses,
});

const staffReschedule = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/reschedule',
  operationId: 'staffRescheduleOrder',
  tags: ['Staff'],
  summary: 'Move any order’s pickup or delivery, past the cut-off',
  description: [
    'Staff and admins, on any order and past the booking cut-off: the pickup until it happens (`pending_payment`, `confirmed`), the delivery until it goes out (any state before `out_for_delivery`); otherwise 409 `order_not_reschedulable` (`details.status`, `details.slot`). A new slot must be open, not full, and its window not over (409 `slot_unavailable`, `reason: ended`). The timeline records the staff member.',
    ...RESCHEDULE_RULES,
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(RescheduleBody) },
  responses: rescheduleResponses,
});

/** The two reschedule handlers' one body: the staff path acts as staff, the customer path on the caller's own order. */
function rescheduleAs(staff: boolean) {
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

const rescheduleOrderHandler: Handler<typeof reschedule> = async (c) =>
  c.json(await rescheduleAs(false)(c, c.req.valid('param').id, c.req.valid('header')['idempotency-key'], c.req.valid('json')), 200);

const staffRescheduleOrderHandler: Handler<typeof staffReschedule> = async (c) =>
  c.json(await rescheduleAs(true)(c, c.req.valid('param').id, c.req.valid('header')['idempotency-key'], c.req.valid('json')), 200);

/** The customer's orders, and rescheduling them (the customer's and the shop's). Cancelling one (POST /v1/orders/{id}/cancel) is a workflow: src/modules/fulfilment. */
export const orderRoutes = createRouter()
  .openapi(create, createOrderHandler)
  .openapi(list, listOrdersHandler)
  .openapi(get, getOrderHandler)
  .openapi(reschedule, rescheduleOrderHandler)
  .openapi(staffReschedule, staffRescheduleOrderHandler);
