import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { requireAuth, setResponseHeader } from '../../http/middleware.js';
import { jsonBody, jsonResponse, jsonText, validationHook } from '../../http/validation.js';
import { ifNoneMatchHits } from '../../http/conditional.js';
import { CATALOG_CACHE_CONTROL, cachedCatalog } from './cache.js';
import { createAddOn } from './create-add-on.js';
import { createService } from './create-service.js';
import { listServices } from './list-services.js';
import {
  AddOnSchema,
  CreateAddOnBody,
  CreateServiceBody,
  IdParam,
  ServiceListSchema,
  ServiceSchema,
  ServicesConditionalHeaders,
  UpdateAddOnBody,
  UpdateServiceBody,
} from './schemas.js';
import { updateAddOn } from './update-add-on.js';
import { updateService } from './update-service.js';

const bearer = [{ bearerAuth: [] }];
const adminOnly = [requireAuth('admin')];

/** Sent with the catalog and with its 304 (RFC 9110 §15.4.5: a 304 repeats ETag and Cache-Control). */
const catalogCacheHeaders = {
  ETag: {
    description: 'Strong validator of this exact body (SHA-256 of its bytes). Send it back in `If-None-Match`.',
    required: true,
    schema: { type: 'string' as const, example: '"5d41402abc4b2a76b9719d911017c592"' },
  },
  'Cache-Control': {
    description: `\`${CATALOG_CACHE_CONTROL}\`: reuse the stored catalog for 60 s without asking, then revalidate.`,
    required: true,
    schema: { type: 'string' as const, example: CATALOG_CACHE_CONTROL },
  },
};

const listActiveRoute = createRoute({
  method: 'get',
  path: '/v1/services',
  operationId: 'listServices',
  tags: ['Catalog'],
  summary: 'The active service catalog',
  description:
    'Public. Prices are integer minor units in `currency`. Inactive services and add-ons are omitted. ' +
    'Cacheable: store the body with its `ETag`, reuse it for `Cache-Control` max-age, then revalidate with `If-None-Match` (304 when unchanged). ' +
    'An admin change reaches every app within 90 s (60 s max-age + the server cache of at most 30 s).',
  request: { headers: ServicesConditionalHeaders },
  responses: {
    200: { ...jsonResponse(ServiceListSchema, 'Active services, in display order.'), headers: catalogCacheHeaders },
    304: { description: 'Not modified: `If-None-Match` matches the current catalog. No body; the stored copy is current.', headers: catalogCacheHeaders },
  },
});

const listAllRoute = createRoute({
  method: 'get',
  path: '/v1/admin/services',
  operationId: 'adminListServices',
  tags: ['Admin: catalog'],
  summary: 'Every service, including inactive ones',
  description:
    'The whole catalog as admins manage it: active and inactive services with all their add-ons, in `sortOrder`. The public `GET /v1/services` shows only what is active.',
  security: bearer,
  middleware: adminOnly,
  responses: { 200: jsonResponse(ServiceListSchema, 'All services.') },
});

const createServiceRoute = createRoute({
  method: 'post',
  path: '/v1/admin/services',
  operationId: 'adminCreateService',
  tags: ['Admin: catalog'],
  summary: 'Create a service, with its add-ons',
  description: "The currency is the shop's (`CURRENCY`); it cannot be chosen per service.",
  security: bearer,
  middleware: adminOnly,
  request: { body: jsonBody(CreateServiceBody) },
  responses: {
    201: jsonResponse(ServiceSchema, 'Created.'),
    ...problems('slug_taken'),
  },
});

const updateServiceRoute = createRoute({
  method: 'patch',
  path: '/v1/admin/services/{id}',
  operationId: 'adminUpdateService',
  tags: ['Admin: catalog'],
  summary: 'Change a service (price, turnaround, express, active)',
  description: 'The pricing model and slug are fixed once created. Orders already placed keep the prices they were placed at.',
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(UpdateServiceBody) },
  responses: {
    200: jsonResponse(ServiceSchema, 'Updated.'),
    ...problems('not_found'),
  },
});

const createAddOnRoute = createRoute({
  method: 'post',
  path: '/v1/admin/services/{id}/add-ons',
  operationId: 'adminCreateAddOn',
  tags: ['Admin: catalog'],
  summary: 'Add an add-on to a service',
  description:
    'A new add-on for the service in the path, with a slug unique within that service (a taken slug is 409). Customers can choose it on new orders at once; the public catalog is refreshed.',
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(CreateAddOnBody) },
  responses: {
    201: jsonResponse(AddOnSchema, 'Created.'),
    ...problems('not_found', 'slug_taken'),
  },
});

