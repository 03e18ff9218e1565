import { z } from '@hono/zod-openapi';

export const LivenessSchema = z.object({ status: z.literal('ok') });

export const CheckSchema = z.object({
  status: z.enum(['ok', 'fail']),
  durationMs: z.number(),
  error: z.string().optional(),
  /** True when the result is the one remembered from an earlier probe (Stripe: up to a minute old). */
  cached: z.boolean().optional(),
});
export type Check = z.infer<typeof CheckSchema>;

export const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'degraded', 'not_ready']),
    checks: z.record(z.string(), CheckSchema).openapi({
      example: { database: { status: 'ok', durationMs: 3.1 }, stripe: { status: 'ok', durationMs: 120.4, cached: true } },
    }),
  })
  .openapi('Readiness');

export type Readiness = z.infer<typeof ReadinessSchema>;
