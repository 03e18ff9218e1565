import { bodyLimit } from 'hono/body-limit';
import type { Deps } from './deps.js';
import { ApiError } from './errors.js';
import { allowedMethods } from './http/allowed-methods.js';
import { createRouter } from './http/context.js';
import { registerDocsUi } from './http/docs-ui.js';
import { servedDocument } from './http/openapi-document.js';
import { DOCS_STRIPPED } from './build/docs-stripped.js';
import { bodyLimitFor, errorHandler, notFoundHandler, requestContext, responseHeaders } from './http/middleware.js';
import { countRejectedWebhooks, metricsRoutes } from './metrics/routes.js';
import { accountRoutes } from './modules/account/routes.js';
import { addressRoutes } from './modules/addresses/routes.js';
import { authRoutes } from './modules/auth/routes.js';
import { recoveryRoutes } from './modules/auth/recovery-routes.js';
import { catalogRoutes } from './modules/catalog/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { notificationRoutes } from './modules/notifications/routes.js';
import { orderRoutes } from './modules/orders/routes.js';
import { paymentRoutes } from './modules/payments/routes.js';
import { creditRoutes } from './modules/credit/routes.js';
import { promoRoutes } from './modules/promos/routes.js';
import { recurringRoutes } from './modules/recurring/routes.js';
import { schedulingRoutes } from './modules/scheduling/routes.js';
import { tipRoutes } from './modules/tips/routes.js';
import { fulfilmentRoutes } from './modules/fulfilment/routes.js';
import { zoneRoutes } from './modules/zones/routes.js';

export const API_TITLE = 'Laundry pickup & delivery API';
export const API_VERSION = '1.0.0';

/** `info.description` of /openapi.json: what holds for every operation. */
export const API_DESCRIPTION = [
  'Errors are RFC 9457 `application/problem+json` with a stable `code` and the `requestId`. Each error response lists the codes it may carry, in its description and in `x-problem-codes`; clients branch on `code`, never on `title` or `detail`.',
  'Every response carries `X-Request-Id` (the one the client sent, when it is 8–128 of [A-Za-z0-9._:-], else a new one) and `X-App-Version`. `Retry-After` (integer seconds) comes with `too_many_attempts` (429), `busy` and `database_unavailable` (503) and `payment_in_progress` (409); each response says when it is sent. A request body marked `x-raw-body` (the Stripe webhook) is verified as raw bytes and documented, not validated against its schema.',
  'Money is integer minor units; times are ISO 8601 UTC.',
  'Any operation under /v1 uses the database and may answer 503 `database_unavailable` with `Retry-After` when it is unreachable or slow: a write either committed whole or not at all, so retry with the same `Idempotency-Key`. Any operation may answer 500 `internal_error`.',
  'Every method but GET and HEAD under /v1 is subject to the body limit (413 `payload_too_large`), with or without a body. A path that exists but not with the method answers 405 `method_not_allowed` with `Allow` listing its methods; an unknown path 404 `route_not_found`.',
  'Input rules (422 `validation_failed`, the field named in `errors`): text never contains NUL (U+0000) or an unpaired UTF-16 surrogate; ' +
    'instants are ISO 8601 with an offset and dates YYYY-MM-DD, both in years 2000–2100; a `cursor` is only ever a `nextCursor` the list returned.',
].join('\n\n');

/**
 * The document's tags, in the order a reader meets them. Every operation's `tags` names one of
 * these (Spectral's operation-tag-defined); generators group methods by them.
 */
