import { z } from '@hono/zod-openapi';
import { integerOut } from '../../http/schemas.js';

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
          'still passes `customerEphemeralKeySecret`. Never pass both keys to PaymentSheet.',
        example: null,
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

