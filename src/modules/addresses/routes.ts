import { createRoute } from '@hono/zod-openapi';
import { problemResponses } from '../../errors.js';
import { createRouter } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { createAddress, deleteAddress, getAddress, listAddresses, updateAddress } from './repository.js';
import { AddressListSchema, AddressSchema, CreateAddressBody, IdParam, UpdateAddressBody } from './schemas.js';

/* Any signed-in user may keep addresses; each sees only their own. */
const tags = ['Addresses'];
const bearer = [{ bearerAuth: [] }];
const signedIn = [requireAuth()];
const own = { tags, security: bearer, middleware: signedIn };
const writeErrors = problemResponses(400, 401, 413, 415, 422);

const list = createRoute({
  ...own,
  method: 'get',
  path: '/v1/addresses',
  summary: "The caller's addresses, newest first",
  description: 'At most 20 can exist, so there is no pagination. `served` is evaluated against the zones as they are now.',
  responses: { 200: jsonResponse(AddressListSchema, 'Addresses.'), ...problemResponses(401) },
});

const create = createRoute({
  ...own,
  method: 'post',
  path: '/v1/addresses',
  summary: 'Save an address',
  description:
    'The postcode is normalised (upper-case, no spaces). An address no zone serves can be saved (`served: false`) but not booked. At most 20 per user: `address_limit_reached` (409).',
  request: { body: jsonBody(CreateAddressBody) },
  responses: { 201: jsonResponse(AddressSchema, 'Saved.'), ...writeErrors, ...problemResponses(409) },
});

const get = createRoute({
  ...own,
  method: 'get',
  path: '/v1/addresses/{id}',
  summary: 'One of the caller’s addresses',
  request: { params: IdParam },
  responses: { 200: jsonResponse(AddressSchema, 'The address.'), ...problemResponses(401, 404, 422) },
});

const update = createRoute({
  ...own,
  method: 'patch',
  path: '/v1/addresses/{id}',
  summary: 'Change an address',
  description: 'Send only the fields to change; `null` clears an optional one. Orders already placed keep their snapshot.',
  request: { params: IdParam, body: jsonBody(UpdateAddressBody) },
  responses: { 200: jsonResponse(AddressSchema, 'Updated.'), ...writeErrors, ...problemResponses(404) },
});

const remove = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/addresses/{id}',
  summary: 'Delete an address',
  description: 'Orders placed with it keep their snapshot of the address.',
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted.' }, ...problemResponses(401, 404, 422) },
});

export const addressRoutes = createRouter()
  .openapi(list, async (c) => c.json({ data: await listAddresses(c.get('deps'), principalOf(c).userId) }, 200))
  .openapi(create, async (c) =>
    c.json(await createAddress(c.get('deps'), principalOf(c).userId, c.req.valid('json')), 201),
  )
  .openapi(get, async (c) =>
    c.json(await getAddress(c.get('deps'), principalOf(c).userId, c.req.valid('param').id), 200),
  )
  .openapi(update, async (c) =>
    c.json(await updateAddress(c.get('deps'), principalOf(c).userId, c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(remove, async (c) => {
    await deleteAddress(c.get('deps'), principalOf(c).userId, c.req.valid('param').id);
    return c.body(null, 204);
  });
