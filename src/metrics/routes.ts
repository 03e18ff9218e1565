import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';
import type { AppEnv } from '../http/context.js';
import { createRouter } from '../http/context.js';

/** Same work whatever the guess, so response timing does not reveal how much of the token matched. */
export function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}

/**
 * GET /metrics, where the metrics implementation is pulled (Prometheus on Node); a 404
 * elsewhere (Workers push to Analytics Engine). With METRICS_TOKEN set it needs
 * `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise). Without one it is open outside
 * production, and does not exist in production. Not part of the public OpenAPI document.
 */
async function scrapeMetricsHandler(c: Context<AppEnv>) {
  const { metrics, config } = c.get('deps');
  if (!metrics.scrape || (!config.metricsToken && config.appEnv === 'production')) {
    throw new ApiError('route_not_found', 'No route for GET /metrics.');
  }
  if (config.metricsToken) {
    const header = c.req.header('authorization');
    if (!header) throw new ApiError('auth_required', 'Send the metrics token as `Authorization: Bearer <token>`.');
    const match = /^Bearer (.+)$/.exec(header);
    if (!match || !sameSecret(match[1]!, config.metricsToken)) throw new ApiError('invalid_token', 'That is not the metrics token.');
  }
  const { contentType, body } = await metrics.scrape();
  return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
}

export const metricsRoutes = createRouter().get('/metrics', scrapeMetricsHandler);

/**
 * Counts the Stripe webhook deliveries the handler did not accept (it counts the ones it
 * did, with their type). The type of a rejected delivery is unknown: an unverified body is
 * never trusted, not even for a label.
 */
export function countRejectedWebhooks(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'POST' || c.res.status < 400) return;
    c.get('deps').metrics.webhookEvent({ type: 'unknown', outcome: c.res.status === 400 ? 'invalid_signature' : 'error' });
  };
}
