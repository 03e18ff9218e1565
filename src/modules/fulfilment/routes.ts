import { createRoute } from '@hono/zod-openapi';
import { roleCheckedIdempotencyKey } from '../../db/role-check.js';
import type { TransitionEvidence } from '../../domain/order-status.js';
import { ApiError } from '../../errors.js';
import { problems } from '../../http/problem-docs.js';
import type { Context } from 'hono';
import { createRouter, type AppEnv, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { headerRef } from '../../http/openapi-document.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { getOrder } from '../orders/get.js';
import { OrderIdParam, OrderSchema, WeighInBody } from '../orders/schemas.js';
import { captureOrderPayment } from '../payments/capture.js';
import { recordInPersonPayment } from '../payments/in-person.js';
import { refundOrder } from '../payments/refund.js';
import { refundToCredit } from '../payments/refund-credit.js';
import { CaptureSchema } from '../payments/schemas.js';
import { cancelOrder } from './cancel.js';
import { staffQueue } from './queue.js';
import { CancelOrderBody, InPersonBody, QueuePageSchema, QueueQuery, RefundBody, RefundHeaders, RefundSchema, TransitionBody, WaiveBalanceBody } from './schemas.js';
import { transitionOrder, type StaffActor } from './transition.js';
import { waiveBalance } from './waive-balance.js';
import { recordWeighIn } from './weigh-in.js';

/*
 * Fulfilment: the endpoints that run a workflow across orders and payments. The customer's
 * cancel, and the whole shop console (/v1/staff/*): staff (drivers, the wash floor) and
 * admins, never customers.
 */
const bearer = [{ bearerAuth: [] }];
const staffOnly = { tags: ['Staff'], security: bearer, middleware: [requireAuth('staff', 'admin')] };
/** What changing an order's state can answer (src/modules/orders/transition.ts, src/domain/order-status.ts). */
const TRANSITION_PROBLEMS = ['not_found', 'conflict', 'illegal_transition', 'transition_repeated', 'transition_forbidden', 'weigh_in_required', 'evidence_required', 'invalid_evidence', 'payment_outstanding'] as const;

const cancel = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/cancel',
  operationId: 'cancelOrder',
  tags: ['Orders'],
  summary: 'Cancel an order before pickup',
  description:
    'Allowed while the order is `pending_payment` or `confirmed`. Gives the slot capacity back and records the reason on the timeline. After pickup: 409 `order_not_cancellable` (ask the shop).',
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam, body: { ...jsonBody(CancelOrderBody), required: false } },
  responses: {
    200: jsonResponse(OrderSchema, 'Cancelled.'),
    ...problems('not_found', 'order_not_cancellable', 'conflict', 'illegal_transition', 'transition_repeated'),
  },
});

const queue = createRoute({
  ...staffOnly,
  method: 'get',
  path: '/v1/staff/orders',
  operationId: 'staffListOrders',
  summary: 'Work queue: orders by pickup or delivery window',
  description: [
    'Every real customer’s order, in the order its window starts: the pickup window by default, the delivery window with `kind=delivery`.',
    '`date` is the local calendar date of that window in its zone’s time zone, so `?zone=…&date=2026-11-30` is that zone’s pickups for that day as the driver sees them.',
    '`slot` narrows to one window (a pickup slot with `kind=pickup`, a delivery slot with `kind=delivery`); `status` to one state.',
    'Orders of the synthetic release-probe customer are left out; `synthetic=true` lists only them.',
    'Keyset paging: pass `nextCursor` back as `cursor` with the same `kind`.',
  ].join('\n\n'),
  request: { query: QueueQuery },
  responses: { 200: jsonResponse(QueuePageSchema, 'One page of the queue.') },
});

const get = createRoute({
  ...staffOnly,
  method: 'get',
  path: '/v1/staff/orders/{id}',
  operationId: 'staffGetOrder',
  summary: 'Any order with its lines, price breakdowns and timeline',
  description:
    'Any customer’s order, as the customer sees it (lines, price breakdowns, balance, flags, timeline), for staff and admins.',
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(OrderSchema, 'The order.'), ...problems('not_found') },
});

