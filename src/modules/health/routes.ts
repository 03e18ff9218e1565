import { createRoute, z } from '@hono/zod-openapi';
import { withTimeout } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { createRouter } from '../../http/context.js';
import { jsonResponse } from '../../http/validation.js';
import type { Payments } from '../../payments/stripe.js';

const DB_TIMEOUT_MS = 2000;
const STRIPE_TIMEOUT_MS = 2000;
/** Stripe is asked at most once a minute per process, however often the probes come. */
const STRIPE_CHECK_TTL_MS = 60_000;

const CheckSchema = z.object({
  status: z.enum(['ok', 'fail']),
  durationMs: z.number(),
  error: z.string().optional(),
  /** True when the result is the one remembered from an earlier probe (Stripe: up to a minute old). */
  cached: z.boolean().optional(),
});
type Check = z.infer<typeof CheckSchema>;

const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'degraded', 'not_ready']),
    checks: z.record(z.string(), CheckSchema).openapi({
      example: { database: { status: 'ok', durationMs: 3.1 }, stripe: { status: 'ok', durationMs: 120.4, cached: true } },
    }),
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
  description: [
    `Checks the database (timeout ${DB_TIMEOUT_MS} ms) and, when card payments are configured, that Stripe answers (timeout ${STRIPE_TIMEOUT_MS} ms, remembered for a minute).`,
    'The database failing, or the process draining on shutdown, is 503 `not_ready`. Stripe failing is 200 `degraded`: pay on delivery still works, so the instance stays in service.',
  ].join(' '),
  responses: {
    200: jsonResponse(ReadinessSchema, 'Ready, or degraded (`checks` says which dependency is failing).'),
    503: jsonResponse(ReadinessSchema, 'Not ready; `checks` says why.'),
  },
});

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10;

const isTimeout = (err: unknown) => err instanceof Error && /timed? ?out|timeout|abort/i.test(`${err.name} ${err.message}`);

async function databaseCheck(deps: Deps): Promise<Check> {
  const started = performance.now();
  try {
    await deps.database.ping(DB_TIMEOUT_MS);
    return { status: 'ok', durationMs: elapsed(started) };
  } catch (err) {
    deps.logger.warn('readiness: database check failed', { error: err });
    return { status: 'fail', durationMs: elapsed(started), error: isTimeout(err) ? 'timeout' : 'unreachable' };
  }
}

/** One authenticated, read-only call (what reconciliation needs), without the SDK's retries. */
async function probeStripe(deps: Deps, payments: Payments): Promise<Check> {
  const started = performance.now();
  try {
    await withTimeout(
      payments.stripe.paymentIntents.list({ limit: 1 }, { timeout: STRIPE_TIMEOUT_MS, maxNetworkRetries: 0 }),
      STRIPE_TIMEOUT_MS + 500,
      'stripe check',
    );
    return { status: 'ok', durationMs: elapsed(started) };
  } catch (err) {
    deps.logger.warn('readiness: stripe check failed', { error: err });
    return { status: 'fail', durationMs: elapsed(started), error: stripeFailure(err) };
  }
}

/** timeout | unreachable (no answer) | server_error (Stripe 5xx) | rejected (Stripe refused: keys, permissions, rate limit). */
function stripeFailure(err: unknown): string {
  const type = (err as { type?: unknown }).type;
  if (isTimeout(err)) return 'timeout';
  if (type === 'StripeConnectionError' || type === undefined) return 'unreachable';
  return type === 'StripeAPIError' ? 'server_error' : 'rejected';
}

/** Per Stripe client, so every app (and every test app) has its own minute. */
const stripeChecks = new WeakMap<Payments, { at: number; check: Promise<Check> }>();

function stripeCheck(deps: Deps, payments: Payments): Promise<Check> {
  const now = deps.clock.now().getTime();
  const last = stripeChecks.get(payments);
  if (last && now - last.at < STRIPE_CHECK_TTL_MS) return last.check.then((c) => ({ ...c, cached: true }));
  const check = probeStripe(deps, payments);
  stripeChecks.set(payments, { at: now, check });
  return check;
}

export const healthRoutes = createRouter()
  .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(readyz, async (c) => {
    const deps = c.get('deps');
    const checks: Record<string, Check> = {};
    if (deps.lifecycle.draining) {
      checks.shutdown = { status: 'fail', durationMs: 0, error: 'draining: the process is shutting down' };
    }
    const [database, stripe] = await Promise.all([databaseCheck(deps), deps.payments ? stripeCheck(deps, deps.payments) : undefined]);
    checks.database = database;
    if (stripe) checks.stripe = stripe;
    // Stripe is not required to serve: without it card payments fail, everything else works.
    const critical = Object.entries(checks).filter(([name]) => name !== 'stripe');
    if (critical.some(([, ch]) => ch.status === 'fail')) return c.json({ status: 'not_ready' as const, checks }, 503);
    return c.json({ status: stripe?.status === 'fail' ? ('degraded' as const) : ('ready' as const), checks }, 200);
  });