const OPENAPI_TAGS = [
  { name: 'Health', description: 'Liveness and readiness probes for the platform.' },
  { name: 'Auth', description: 'Registration, login, refresh-token rotation and logout; the signed-in user.' },
  { name: 'Catalog', description: 'The public service catalog.' },
  { name: 'Addresses', description: 'The customer’s saved addresses.' },
  { name: 'Scheduling', description: 'Coverage by postcode and the bookable pickup and delivery windows.' },
  { name: 'Orders', description: 'The customer’s orders: place, list, read, cancel.' },
  { name: 'Credit', description: 'The customer’s account credit: balance and history.' },
  { name: 'Notifications', description: 'The customer’s phones for push, notification preferences per type and channel, and the in-app inbox.' },
  { name: 'Payments', description: 'Card payments with Stripe: the PaymentSheet, overage approval and Stripe’s webhook.' },
  { name: 'Staff', description: 'The shop console: the work queue, status changes and the weigh-in (staff and admins).' },
  { name: 'Staff: payments', description: 'Capture, refunds, payments at the door and waivers (refunds and waivers: admins).' },
  { name: 'Admin: catalog', description: 'Services and add-ons (admins).' },
  { name: 'Admin: promo codes and credit', description: 'Promo codes and account credit grants (admins).' },
  { name: 'Admin: scheduling', description: 'Zones, slots, weekly slot generation and closures (admins).' },
  { name: 'Admin: accounts', description: 'Erasing a customer’s account on their request (admins).' },
];

/**
 * CORS: every request header the document declares, and every response header a client acts on.
 * Also read by the Node server's cached-catalog path (src/platform/node/server.ts).
 */
export const CORS_LISTS = {
  allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'If-None-Match', 'Stripe-Version'],
  exposeHeaders: ['X-Request-Id', 'X-App-Version', 'Retry-After', 'ETag', 'Idempotent-Replayed', 'WWW-Authenticate', 'Content-Disposition'],
  maxAgeSeconds: 600,
} as const;

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
    responseHeaders({ corsOrigins: config.corsOrigins, ...CORS_LISTS, allowedMethods: allowed }),
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
  app.route('/', recoveryRoutes);
  app.route('/', catalogRoutes);
  app.route('/', addressRoutes);
  app.route('/', schedulingRoutes);
  app.route('/', zoneRoutes);
  app.route('/', orderRoutes);
  app.route('/', fulfilmentRoutes);
  app.route('/', paymentRoutes);
  app.route('/', tipRoutes);
  app.route('/', notificationRoutes);
  app.route('/', promoRoutes);
  app.route('/', creditRoutes);
  app.route('/', accountRoutes);
  app.route('/', recurringRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'Access token from /v1/auth/login, /v1/auth/register or /v1/auth/refresh: a JWS (HS256) issued and checked as RFC8725 (JWT Best Current Practices) ' +
      'recommends: one algorithm only (`alg: none` and algorithm swaps are refused), issuer checked, `exp` required, a key of at ' +
      'least 32 characters. The role in it is re-checked in the database on every staff and admin request.',
  });
  // Built on first request from the routes above and kept: the same text on Node and the Worker.
  const openApiText = servedDocument(app, {
    openapi: '3.1.0',
    info: { title: API_TITLE, version: API_VERSION, description: API_DESCRIPTION },
    servers: [
      {
        url: '/',
        description: 'The deployment that serves this document (production, staging or local): same origin.',
        'x-internal': false,
      },
    ],
    tags: OPENAPI_TAGS,
  });
  // The Worker build serves the document built on Node at build time (deps.prebuiltOpenApi): its
  // route definitions lack the documentation strings (tools/worker-bundle/build.ts), so it must
  // never build one itself.
  const prebuilt = deps.prebuiltOpenApi;
  const documentText = async (): Promise<string> => {
    const text = prebuilt ? await prebuilt() : undefined;
    if (text !== undefined) return text;
    if (DOCS_STRIPPED) throw new Error('this Worker build serves /openapi.json from its Static Assets, and openapi.json is not among them');
    return openApiText();
  };
  app.get('/openapi.json', async (c) => c.body(await documentText(), 200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' }));
  if (config.docsUi) registerDocsUi(app, deps.docsAssets, API_TITLE);

  app.notFound(notFoundHandler(allowed));
  app.onError(errorHandler);
  return app;
}

export type App = ReturnType<typeof createApp>;
