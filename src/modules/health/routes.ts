import { createRoute } from '@hono/zod-openapi';
import { createRouter, type Handler } from '../../http/context.js';
import { jsonResponse } from '../../http/validation.js';
import { checkReadiness, DB_TIMEOUT_MS, STRIPE_TIMEOUT_MS } from './readiness.js';
import { LivenessSchema, ReadinessSchema } from './schemas.js';

const livenessRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getLiveness',
  tags: ['Health'],
  summary: 'Liveness',
  description: 'Touches no dependency: it answers while the process can serve at all.',
  responses: { 200: jsonResponse(LivenessSchema, 'Alive.') },
});

const readinessRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['Health'],
  summary: 'Readiness',
  description: [
    `Checks the database (timeout ${DB_TIMEOUT_MS} ms) and, when card payments are configured, that Stripe answers (timeout ${STRIPE_TIMEOUT_MS} ms, remembered for a minute).`,
    'The database failing, or the process draining on shutdown, is 503 `not_ready`. Stripe failing is 200 `degraded`: pay on delivery still works, so the instance stays in service.',
  ].join(' '),
  responses: {
    200: jsonResponse(ReadinessSchema, 'Ready, or degraded (`checks` says which dependency is failing).'),
    503: jsonResponse(ReadinessSchema, 'Not ready; `checks` says why.'),
  },
});

// ---- handlers -------------------------------------------------------------------------------

const livenessHandler: Handler<typeof livenessRoute> = (c) => c.json({ status: 'ok' as const }, 200);

const readinessHandler: Handler<typeof readinessRoute> = async (c) => {
  const readiness = await checkReadiness(c.get('deps'));
  return readiness.status === 'not_ready' ? c.json(readiness, 503) : c.json(readiness, 200);
};

export const healthRoutes = createRouter()
  .openapi(livenessRoute, livenessHandler)
  .openapi(readinessRoute, readinessHandler);
