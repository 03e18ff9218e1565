import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../http/context.js';
import { jsonResponse } from '../../http/validation.js';

const DB_TIMEOUT_MS = 2000;

const CheckSchema = z.object({
  status: z.enum(['ok', 'fail']),
  durationMs: z.number(),
  error: z.string().optional(),
});

const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), CheckSchema).openapi({ example: { database: { status: 'ok', durationMs: 3.1 } } }),
  })
  .openapi('Readiness');

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['Health'],
  summary: 'Liveness',
  description: 'Touches no dependency: it answers while the process can serve at all.',
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'Alive.') },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Health'],
  summary: 'Readiness',
  description: `Checks the database (timeout ${DB_TIMEOUT_MS} ms). 503 names the failing check, and is also returned while the process drains on shutdown.`,
  responses: {
    200: jsonResponse(ReadinessSchema, 'Ready.'),
    503: jsonResponse(ReadinessSchema, 'Not ready; `checks` says why.'),
  },
});

export const healthRoutes = createRouter()
  .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(readyz, async (c) => {
    const deps = c.get('deps');
    const checks: Record<string, z.infer<typeof CheckSchema>> = {};
    if (deps.lifecycle.draining) {
      checks.shutdown = { status: 'fail', durationMs: 0, error: 'draining: the process is shutting down' };
    }
    const started = performance.now();
    try {
      await deps.database.ping(DB_TIMEOUT_MS);
      checks.database = { status: 'ok', durationMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch (err) {
      deps.logger.warn('readiness: database check failed', { error: err });
      checks.database = {
        status: 'fail',
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        error: err instanceof Error && /timed out|timeout|abort/i.test(`${err.name} ${err.message}`) ? 'timeout' : 'unreachable',
      };
    }
    const ready = Object.values(checks).every((ch) => ch.status === 'ok');
    return ready ? c.json({ status: 'ready' as const, checks }, 200) : c.json({ status: 'not_ready' as const, checks }, 503);
  });