const transition = createRoute({
  ...staffOnly,
  method: 'post',
  path: '/v1/staff/orders/{id}/transitions',
  operationId: 'staffTransitionOrder',
  summary: 'Move an order to its next state',
  description: [
    'confirmed → picked_up (needs `bagCount`) → processing → ready (needs the weigh-in) → out_for_delivery → delivered; any state before delivery → cancelled.',
    'The change and its timeline entry (who, when, from, to, `note`, evidence) are written in one statement; a staff cancellation gives back the slot capacity the order has not used yet.',
    'A skipped or backward step is 409 `illegal_transition`, a repeated one 409 `transition_repeated`, `ready` before the weigh-in 409 `weigh_in_required`, a change that raced another 409 `conflict`; `confirmed` belongs to the payment system (403 `transition_forbidden`).',
    'A card order with a balance outstanding after the weigh-in (`balance.outstanding` > 0: a lost hold, an uncollected overage) cannot go `out_for_delivery`: 409 `payment_outstanding` with `details.outstanding` and `details.currency`, until it is collected or an admin waives it (…/waive-balance). Pay-on-delivery orders are paid at the door.',
    '`confirmed` → `pickup_missed` (terminal): the driver could not collect. Needs `reason` (`customer_absent`, `no_access`, `items_not_ready`, `other`; a missing one is 422 `evidence_required`), `note` optional. Both slots’ capacity is given back, the zone’s `missedPickupFee` becomes what the order owes (`balance.due`; the timeline entry’s `evidence` carries `reason` and `fee`), and the customer is notified (`pickup_missed`, offering to rebook). A card order’s hold is released and the fee, if not 0, charged off-session on the saved card; if that fails the order is flagged `payment_outstanding` and the customer pays it in the app. A pay-on-delivery order keeps the fee outstanding.',
    'A missing or out-of-range bag count is 422. Nothing is written on any error.',
  ].join('\n\n'),
  request: { params: OrderIdParam, body: jsonBody(TransitionBody) },
  responses: { 200: jsonResponse(OrderSchema, 'The order in its new state, with the new timeline entry.'), ...problems(...TRANSITION_PROBLEMS) },
});

const weigh = createRoute({
  ...staffOnly,
  method: 'post',
  path: '/v1/staff/orders/{id}/weigh-in',
  operationId: 'staffWeighInOrder',
  summary: 'Record the weigh-in and fix the final price',
  description: [
    'Only while the order is `processing`, once: a second weigh-in is 409 `already_weighed`, any other state 409 `weigh_in_not_allowed`.',
    'Send `weightGrams` when the order has exactly one per_kg line, else `lines` with the weighed `weightGrams` of every per_kg line and, optionally, the counted `quantity` of per_item lines (unlisted ones keep the ordered count).',
    'The final price uses only the prices and rules the order was placed with (unit prices, add-ons, express rate, minimum order, delivery fee), never today’s catalog or zone.',
    '`final.total` (also `finalTotal` in the queue) is the amount the card payment is captured at; the timeline entry (`weighed`) shows the weights, the estimate, the final total and the difference.',
    'The answer’s `balance` shows what the capture left outstanding: a card order that still owes something (its hold cancelled or expired at Stripe, a failed capture, an overage awaiting approval or declined) is flagged `payment_outstanding` and cannot go out for delivery until it is collected or waived.',
  ].join('\n\n'),
  request: { params: OrderIdParam, body: jsonBody(WeighInBody) },
  responses: {
    200: jsonResponse(OrderSchema, 'The order with `final`, `weighedAt` and the line finals set.'),
    ...problems('not_found', 'already_weighed', 'weigh_in_not_allowed', 'empty_order', 'invalid_quantity', 'invalid_add_on', 'express_unavailable', 'currency_mismatch', 'amount_overflow'),
  },
});

