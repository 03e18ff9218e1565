import { createRoute } from '@hono/zod-openapi';
import { customerCanCancel } from '../../domain/order-status.js';
import { validateIdempotencyKey } from '../../domain/idempotency.js';
import { ApiError, problemResponses } from '../../errors.js';
import { createRouter } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { createOrder } from './create.js';
import { getOrder, listOrders } from './read.js';
import {
  CancelOrderBody,
  CreateOrderBody,
  IdempotencyHeader,
  ListOrdersQuery,
  OrderIdParam,
  OrderPageSchema,
  OrderSchema,
} from './schemas.js';
import { settleCancelledOrder } from '../payments/capture.js';
import { transitionOrder } from './transition.js';

const bearer = [{ bearerAuth: [] }];
const customer = [requireAuth()];

const create = createRoute({
  method: 'post',
  path: '/v1/orders',
  tags: ['Orders'],
  summary: 'Place an order',
  description: [
    'Prices are computed by the server from the catalog and the zone (a client-sent price is rejected as an unknown field).',
    'Reserves one unit of capacity in the pickup and the delivery slot atomically: a full, closed or past-cut-off slot answers 409 `slot_unavailable` and nothing is written.',
    'Requires `Idempotency-Key`: a retry with the same key and body returns the original response (same status, same order); the same key with another body answers 422 `idempotency_key_reused`.',
    'Card orders start `pending_payment`; pay-on-delivery orders start `confirmed`.',
  ].join('\n\n'),
  security: bearer,
  middleware: customer,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateOrderBody) },
  responses: {
    201: jsonResponse(OrderSchema, 'Created (or the replay of the call that created it).'),
    ...problemResponses(400, 401, 404, 409, 413, 415, 422, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/orders',
  tags: ['Orders'],
  summary: 'The caller’s orders, newest first',
  security: bearer,
  middleware: customer,
  request: { query: ListOrdersQuery },
  responses: { 200: jsonResponse(OrderPageSchema, 'One page.'), ...problemResponses(401, 422) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/orders/{id}',
  tags: ['Orders'],
  summary: 'One order with its lines, price breakdown and timeline',
  security: bearer,
  middleware: customer,
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(OrderSchema, 'The order.'), ...problemResponses(401, 404, 422) },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/cancel',
  tags: ['Orders'],
  summary: 'Cancel an order before pickup',
  description:
    'Allowed while the order is `pending_payment` or `confirmed`. Gives the slot capacity back and records the reason on the timeline. After pickup: 409 `order_not_cancellable` (ask the shop).',
  security: bearer,
  middleware: customer,
  request: { params: OrderIdParam, body: { ...jsonBody(CancelOrderBody), required: false } },
  responses: {
    200: jsonResponse(OrderSchema, 'Cancelled.'),
    ...problemResponses(400, 401, 404, 409, 413, 415, 422),
  },
});

export const orderRoutes = createRouter()
  .openapi(create, async (c) => {
    const { userId } = principalOf(c);
    const key = validateIdempotencyKey(c.req.valid('header')['idempotency-key']);
    const result = await createOrder(c.get('deps'), userId, key, c.req.valid('json'));
    if (!result.created) c.header('Idempotent-Replayed', 'true');
    return c.json(result.body as never, 201);
  })
  .openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await listOrders(c.get('deps'), {
      userId: principalOf(c).userId,
      status: q.status,
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json(page, 200);
  })
  .openapi(get, async (c) => {
    const { userId: _owner, ...order } = await getOrder(c.get('deps'), c.req.valid('param').id, principalOf(c).userId);
    return c.json(order, 200);
  })
  .openapi(cancel, async (c) => {
    const deps = c.get('deps');
    const { userId } = principalOf(c);
    // The body is optional: without one, validation is skipped and there is no reason.
    const body = c.req.valid('json') ?? {};
    const { userId: _owner, ...order } = await transitionOrder(deps, {
      orderId: c.req.valid('param').id,
      ownerId: userId,
      to: 'cancelled',
      actor: { role: 'customer', userId },
      evidence: body.reason ? { note: body.reason } : {},
      refuse: (current) => {
        if (!customerCanCancel(current.status)) {
          throw Object.assign(
            new ApiError('order_not_cancellable', `An order that is ${current.status} can no longer be cancelled from the app; contact the shop.`),
            { details: { status: current.status } },
          );
        }
      },
    });
    // The order is cancelled either way; a hold Stripe did not release now expires on its own
    // and the payments job reports it.
    if (order.paymentMethod === 'card') await settleCancelledOrder(deps, order.id, userId).catch((error: unknown) => c.get('logger').error('releasing the card hold failed', { error, orderId: order.id }));
    return c.json(order, 200);
  });
