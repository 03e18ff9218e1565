import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import type { Deps } from './deps.js';
import { ApiError } from './errors.js';
import { allowedMethods } from './http/allowed-methods.js';
import { createRouter } from './http/context.js';
import { servedDocument } from './http/openapi-document.js';
import { bodyLimitFor, errorHandler, notFoundHandler, requestContext, responseHeaders } from './http/middleware.js';
import { countRejectedWebhooks, metricsRoutes } from './metrics/routes.js';
import { addressRoutes } from './modules/addresses/routes.js';
import { authRoutes } from './modules/auth/routes.js';
import { catalogRoutes } from './modules/catalog/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { orderRoutes } from './modules/orders/routes.js';
import { paymentRoutes } from './modules/payments/routes.js';
import { schedulingRoutes } from './modules/scheduling/routes.js';
import { fulfilmentRoutes } from './modules/fulfilment/routes.js';
import { zoneRoutes } from './modules/zones/routes.js';

export const API_TITLE = 'Laundry pickup & delivery API';
export const API_VERSION = '1.0.0';

/** `info.description` of /openapi.json: what holds for every operation. */
export const API_DESCRIPTION = [
  'Errors are RFC 9457 `application/problem+json` with a stable `code` and the `requestId`. Each error response lists the codes it may carry, in its description and in `x-problem-codes`; clients branch on `code`, never on `title` or `detail`.',
  'Every response carries `X-Request-Id` (the one the client sent, when it is 8–128 of [A-Za-z0-9._:-], else a new one) and `X-App-Version`. 429 and 503 answers carry `Retry-After` in seconds.',
  'Money is integer minor units; times are ISO 8601 UTC.',
  'Any operation under /v1 uses the database and may answer 503 `database_unavailable` with `Retry-After` when it is unreachable or slow: a write either committed whole or not at all, so retry with the same `Idempotency-Key`. Any operation may answer 500 `internal_error`.',
  'Every method but GET and HEAD under /v1 is subject to the body limit (413 `payload_too_large`), with or without a body. A path that exists but not with the method answers 405 `method_not_allowed` with `Allow` listing its methods; an unknown path 404 `route_not_found`.',
  'Input rules (422 `validation_failed`, the field named in `errors`): text never contains NUL (U+0000) or an unpaired UTF-16 surrogate; ' +
    'instants are ISO 8601 with an offset and dates YYYY-MM-DD, both in years 2000–2100; a `cursor` is only ever a `nextCursor` the list returned.',
].join('\n\n');

/**
 * Builds the one Hono app both runtimes serve. It knows nothing about the runtime:
 * everything it needs arrives in `deps`.
 */
export function createApp(deps: Deps) {
  const { config } = deps;
  const app = createRouter();
  // Read once the routes below are registered: 405 with Allow, and preflights on real paths only.
  const allowed = allowedMethods(() => app.routes);

  app.use('*', requestContext(deps));
  app.use(
    '*',
    responseHeaders({
      corsOrigins: config.corsOrigins,
      allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
      exposeHeaders: ['X-Request-Id', 'X-App-Version'],
      maxAgeSeconds: 600,
      allowedMethods: allowed,
    }),
  );
  // Before the body limit, so an oversized delivery is counted too.
  app.use('/v1/webhooks/stripe', countRejectedWebhooks());
  app.use(
    '/v1/*',
    bodyLimitFor(
      bodyLimit({
        maxSize: config.bodyLimitBytes,
        onError: () => {
          throw new ApiError('payload_too_large', `The request body exceeds ${config.bodyLimitBytes} bytes.`);
        },
      }),
    ),
  );

  app.route('/', healthRoutes);
  app.route('/', metricsRoutes);
  app.route('/', authRoutes);
  app.route('/', catalogRoutes);
  app.route('/', addressRoutes);
  app.route('/', schedulingRoutes);
  app.route('/', zoneRoutes);
  app.route('/', orderRoutes);
  app.route('/', fulfilmentRoutes);
  app.route('/', paymentRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token from /v1/auth/login, /v1/auth/register or /v1/auth/refresh.',
  });
  // Built on first request from the routes above and kept: the same text on Node and the Worker.
  const openApiText = servedDocument(app, {
    openapi: '3.1.0',
    info: { title: API_TITLE, version: API_VERSION, description: API_DESCRIPTION },
    servers: [{ url: '/' }],
  });
  app.get('/openapi.json', (c) => c.body(openApiText(), 200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' }));
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: API_TITLE }));

  app.notFound(notFoundHandler(allowed));
  app.onError(errorHandler);
  return app;
}

export type App = ReturnType<typeof createApp>;
