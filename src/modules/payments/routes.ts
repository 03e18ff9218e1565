import { createRoute, z } from '@hono/zod-openapi';
import { problemResponses } from '../../errors.js';
import { createRouter } from '../../http/context.js';
import { text } from '../../http/schemas.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { recordAuthorisation } from '../../metrics/index.js';
import { OrderIdParam } from '../orders/schemas.js';
import { approveOverage, captureOrderPayment } from './capture.js';
import { recordInPersonPayment, refundOrder } from './refunds.js';
import { paymentSheet } from './sheet.js';
import { handleStripeEvent, verifyStripeEvent } from './webhook.js';

const bearer = [{ bearerAuth: [] }];

const PaymentSheetSchema = z
  .object({
    paymentIntentId: z.string().openapi({ example: 'pi_3Q0abc' }),
    paymentIntentClientSecret: z.string().openapi({ example: 'pi_3Q0abc_secret_xyz' }),
    customerId: z.string().openapi({ example: 'cus_Q0abc' }),
    ephemeralKey: z.string().openapi({ example: 'ek_test_abc' }),
    publishableKey: z.string().openapi({ example: 'pk_test_abc' }),
    amount: z.number().int().openapi({ description: 'The hold: estimate plus buffer, minor units.', example: 2579 }),
    currency: z.string().openapi({ example: 'USD' }),
  })
  .openapi('PaymentSheet');

const CaptureSchema = z
  .object({
    kind: z.enum(['not_card', 'captured', 'already_captured']),
    captured: z.number().int().optional(),
    overage: z.enum(['none', 'charged', 'awaiting_approval', 'failed']).optional(),
  })
  .openapi('CaptureResult');

const sheet = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/payment-sheet',
  tags: ['Payments'],
  summary: 'Authorise the card hold with Stripe PaymentSheet',
  description:
    'For a `card` order in `pending_payment`. Creates (once) a manual-capture PaymentIntent for the estimate plus a buffer, and returns what the mobile PaymentSheet needs. Calling it again returns the same PaymentIntent. The order becomes `confirmed` when Stripe reports the authorisation (webhook). 503 `payments_not_configured` when Stripe is not set up.',
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(PaymentSheetSchema, 'PaymentSheet parameters.'), ...problemResponses(401, 404, 409, 422, 502, 503) },
});

const approve = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/approve-overage',
  tags: ['Payments'],
  summary: 'Approve an extra charge above the hold',
  description: 'When the weighed price exceeds the hold by more than the approval threshold, the difference is only charged after this call.',
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(CaptureSchema, 'Approved; the extra charge was attempted.'), ...problemResponses(401, 404, 409, 422, 502, 503) },
});

const webhook = createRoute({
  method: 'post',
  path: '/v1/webhooks/stripe',
  tags: ['Payments'],
  summary: 'Stripe webhook',
  description:
    'Verifies `Stripe-Signature` over the raw body (400 `invalid_signature` otherwise). Each event id is applied once; replays answer 200 and change nothing. Events are checked against our records and only move state forward; an amount that does not match flags the order. Unknown types answer 200.',
  responses: {
    200: jsonResponse(z.object({ received: z.literal(true), outcome: z.string() }), 'Accepted.'),
    ...problemResponses(400, 503),
  },
});

const capture = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/capture',
  tags: ['Staff: payments'],
  summary: 'Capture the weighed price (retry)',
  description: 'The weigh-in captures automatically; this retries after a Stripe failure. Never captures twice, never more than the hold.',
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam },
  responses: { 200: jsonResponse(CaptureSchema, 'Outcome.'), ...problemResponses(401, 403, 404, 409, 422, 502, 503) },
});

const RefundBody = z
  .object({
    amount: z.number().int().min(1).max(10_000_000).openapi({ description: 'Minor units.', example: 500 }),
    reason: text({ min: 3, max: 500 }).openapi({ example: 'Shirt returned with a stain' }),
  })
  .strict()
  .openapi('RefundRequest');

const refund = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/refunds',
  tags: ['Staff: payments'],
  summary: 'Refund captured card money (admins)',
  description: 'Full or partial. The total refunded never exceeds the total captured (422 `refund_exceeds_captured`). Recorded on the timeline with the admin who made it.',
  security: bearer,
  middleware: [requireAuth('admin')],
  request: { params: OrderIdParam, body: jsonBody(RefundBody) },
  responses: {
    201: jsonResponse(z.object({ refundId: z.uuid(), amount: z.number().int(), status: z.enum(['succeeded', 'pending']) }).openapi('Refund'), 'Refunded.'),
    ...problemResponses(400, 401, 403, 404, 413, 415, 422, 502, 503),
  },
});

const InPersonBody = z
  .object({
    method: z.enum(['cash', 'card_present']),
    amount: z.number().int().min(0).max(10_000_000).openapi({ description: 'Minor units taken at the door: exactly the amount due (the final total); anything else is 422 `payment_amount_mismatch` with `details.due`.', example: 2149 }),
  })
  .strict()
  .openapi('InPersonPaymentRequest');

const inPerson = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/payments',
  tags: ['Staff: payments'],
  summary: 'Record a payment taken at the door',
  description: 'For `on_delivery` orders that are out for delivery or delivered, once, for exactly the amount due. A delivered order without one is flagged by the payments job.',
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam, body: jsonBody(InPersonBody) },
  responses: { 204: { description: 'Recorded.' }, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
});

export const paymentRoutes = createRouter()
  .openapi(sheet, async (c) => c.json(await paymentSheet(c.get('deps'), principalOf(c).userId, c.req.valid('param').id), 200))
  .openapi(approve, async (c) => c.json(await approveOverage(c.get('deps'), principalOf(c).userId, c.req.valid('param').id), 200))
  .openapi(webhook, async (c) => {
    const deps = c.get('deps');
    // The signature covers the exact bytes: read the raw text, never a parsed body.
    const event = await verifyStripeEvent(deps, await c.req.text(), c.req.header('stripe-signature'));
    const outcome = await handleStripeEvent(deps, event);
    deps.metrics.webhookEvent({ type: event.type, outcome });
    recordAuthorisation(deps.metrics, event, outcome);
    c.get('logger').info('stripe webhook', { eventId: event.id, type: event.type, outcome });
    return c.json({ received: true as const, outcome }, 200);
  })
  .openapi(capture, async (c) => c.json(await captureOrderPayment(c.get('deps'), c.req.valid('param').id), 200))
  .openapi(refund, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const result = await refundOrder(c.get('deps'), { orderId: id, ...body, actorUserId: principalOf(c).userId });
    return c.json(result, 201);
  })
  .openapi(inPerson, async (c) => {
    const p = principalOf(c);
    await recordInPersonPayment(c.get('deps'), {
      orderId: c.req.valid('param').id,
      ...c.req.valid('json'),
      actorUserId: p.userId,
      actorRole: p.role === 'admin' ? 'admin' : 'staff',
    });
    return c.body(null, 204);
  });
