import { z } from '@hono/zod-openapi';

export const PaymentSheetSchema = z
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

export const CaptureSchema = z
  .object({
    kind: z.enum(['not_card', 'captured', 'already_captured']),
    captured: z.number().int().optional().openapi({ description: 'Captured from the hold, minor units.' }),
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

