import { z } from '@hono/zod-openapi';
import { INT4_MAX, MAX_YEAR, integerOut } from '../../http/schemas.js';
import type { SchemaObject } from 'openapi3-ts/oas31';

/** The Stripe SDK API version a mobile client sends so that its ephemeral key is made with it. */
export const STRIPE_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?(; ?[a-z0-9_]+=v\d+)*$/;

/** The date an API version is named after exists and is between 2011 and 2099. */
function isApiVersionDate(version: string): boolean {
  const day = version.slice(0, 10);
  const year = Number(day.slice(0, 4));
  // Zod runs this even after the pattern failed: never assume the shape here.
  const date = new Date(`${day}T00:00:00Z`);
  return year >= 2011 && year <= 2099 && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

export const PaymentSheetHeaders = z.object({
  'stripe-version': z
    .string()
    .max(200)
    .regex(STRIPE_VERSION_PATTERN, 'a Stripe API version such as 2020-08-27 or 2026-10-28.endive')
    .refine(isApiVersionDate, 'a Stripe API version: a real date since 2011, when Stripe began dating its versions')
    .optional()
    .openapi({
      param: { name: 'stripe-version', in: 'header', required: false },
      description:
        "Optional. The Stripe API version of the client's Stripe SDK (iOS `STPAPIClient.apiVersion`, Android `ApiVersion.get().code`), " +
        'e.g. `2020-08-27`. Send it only if the app still opens PaymentSheet with `customerEphemeralKeySecret`: the ephemeral key is then ' +
        'made with THIS version, as Stripe requires. Malformed: 422 `validation_failed`.',
    }),
});

export const PaymentSheetSchema = z
  .object({
    purpose: z.enum(['hold', 'balance']).openapi({
      description:
        '`hold`: authorise the estimate plus buffer (manual capture; the order becomes `confirmed` when Stripe reports it). ' +
        '`balance`: pay what is outstanding now (automatic capture, any card, 3-D Secure when the bank asks); the order’s ' +
        '`payment_outstanding` flag clears when Stripe reports the payment.',
      example: 'hold',
    }),
    paymentIntentId: z.string().openapi({ example: 'pi_3Q0abc' }),
    paymentIntentClientSecret: z.string().openapi({ example: 'pi_3Q0abc_secret_xyz' }),
    customerId: z.string().openapi({ example: 'cus_Q0abc' }),
    customerSessionClientSecret: z.string().openapi({
      description:
        'Always present. A CustomerSession client secret (mobile Payment Element enabled: saved cards shown, a new card may be saved, ' +
        'none removed). Pass it as PaymentSheet `customerSessionClientSecret` with `customerId`; Stripe recommends this over an ' +
        'ephemeral key on API versions from 2025-10-29.clover.',
      example: 'cuss_secret_abc',
    }),
    ephemeralKey: z
      .string()
      .nullable()
      .openapi({
        description:
          'Null unless the request sent `Stripe-Version`; then a customer ephemeral key made with that API version, for an app that ' +
          'still passes `customerEphemeralKeySecret`. Never pass both keys to PaymentSheet. Deprecated: use `customerSessionClientSecret` (Stripe recommends it from API version 2025-10-29.clover).',
        example: null,
        deprecated: true,
      }),
    publishableKey: z.string().openapi({ example: 'pk_test_abc' }),
    amount: integerOut().openapi({ description: 'Minor units. `hold`: estimate plus buffer. `balance`: what is outstanding and not covered by a charge in flight.', example: 2579 }),
    currency: z.string().openapi({ example: 'USD' }),
  })
  .openapi('PaymentSheet');

export const CaptureSchema = z
  .object({
    kind: z.enum(['not_card', 'captured', 'already_captured', 'balance']).openapi({
      description:
        '`balance`: the hold was lost (released or cancelled by Stripe, or its capture refused), so the outstanding balance was ' +
        'charged off-session on the card saved with the hold instead; see `balance`.',
    }),
    captured: integerOut().optional().openapi({ description: 'Captured from the hold, minor units.' }),
    balance: z
      .enum(['charged', 'processing', 'failed', 'awaiting_customer', 'none'])
      .optional()
      .openapi({
        description:
          'Only with kind `balance`. `charged`/`processing`: the saved card was charged (a `balance` payment). `failed`: declined or ' +
          'authentication required; the order is flagged `payment_outstanding` and the customer pays with POST /v1/orders/{id}/payment-sheet. ' +
          '`awaiting_customer`: the balance exceeds the lost hold by more than the overage approval threshold and no overage was approved, ' +
          'so it is not charged off-session; flagged, and the customer pays with the PaymentSheet. ' +
          '`none`: nothing outstanding. One off-session attempt per order: a retry reports the first answer.',
      }),
    overage: z
      .enum(['none', 'charged', 'awaiting_approval', 'failed', 'waived'])
      .optional()
      .openapi({
        description:
          'The part of the weighed price above the hold. `none`: nothing above it. `charged`: charged off-session (or processing). ' +
          '`awaiting_approval`: above the approval threshold, waiting for the customer. `failed`: declined; the order is flagged `overage_failed`. ' +
          '`waived`: below Stripe’s minimum charge for the currency, so it cannot be charged; not collected, recorded once on the ' +
          'order’s timeline (note and evidence with the amount and the minimum), not flagged. Final: a retry answers `waived` again.',
      }),
  })
  .openapi('CaptureResult', { description: 'What a capture did with the hold and with any overage.' });


/**
 * The webhook's `Stripe-Signature` header (https://docs.stripe.com/webhooks#verify-events):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`. Required; checked by the handler against the raw
 * body (400 `invalid_signature` when missing, malformed or not matching), so this only bounds it.
 */
export const StripeWebhookHeaders = z.object({
  'stripe-signature': z
    .string()
    .max(4096)
    .optional()
    .openapi({
      param: { name: 'stripe-signature', in: 'header', required: true },
      description:
        'Required. Stripe’s signature over the raw body: `t=<unix seconds>,v1=<hex HMAC-SHA256>` (more `v1` entries while a secret is rolled). Missing, malformed, not matching or older than the tolerance: 400 `invalid_signature`.',
      example: 't=1764460800,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd',
    }),
});

/**
 * A Stripe Event as the webhook receives it (https://docs.stripe.com/api/events/object): the
 * fields the handler reads, every other one allowed. A plain JSON Schema, not zod: the body is
 * verified as raw bytes (signature first) and only then parsed, so the app never validates it
 * against this; it documents what Stripe sends.
 */
/** The first second after the API's time range (src/http/schemas.ts MAX_YEAR), in Unix seconds. */
const UNIX_SECONDS_END = Date.UTC(MAX_YEAR + 1, 0, 1) / 1000;

export const StripeEventJsonSchema: SchemaObject = {
  type: 'object',
  description: 'A Stripe Event. Only `id`, `type`, `created` and `data.object` are read; other fields are ignored.',
  required: ['id', 'object', 'type', 'created', 'livemode', 'data'],
  properties: {
    id: { type: 'string', maxLength: 255, description: 'Applied once per id.', example: 'evt_1QabcXYZ' },
    object: { type: 'string', enum: ['event'] },
    type: { type: 'string', maxLength: 255, description: 'The event type; unhandled types answer `ignored`.', example: 'payment_intent.succeeded' },
    created: { type: 'integer', format: 'int64', minimum: 0, maximum: UNIX_SECONDS_END, description: 'Unix seconds; orders events of one PaymentIntent.', example: 1764460800 },
    livemode: { type: 'boolean' },
    api_version: { type: ['string', 'null'], maxLength: 255 },
    pending_webhooks: { type: 'integer', format: 'int32', minimum: 0, maximum: INT4_MAX },
    request: { type: ['object', 'null'], additionalProperties: true },
    data: {
      type: 'object',
      required: ['object'],
      properties: {
        object: {
          type: 'object',
          description: 'The PaymentIntent, Charge, Refund or Dispute the event is about.',
          required: ['id', 'object'],
          properties: { id: { type: 'string', maxLength: 255 }, object: { type: 'string', maxLength: 255 } },
          additionalProperties: true,
        },
        previous_attributes: { type: 'object', additionalProperties: true },
      },
      additionalProperties: true,
    },
  },
  additionalProperties: true,
};
