/**
 * GET /readyz: the database (always) and Stripe (when card payments are configured), checked
 * in parallel. The database failing, or the process draining, is `not_ready`; Stripe failing
 * alone is `degraded` (pay on delivery still works).
 */
import { withTimeout } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import type { Payments } from '../../payments/stripe.js';
import { isStripeError } from '../../payments/stripe-errors.js';
import type { Check, Readiness } from './schemas.js';

export const DB_TIMEOUT_MS = 2000;
export const STRIPE_TIMEOUT_MS = 2000;
/** Stripe is asked at most once a minute per process, however often the probes come. */
const STRIPE_CHECK_TTL_MS = 60_000;

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
      // The SDK's first load is inside the bound too.
      payments.client().then((stripe) => stripe.paymentIntents.list({ limit: 1 }, { timeout: STRIPE_TIMEOUT_MS, maxNetworkRetries: 0 })),
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
  if (isTimeout(err)) return 'timeout';
  const type = isStripeError(err) ? err.type : undefined;
  if (type === undefined || type === 'StripeConnectionError') return 'unreachable';
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

export async function checkReadiness(deps: Deps): Promise<Readiness> {
  const checks: Record<string, Check> = {};
  if (deps.lifecycle.draining) {
    checks.shutdown = { status: 'fail', durationMs: 0, error: 'draining: the process is shutting down' };
  }
  const [database, stripe] = await Promise.all([databaseCheck(deps), deps.payments ? stripeCheck(deps, deps.payments) : undefined]);
  checks.database = database;
  if (stripe) checks.stripe = stripe;
  // Stripe is not required to serve: without it card payments fail, everything else works.
  const critical = Object.entries(checks).filter(([name]) => name !== 'stripe');
  if (critical.some(([, ch]) => ch.status === 'fail')) return { status: 'not_ready', checks };
  return { status: stripe?.status === 'fail' ? 'degraded' : 'ready', checks };
}
