import { createRoute } from '@hono/zod-openapi';
import type { TransitionEvidence } from '../../domain/order-status.js';
import { ApiError, problemResponses } from '../../errors.js';
import { createRouter } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { getOrder } from '../orders/read.js';
import { OrderIdParam, OrderSchema } from '../orders/schemas.js';
import { transitionOrder } from '../orders/transition.js';
import { captureOrderPayment, settleCancelledOrder } from '../payments/capture.js';
import { staffQueue } from './queue.js';
import { QueuePageSchema, QueueQuery, TransitionBody, WeighInBody } from './schemas.js';
import { weighIn, type WeighInActor } from './weigh-in.js';

/* The shop side of orders: staff (drivers, the wash floor) and admins, never customers. */
const staffOnly = { tags: ['Staff'], security: [{ bearerAuth: [] }], middleware: [requireAuth('staff', 'admin')] };
const writeErrors = problemResponses(400, 401, 403, 404, 409, 413, 415, 422);

const queue = createRoute({
  ...staffOnly,
  method: 'get',
  path: '/v1/staff/orders',
  summary: 'Work queue: orders by pickup or delivery window',
  description: [
    'Every order (any customer), in the order its window starts: the pickup window by default, the delivery window with `kind=delivery`.',
    '`date` is the local calendar date of that window in its zone’s time zone, so `?zone=…&date=2026-11-30` is that zone’s pickups for that day as the driver sees them.',
    '`slot` narrows to one window (a pickup slot with `kind=pickup`, a delivery slot with `kind=delivery`); `status` to one state.',
    'Keyset paging: pass `nextCursor` back as `cursor` with the same `kind`.',
  ].join('\n\n'),
  request: { query: QueueQuery },
  responses: { 200: jsonResponse(QueuePageSchema, 'One page of the queue.'), ...problemResponses(401, 403, 422) },
});

const get = createRoute({
  ...staffOnly,
  method: 'get',
  path: '/v1/staff/orders/{id}',
  summary: 'Any order with its lines, price breakdowns and timeline',
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(OrderSchema, 'The order.'), ...problemResponses(401, 403, 404, 422) },
});

const transition = createRoute({
  ...staffOnly,
  method: 'post',
  path: '/v1/staff/orders/{id}/transitions',
  summary: 'Move an order to its next state',
  description: [
    'confirmed → picked_up (needs `bagCount`) → processing → ready (needs the weigh-in) → out_for_delivery → delivered; any state before delivery → cancelled.',
    'The change and its timeline entry (who, when, from, to, `note`, evidence) are written in one statement; a staff cancellation gives back the slot capacity the order has not used yet.',
    'A skipped or backward step is 409 `illegal_transition`, a repeated one 409 `transition_repeated`, `ready` before the weigh-in 409 `weigh_in_required`, a change that raced another 409 `conflict`; `confirmed` belongs to the payment system (403 `transition_forbidden`).',
    'A missing or out-of-range bag count is 422. Nothing is written on any error.',
  ].join('\n\n'),
  request: { params: OrderIdParam, body: jsonBody(TransitionBody) },
  responses: { 200: jsonResponse(OrderSchema, 'The order in its new state, with the new timeline entry.'), ...writeErrors },
});

const weigh = createRoute({
  ...staffOnly,
  method: 'post',
  path: '/v1/staff/orders/{id}/weigh-in',
  summary: 'Record the weigh-in and fix the final price',
  description: [
    'Only while the order is `processing`, once: a second weigh-in is 409 `already_weighed`, any other state 409 `weigh_in_not_allowed`.',
    'Send `weightGrams` when the order has exactly one per_kg line, else `lines` with the weighed `weightGrams` of every per_kg line and, optionally, the counted `quantity` of per_item lines (unlisted ones keep the ordered count).',
    'The final price uses only the prices and rules the order was placed with (unit prices, add-ons, express rate, minimum order, delivery fee), never today’s catalog or zone.',
    '`final.total` (also `finalTotal` in the queue) is the amount the card payment is captured at; the timeline entry (`weighed`) shows the weights, the estimate, the final total and the difference.',
  ].join('\n\n'),
  request: { params: OrderIdParam, body: jsonBody(WeighInBody) },
  responses: { 200: jsonResponse(OrderSchema, 'The order with `final`, `weighedAt` and the line finals set.'), ...writeErrors },
});

function staffActor(role: string, userId: string): WeighInActor {
  if (role !== 'staff' && role !== 'admin') throw new ApiError('forbidden');
  return { role, userId };
}

export const staffRoutes = createRouter()
  .openapi(queue, async (c) => c.json(await staffQueue(c.get('deps'), c.req.valid('query')), 200))
  .openapi(get, async (c) => {
    const { userId: _owner, ...order } = await getOrder(c.get('deps'), c.req.valid('param').id);
    return c.json(order, 200);
  })
  .openapi(transition, async (c) => {
    const deps = c.get('deps');
    const principal = principalOf(c);
    const body = c.req.valid('json');
    const evidence: TransitionEvidence = {};
    if (body.note !== undefined) evidence.note = body.note;
    if (body.bagCount !== undefined) evidence.bagCount = body.bagCount;
    const { userId: _owner, ...order } = await transitionOrder(deps, {
      orderId: c.req.valid('param').id,
      to: body.to,
      actor: staffActor(principal.role, principal.userId),
      evidence,
    });
    if (order.status === 'cancelled' && order.paymentMethod === 'card') {
      await settleCancelledOrder(deps, order.id, principal.userId).catch((error: unknown) =>
        c.get('logger').error('settling the payment of a cancelled order failed', { error, orderId: order.id }),
      );
    }
    return c.json(order, 200);
  })
  .openapi(weigh, async (c) => {
    const principal = principalOf(c);
    const deps = c.get('deps');
    const order = await weighIn(deps, c.req.valid('param').id, c.req.valid('json'), staffActor(principal.role, principal.userId));
    // The weighed price is now fixed: capture it. A Stripe failure leaves the order weighed
    // and the hold intact; POST …/capture (or the payments job) retries with the same key.
    if (order.paymentMethod === 'card') {
      await captureOrderPayment(deps, order.id).catch((error: unknown) =>
        c.get('logger').error('capture after weigh-in failed', { error, orderId: order.id }),
      );
    }
    return c.json(order, 200);
  });
