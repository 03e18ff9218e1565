import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { createAddress } from './create.js';
import { deleteAddress } from './delete.js';
import { getAddress } from './get.js';
import { listAddresses } from './list.js';
import { AddressListSchema, AddressSchema, CreateAddressBody, IdParam, UpdateAddressBody } from './schemas.js';
import { updateAddress } from './update.js';

/* Any signed-in user may keep addresses; each sees only their own. */
const tags = ['Addresses'];
const bearer = [{ bearerAuth: [] }];
const signedIn = [requireAuth()];
const own = { tags, security: bearer, middleware: signedIn };

const listAddressesRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/addresses',
  operationId: 'listAddresses',
  summary: "The caller's addresses, newest first",
  description: 'At most 20 can exist, so there is no pagination. `served` is evaluated against the zones as they are now.',
  responses: { 200: jsonResponse(AddressListSchema, 'Addresses.') },
});

const createAddressRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/addresses',
  operationId: 'createAddress',
  summary: 'Save an address',
  description:
    'The postcode is normalised (upper-case, no spaces). An address no zone serves can be saved (`served: false`) but not booked. At most 20 per user: `address_limit_reached` (409).',
  request: { body: jsonBody(CreateAddressBody) },
  responses: { 201: jsonResponse(AddressSchema, 'Saved.'), ...problems('address_limit_reached', 'invalid_postcode') },
});

const getAddressRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/addresses/{id}',
  operationId: 'getAddress',
  summary: 'One of the caller’s addresses',
  description:
    'One saved address of the caller, with `served` and `zoneId` as of now. Another customer’s address answers 404, exactly like a missing one.',
  request: { params: IdParam },
  responses: { 200: jsonResponse(AddressSchema, 'The address.'), ...problems('not_found') },
});

const updateAddressRoute = createRoute({
  ...own,
  method: 'patch',
  path: '/v1/addresses/{id}',
  operationId: 'updateAddress',
  summary: 'Change an address',
  description: 'Send only the fields to change; `null` clears an optional one. Orders already placed keep their snapshot.',
  request: { params: IdParam, body: jsonBody(UpdateAddressBody) },
  responses: { 200: jsonResponse(AddressSchema, 'Updated.'), ...problems('not_found', 'invalid_postcode') },
});

const deleteAddressRoute = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/addresses/{id}',
  operationId: 'deleteAddress',
  summary: 'Delete an address',
  description: 'Orders placed with it keep their snapshot of the address.',
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted.' }, ...problems('not_found') },
});

// ---- handlers: validate → call the operation (one file each) → respond ----------------------

const listAddressesHandler: Handler<typeof listAddressesRoute> = async (c) =>
  c.json({ data: await listAddresses(c.get('deps'), principalOf(c).userId) }, 200);

const createAddressHandler: Handler<typeof createAddressRoute> = async (c) =>
  c.json(await createAddress(c.get('deps'), principalOf(c).userId, c.req.valid('json')), 201);

const getAddressHandler: Handler<typeof getAddressRoute> = async (c) =>
  c.json(await getAddress(c.get('deps'), principalOf(c).userId, c.req.valid('param').id), 200);

const updateAddressHandler: Handler<typeof updateAddressRoute> = async (c) =>
  c.json(await updateAddress(c.get('deps'), principalOf(c).userId, c.req.valid('param').id, c.req.valid('json')), 200);

const deleteAddressHandler: Handler<typeof deleteAddressRoute> = async (c) => {
  await deleteAddress(c.get('deps'), principalOf(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

export const addressRoutes = createRouter()
  .openapi(listAddressesRoute, listAddressesHandler)
  .openapi(createAddressRoute, createAddressHandler)
  .openapi(getAddressRoute, getAddressHandler)
  .openapi(updateAddressRoute, updateAddressHandler)
  .openapi(deleteAddressRoute, deleteAddressHandler);