const updateAddOnRoute = createRoute({
  method: 'patch',
  path: '/v1/admin/add-ons/{id}',
  operationId: 'adminUpdateAddOn',
  tags: ['Admin: catalog'],
  summary: 'Change an add-on (name, price, active)',
  description:
    'Changes only the fields sent. A new price applies to orders placed from now on; placed orders keep the price they were placed with. `active: false` hides it from new orders.',
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(UpdateAddOnBody) },
  responses: {
    200: jsonResponse(AddOnSchema, 'Updated.'),
    ...problems('not_found'),
  },
});

// ---- handlers: validate → call the operation (one file each) → respond ----------------------

/**
 * GET /v1/services is the hottest public read. Its one request header is checked on its own, not by
 * the route validator, which copies every request header into a Fetch `Headers` object and parses
 * them all (~14 µs a request on Node, the largest single cost of the cached catalog: docs/runbook.md,
 * "Benchmarks"). The same schema, so the same 422 `validation_failed` naming `header.if-none-match`.
 */
function ifNoneMatchOf(c: Context): string | undefined {
  const raw = c.req.header('if-none-match');
  if (raw === undefined) return undefined;
  const parsed = ServicesConditionalHeaders.safeParse({ 'if-none-match': raw });
  if (!parsed.success) {
    validationHook({ success: false, error: parsed.error, target: 'header' }, c);
    return undefined;
  }
  return parsed.data['if-none-match'];
}

/** The route as served: documented with its header (registered below), checked by `ifNoneMatchOf`. */
const { request: _checkedByHand, ...listActiveServedFields } = listActiveRoute;
const listActiveServed = { ...listActiveServedFields, hide: true };

const listActiveServicesHandler: Handler<typeof listActiveServed> = async (c) => {
  const ifNoneMatch = ifNoneMatchOf(c);
  // Cached for a few seconds (./cache.ts) with its ETag. The JSON text is stored, so a hit
  // serialises and hashes nothing; its type (JsonText<ServiceListDto>) is checked against the
  // route's ServiceListSchema.
  const { json, etag } = await cachedCatalog(c.get('deps'), c.req.url);
  setResponseHeader(c, 'ETag', etag);
  setResponseHeader(c, 'Cache-Control', CATALOG_CACHE_CONTROL);
  if (ifNoneMatchHits(ifNoneMatch, etag)) return c.body(null, 304);
  return jsonText(c, json, 200);
};

const listAllServicesHandler: Handler<typeof listAllRoute> = async (c) =>
  c.json({ data: await listServices(c.get('deps'), { includeInactive: true }) }, 200);

// Each admin write invalidates the cached public catalog once it has succeeded (hence c.req.url).
const createServiceHandler: Handler<typeof createServiceRoute> = async (c) =>
  c.json(await createService(c.get('deps'), c.req.url, c.req.valid('json')), 201);

const updateServiceHandler: Handler<typeof updateServiceRoute> = async (c) =>
  c.json(await updateService(c.get('deps'), c.req.url, c.req.valid('param').id, c.req.valid('json')), 200);

const createAddOnHandler: Handler<typeof createAddOnRoute> = async (c) =>
  c.json(await createAddOn(c.get('deps'), c.req.url, c.req.valid('param').id, c.req.valid('json')), 201);

const updateAddOnHandler: Handler<typeof updateAddOnRoute> = async (c) =>
  c.json(await updateAddOn(c.get('deps'), c.req.url, c.req.valid('param').id, c.req.valid('json')), 200);

const router = createRouter();
// The document shows GET /v1/services with its header; it is served without the header validator (ifNoneMatchOf).
router.openAPIRegistry.registerPath(listActiveRoute);

export const catalogRoutes = router
  .openapi(listActiveServed, listActiveServicesHandler)
  .openapi(listAllRoute, listAllServicesHandler)
  .openapi(createServiceRoute, createServiceHandler)
  .openapi(updateServiceRoute, updateServiceHandler)
  .openapi(createAddOnRoute, createAddOnHandler)
  .openapi(updateAddOnRoute, updateAddOnHandler);
