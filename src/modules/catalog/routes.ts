import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { problemResponses } from '../../errors.js';
import { createRouter, type AppEnv } from '../../http/context.js';
import { requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { cachedCatalogJson, invalidateCatalog } from './cache.js';
import { createAddOn, createService, listServices, updateAddOn, updateService } from './repository.js';
import {
  AddOnSchema,
  CreateAddOnBody,
  CreateServiceBody,
  IdParam,
  ServiceListSchema,
  ServiceSchema,
  UpdateAddOnBody,
  UpdateServiceBody,
} from './schemas.js';

const bearer = [{ bearerAuth: [] }];
const adminOnly = [requireAuth('admin')];
const adminErrors = problemResponses(401, 403);

const listPublic = createRoute({
  method: 'get',
  path: '/v1/services',
  tags: ['Catalog'],
  summary: 'The active service catalog',
  description: 'Public. Prices are integer minor units in `currency`. Inactive services and add-ons are omitted.',
  responses: { 200: jsonResponse(ServiceListSchema, 'Active services, in display order.') },
});

const listAdmin = createRoute({
  method: 'get',
  path: '/v1/admin/services',
  tags: ['Admin: catalog'],
  summary: 'Every service, including inactive ones',
  security: bearer,
  middleware: adminOnly,
  responses: { 200: jsonResponse(ServiceListSchema, 'All services.'), ...adminErrors },
});

const create = createRoute({
  method: 'post',
  path: '/v1/admin/services',
  tags: ['Admin: catalog'],
  summary: 'Create a service, with its add-ons',
  description: "The currency is the shop's (`CURRENCY`); it cannot be chosen per service.",
  security: bearer,
  middleware: adminOnly,
  request: { body: jsonBody(CreateServiceBody) },
  responses: {
    201: jsonResponse(ServiceSchema, 'Created.'),
    ...adminErrors,
    ...problemResponses(400, 409, 413, 415, 422),
  },
});

const update = createRoute({
  method: 'patch',
  path: '/v1/admin/services/{id}',
  tags: ['Admin: catalog'],
  summary: 'Change a service (price, turnaround, express, active)',
  description: 'The pricing model and slug are fixed once created. Orders already placed keep the prices they were placed at.',
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(UpdateServiceBody) },
  responses: {
    200: jsonResponse(ServiceSchema, 'Updated.'),
    ...adminErrors,
    ...problemResponses(400, 404, 413, 415, 422),
  },
});

const addAddOn = createRoute({
  method: 'post',
  path: '/v1/admin/services/{id}/add-ons',
  tags: ['Admin: catalog'],
  summary: 'Add an add-on to a service',
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(CreateAddOnBody) },
  responses: {
    201: jsonResponse(AddOnSchema, 'Created.'),
    ...adminErrors,
    ...problemResponses(400, 404, 409, 413, 415, 422),
  },
});

const changeAddOn = createRoute({
  method: 'patch',
  path: '/v1/admin/add-ons/{id}',
  tags: ['Admin: catalog'],
  summary: 'Change an add-on (name, price, active)',
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(UpdateAddOnBody) },
  responses: {
    200: jsonResponse(AddOnSchema, 'Updated.'),
    ...adminErrors,
    ...problemResponses(400, 404, 413, 415, 422),
  },
});

const addOnDto = (a: { id: string; slug: string; name: string; price: number; active: boolean }) => ({
  id: a.id,
  slug: a.slug,
  name: a.name,
  price: a.price,
  active: a.active,
});

/** Runs an admin catalog write, then invalidates the cached public catalog (only once the write succeeded). */
async function edit<T>(c: Context<AppEnv>, write: () => Promise<T>): Promise<T> {
  const result = await write();
  await invalidateCatalog(c.get('deps'), c.req.url);
  return result;
}

export const catalogRoutes = createRouter()
  .openapi(listPublic, async (c) =>
    // Cached for a few seconds (./cache.ts). The JSON text is stored, so a hit serialises nothing;
    // its shape is ServiceListSchema's, which the type system cannot see through a string.
    c.body(await cachedCatalogJson(c.get('deps'), c.req.url), 200, { 'Content-Type': 'application/json' }) as never,
  )
  .openapi(listAdmin, async (c) => c.json({ data: await listServices(c.get('deps'), { includeInactive: true }) }, 200))
  .openapi(create, async (c) => c.json(await edit(c, () => createService(c.get('deps'), c.req.valid('json'))), 201))
  .openapi(update, async (c) =>
    c.json(await edit(c, () => updateService(c.get('deps'), c.req.valid('param').id, c.req.valid('json'))), 200),
  )
  .openapi(addAddOn, async (c) =>
    c.json(addOnDto(await edit(c, () => createAddOn(c.get('deps'), c.req.valid('param').id, c.req.valid('json')))), 201),
  )
  .openapi(changeAddOn, async (c) =>
    c.json(addOnDto(await edit(c, () => updateAddOn(c.get('deps'), c.req.valid('param').id, c.req.valid('json')))), 200),
  );
