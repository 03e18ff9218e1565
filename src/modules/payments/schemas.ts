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
    captured: z.number().int().optional(),
    overage: z.enum(['none', 'charged', 'awaiting_approval', 'failed']).optional(),
  })
  .openapi('CaptureResult');

