import { createRoute, z } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonResponse } from '../../http/validation.js';
import { recordAuthorisation } from '../../metrics/index.js';
import { OrderIdParam } from '../orders/schemas.js';
import { approveOverage } from './approve-overage.js';
import { CaptureSchema, PaymentSheetHeaders, PaymentSheetSchema, StripeEventJsonSchema, StripeWebhookHeaders } from './schemas.js';
import { paymentSheet } from './sheet.js';
import { handleStripeEvent, verifyStripeEvent, WEBHOOK_OUTCOMES } from './webhook.js';

const bearer = [{ bearerAuth: [] }];

const sheet = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/payment-sheet',
  operationId: 'createPaymentSheet',
  tags: ['Payments'],
  summary: 'Stripe PaymentSheet: authorise the hold, or pay what is outstanding',
  description:
    'Two purposes, named in the answer (`purpose`). ' +
    '**hold**: a `card` order in `pending_payment`. Creates (once) a manual-capture PaymentIntent for the estimate plus a buffer; the card is saved for off-session charges. The order becomes `confirmed` when Stripe reports the authorisation (webhook). ' +
    '**balance**: a weighed `card` order with something outstanding that no hold or charge in flight covers (the hold was lost, or an off-session charge was declined or needed authentication; the order is flagged `payment_outstanding`). Creates an automatic-capture PaymentIntent for that amount, no card pinned: the customer may use any card, with 3-D Secure if the bank asks. The flag clears when Stripe reports the payment (webhook). ' +
    'Calling it again returns the same open PaymentIntent (for the same outstanding amount). ' +
    'Customer access for PaymentSheet: `customerSessionClientSecret` always (a CustomerSession, which Stripe recommends on API version 2026-10-28.endive); `ephemeralKey` only when the request sends header `Stripe-Version` with the API version of the app’s Stripe SDK (the key is made with that version), else null. ' +
    'Errors: 404 `not_found`; 409 `payment_not_applicable` (pay on delivery, or an outstanding amount below Stripe’s minimum charge); 409 `payment_not_pending` (cancelled, or not weighed yet: the hold covers it); 409 `overage_approval_pending` (approve the extra charge instead); 409 `nothing_outstanding`; 422 `validation_failed` (malformed `Stripe-Version`); 502 `payment_provider_error` (safe to retry); 503 `payments_not_configured`.',
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam, headers: PaymentSheetHeaders },
  responses: {
    200: jsonResponse(PaymentSheetSchema, 'PaymentSheet parameters.'),
    ...problems('not_found', 'payment_not_applicable', 'payment_not_pending', 'overage_approval_pending', 'nothing_outstanding', 'payment_provider_error', 'payments_not_configured'),
  },
});

const approve = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/approve-overage',
  operationId: 'approveOverage',
  tags: ['Payments'],
  summary: 'Approve an extra charge above the hold',
  description: 'When the weighed price exceeds the hold by more than the approval threshold, the difference is only charged after this call.',
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam },
  responses: {
    200: jsonResponse(CaptureSchema, 'Approved; the extra charge was attempted.'),
    ...problems('not_found', 'overage_not_pending', 'payment_provider_error', 'payments_not_configured'),
  },
});

const webhook = createRoute({
  method: 'post',
  path: '/v1/webhooks/stripe',
  operationId: 'handleStripeWebhook',
  tags: ['Payments'],
  summary: 'Stripe webhook',
  description:
    'Verifies `Stripe-Signature` over the raw body (400 `invalid_signature` otherwise). Each event id is applied once; replays answer 200 and change nothing. Events are checked against our records and only move state forward; an amount that does not match flags the order. Handled: `payment_intent.amount_capturable_updated`, `payment_intent.succeeded`, `payment_intent.payment_failed`, `payment_intent.canceled`, `charge.refunded`, `charge.dispute.created`, and the refund outcomes `refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated` (our refund is found by the Refund id, or by `metadata.refund_id` before we have the id; a refund on one of our PaymentIntents that we have no row for, e.g. made in the Stripe Dashboard, is recorded with no actor; a `failed` or `canceled` refund is marked so, the order flagged `refund_failed`, the amount refundable again; `pending` never undoes an outcome). Other types answer 200 `ignored`; `outcome` is one of `applied`, `duplicate`, `ignored`, `stale`, `unknown_payment`, `flagged`.',
  request: {
    headers: StripeWebhookHeaders,
    // Documented, not validated: the signature covers the raw bytes, so they are verified before
    // anything is parsed (x-raw-body tells the document's walkers the app does not validate it).
    body: {
      required: true,
      description: 'The Stripe Event, exactly as Stripe sent it (the signature covers these bytes).',
      content: { 'application/json': { schema: StripeEventJsonSchema } },
      'x-raw-body': true,
    },
  },
  responses: {
    200: jsonResponse(z.object({ received: z.literal(true), outcome: z.enum(WEBHOOK_OUTCOMES) }), 'Accepted.'),
    ...problems('invalid_signature', 'payments_not_configured'),
  },
});

const paymentSheetHandler: Handler<typeof sheet> = async (c) =>
  c.json(await paymentSheet(c.get('deps'), principalOf(c).userId, c.req.valid('param').id, c.req.valid('header')['stripe-version']), 200);

const approveOverageHandler: Handler<typeof approve> = async (c) =>
  c.json(await approveOverage(c.get('deps'), principalOf(c).userId, c.req.valid('param').id), 200);

const stripeWebhookHandler: Handler<typeof webhook> = async (c) => {
  const deps = c.get('deps');
  // The signature covers the exact bytes: read the raw text, never a parsed body.
  const event = await verifyStripeEvent(deps, await c.req.text(), c.req.header('stripe-signature'));
  const outcome = await handleStripeEvent(deps, event);
  deps.metrics.webhookEvent({ type: event.type, outcome });
  recordAuthorisation(deps.metrics, event, outcome);
  c.get('logger').info('stripe webhook', { eventId: event.id, type: event.type, outcome });
  return c.json({ received: true as const, outcome }, 200);
};

/** The customer's side of card payments and Stripe's webhook; the shop's side is in fulfilment. */
export const paymentRoutes = createRouter()
  .openapi(sheet, paymentSheetHandler)
  .openapi(approve, approveOverageHandler)
  .openapi(webhook, stripeWebhookHandler);