const capture = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/capture',
  operationId: 'staffCapturePayment',
  tags: ['Staff: payments'],
  summary: 'Capture the weighed price (retry)',
  description:
    'The weigh-in captures automatically; this retries after a Stripe failure. Never captures twice, never more than the hold. ' +
    'An overage below Stripe’s minimum charge for the currency (USD 0.50, GBP 0.30, JPY 50, …) is waived, not charged: ' +
    'it is recorded once on the order’s timeline and every later call answers `overage: "waived"` again. ' +
    'A lost hold (cancelled or released by Stripe, or its capture refused) is collected instead: the outstanding balance is charged ' +
    'off-session on the card saved with the hold, once per order (`kind: "balance"`; see `balance`). 409 `capture_not_possible` when ' +
    'the order is not weighed, or the hold cannot be captured and the order is cancelled.',
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(CaptureSchema, 'Outcome.'), ...problems('not_found', 'capture_not_possible', 'payment_provider_error', 'payments_not_configured') },
});

const refund = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/refunds',
  operationId: 'staffCreateRefund',
  tags: ['Staff: payments'],
  summary: 'Refund captured card money to the card or to account credit (admins)',
  description: [
    'Full or partial. The total refunded never exceeds the total captured (422 `refund_exceeds_captured`); refunds that failed or were canceled at Stripe do not count, so their amount can be refunded again. Recorded on the timeline with the admin who made it. A successful refund asked for after a failed one clears the order’s `refund_failed` flag.',
    '`destination: "credit"` gives the amount to the customer’s account credit instead of the card: no Stripe call, one write (the balance, a `refund_to_credit` credit entry naming the order and the admin, a timeline entry that tells the customer `refund_issued`, as a card refund does, worded as money added to their account credit); the order’s `balance.refundedToCredit` shows it (not `refunded`, which is the card’s), and `outstanding` does not change. It requires `Idempotency-Key` (a replay answers the first refund with `Idempotent-Replayed: true`). Card and credit refunds count against the same captured total, checked under the order’s lock, so racing ones never exceed it. A customer whose account was erased: 409 `conflict` (refund to the card). An order flagged `disputed` (a chargeback gives the money back through the bank): 409 `conflict`, nothing credited.',
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth('admin')],
  request: { params: OrderIdParam, headers: RefundHeaders, body: jsonBody(RefundBody) },
  responses: {
    201: { ...jsonResponse(RefundSchema, 'Refunded.'), headers: { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } },
    ...problems('not_found', 'refund_exceeds_captured', 'payment_provider_error', 'payments_not_configured', 'idempotency_key_missing', 'idempotency_key_invalid', 'idempotency_key_reused', 'conflict'),
  },
});

const inPerson = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/payments',
  operationId: 'staffRecordPayment',
  tags: ['Staff: payments'],
  summary: 'Record a payment taken at the door',
  description: 'For `on_delivery` orders that are out for delivery or delivered, once, for exactly the amount due. A delivered order without one is flagged by the payments job.',
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam, body: jsonBody(InPersonBody) },
  responses: { 204: { description: 'Recorded.' }, ...problems('not_found', 'payment_not_applicable', 'payment_amount_mismatch') },
});

const waive = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/waive-balance',
  operationId: 'staffWaiveBalance',
  tags: ['Staff: payments'],
  summary: 'Waive what is outstanding on an order (admins)',
  description: [
    'The shop decides not to collect (part of) an order’s outstanding balance (`balance.outstanding`), with a reason: recorded in `balance.waived` and on the timeline with the admin who decided.',
    'Without `amount`, the whole outstanding amount is waived. Once nothing is outstanding the `payment_outstanding` flag is cleared and the order can go out for delivery.',
    '409 `nothing_outstanding` when there is nothing to waive (paid, already waived, cancelled, or not weighed yet); 422 `waiver_exceeds_outstanding` when `amount` is more than is outstanding (`details.outstanding`). 422 `validation_failed` when what `amount` would leave is not an amount Stripe can charge in the currency (three-decimal currencies: a multiple of 10; `details.step`). Two waivers at once never waive more than was outstanding. A balance PaymentSheet the customer still holds is cancelled at Stripe first, so a waived amount is never taken anyway; 409 `payment_in_progress` (with `Retry-After`) when a payment towards the balance is already under way or was just made (it is recorded: read the order again). Not idempotent: a retry after a lost answer should read the order first.',
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth('admin')],
  request: { params: OrderIdParam, body: jsonBody(WaiveBalanceBody) },
  responses: {
    200: jsonResponse(OrderSchema, 'The order with the waiver in `balance.waived` and on the timeline.'),
    ...problems('not_found', 'nothing_outstanding', 'waiver_exceeds_outstanding', 'payment_in_progress', 'payment_provider_error', 'payments_not_configured'),
  },
});

/** The caller as a member of the shop; requireAuth('staff', 'admin') already admitted only those. */
function staffActor(c: Context<AppEnv>): StaffActor {
  const { role, userId } = principalOf(c);
  if (role !== 'staff' && role !== 'admin') throw new ApiError('forbidden');
  return { role, userId };
}

const cancelOrderHandler: Handler<typeof cancel> = async (c) => {
  const { userId } = principalOf(c);
  // The body is optional: without one, validation is skipped and there is no reason.
  const reason = c.req.valid('json')?.reason;
  const { userId: _owner, ...order } = await cancelOrder(
    c.get('deps'),
    { orderId: c.req.valid('param').id, actor: { role: 'customer', userId }, note: reason },
    c.get('logger'),
  );
  return c.json(order, 200);
};

const staffQueueHandler: Handler<typeof queue> = async (c) => c.json(await staffQueue(c.get('deps'), c.req.valid('query')), 200);

const staffGetOrderHandler: Handler<typeof get> = async (c) => {
  const { userId: _owner, ...order } = await getOrder(c.get('deps'), c.req.valid('param').id);
  return c.json(order, 200);
};

const transitionOrderHandler: Handler<typeof transition> = async (c) => {
  const body = c.req.valid('json');
  const evidence: TransitionEvidence = {};
  if (body.note !== undefined) evidence.note = body.note;
  if (body.bagCount !== undefined) evidence.bagCount = body.bagCount;
  if (body.reason !== undefined) evidence.reason = body.reason;
  const { userId: _owner, ...order } = await transitionOrder(
    c.get('deps'),
    { orderId: c.req.valid('param').id, to: body.to, actor: staffActor(c), evidence },
    c.get('logger'),
  );
  return c.json(order, 200);
};

const weighInHandler: Handler<typeof weigh> = async (c) =>
  c.json(await recordWeighIn(c.get('deps'), c.req.valid('param').id, c.req.valid('json'), staffActor(c), c.get('logger')), 200);

const captureHandler: Handler<typeof capture> = async (c) => c.json(await captureOrderPayment(c.get('deps'), c.req.valid('param').id), 200);

const refundHandler: Handler<typeof refund> = async (c) => {
  const { destination, ...body } = c.req.valid('json');
  const orderId = c.req.valid('param').id;
  if (destination === 'credit') {
    const key = await roleCheckedIdempotencyKey(c.get('deps').database, c.req.valid('header')['idempotency-key']);
    const { result, replayed } = await refundToCredit(c.get('deps'), { orderId, ...body, actorUserId: principalOf(c).userId, key });
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(result, 201);
  }
  const result = await refundOrder(c.get('deps'), { orderId, ...body, actorUserId: principalOf(c).userId });
  return c.json(result, 201);
};

const inPersonPaymentHandler: Handler<typeof inPerson> = async (c) => {
  const actor = staffActor(c);
  await recordInPersonPayment(c.get('deps'), { orderId: c.req.valid('param').id, ...c.req.valid('json'), actorUserId: actor.userId, actorRole: actor.role });
  return c.body(null, 204);
};

const waiveBalanceHandler: Handler<typeof waive> = async (c) => {
  const { userId: _owner, ...order } = await waiveBalance(c.get('deps'), { orderId: c.req.valid('param').id, adminId: principalOf(c).userId, ...c.req.valid('json') });
  return c.json(order, 200);
};

export const fulfilmentRoutes = createRouter()
  .openapi(cancel, cancelOrderHandler)
  .openapi(queue, staffQueueHandler)
  .openapi(get, staffGetOrderHandler)
  .openapi(transition, transitionOrderHandler)
  .openapi(weigh, weighInHandler)
  .openapi(capture, captureHandler)
  .openapi(refund, refundHandler)
  .openapi(inPerson, inPersonPaymentHandler)
  .openapi(waive, waiveBalanceHandler);
