import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { IdParam } from '../scheduling/schemas.js';
import { timeRange } from '../scheduling/slot-times.js';
import { addClosure } from './add-closure.js';
import { createSlot } from './create-slot.js';
import { createZone } from './create.js';
import { generateZoneSlots } from './generate-slots.js';
import { listZoneSlots } from './list-slots.js';
import { listZones } from './list.js';
import { removeClosure } from './remove-closure.js';
import {
  AdminSlotListSchema,
  AdminSlotSchema,
  AdminSlotsQuery,
  ClosureParams,
  ClosureSchema,
  CreateClosureBody,
  CreateSlotBody,
  CreateZoneBody,
  GenerateSlotsBody,
  GeneratedSlotsSchema,
  UpdateSlotBody,
  UpdateZoneBody,
  ZoneListSchema,
  ZoneSchema,
} from './schemas.js';
import { updateSlot } from './update-slot.js';
import { updateZone } from './update.js';

const bearer = [{ bearerAuth: [] }];
const adminOnly = [requireAuth('admin')];
const tags = ['Admin: scheduling'];
const admin = { tags, security: bearer, middleware: adminOnly } as const;

const listZonesRoute = createRoute({
  ...admin,
  method: 'get',
  path: '/v1/admin/zones',
  operationId: 'adminListZones',
  summary: 'Every zone, including inactive ones',
  description:
    'Every zone, active or not, by name, with its postcode prefixes, time zone and fees.',
  responses: { 200: jsonResponse(ZoneListSchema, 'All zones, by name.') },
});

const createZoneRoute = createRoute({
  ...admin,
  method: 'post',
  path: '/v1/admin/zones',
  operationId: 'adminCreateZone',
  summary: 'Create a zone',
  description: [
    'Each prefix is a UK postcode area (`SW`), district (`SW1`, `SW19`) or sub-district (`SW1A`), and covers a postcode only at that boundary:',
    '`SW1` covers SW1A 1AA and SW1P 3BU but not SW19 5AE or SW11 1AA; `SW` covers every SW postcode but not S1 1AA (area S).',
    'Or it is 1-10 digits for a numeric system such as US ZIP codes, matched as a plain prefix (`941` covers 94103, `94103` covers 94103-1234).',
    'Any other prefix (a sector such as `SW1A1`, a whole postcode, `ABC`) is refused with 422. Prefixes are stored upper-case without spaces.',
    'Zones may overlap: a postcode goes to the active zone with its most specific covering prefix (`SW1A` beats `SW1` beats `SW`; ties by zone id).',
  ].join(' '),
  request: { body: jsonBody(CreateZoneBody) },
  responses: { 201: jsonResponse(ZoneSchema, 'Created.') },
});

const updateZoneRoute = createRoute({
  ...admin,
  method: 'patch',
  path: '/v1/admin/zones/{id}',
  operationId: 'adminUpdateZone',
  summary: 'Change a zone',
  description:
    "`postcodePrefixes` follow the rule of zone creation (UK area, district or sub-district, or digits; 422 otherwise). Existing slots keep their instants when `timeZone` changes. Addresses are matched to zones when read, so they follow the change at once; orders keep what they were placed with.",
  request: { params: IdParam, body: jsonBody(UpdateZoneBody) },
  responses: { 200: jsonResponse(ZoneSchema, 'Updated.'), ...problems('not_found') },
});

const createSlotRoute = createRoute({
  ...admin,
  method: 'post',
  path: '/v1/admin/zones/{id}/slots',
  operationId: 'adminCreateSlot',
  summary: 'Add one slot to a zone',
  description: 'A slot on a closed date of the zone is created closed. `slot_exists` (409): same zone, kind and start.',
  request: { params: IdParam, body: jsonBody(CreateSlotBody) },
  responses: { 201: jsonResponse(AdminSlotSchema, 'Created.'), ...problems('not_found', 'slot_exists') },
});

const generateSlotsRoute = createRoute({
  ...admin,
  method: 'post',
  path: '/v1/admin/zones/{id}/slots/generate',
  operationId: 'adminGenerateSlots',
  summary: 'Create slots from a weekly template',
  description: [
    "Windows are wall-clock times in the zone's time zone, so a 09:00 window stays 09:00 local across DST changes.",
    'On a clock-change day: an end the clock skips (spring-forward gap) moves to the instant of the jump, so the slot keeps the part of the window that happens;',
    'a window the clock skips entirely (London, last Sunday of March, 01:00-02:00) is not created that day and is listed in `skippedWindows`;',
    'an end the clock repeats (fall-back) is its first occurrence. Slots changed this way are listed in `adjustedWindows`.',
    'A clock change never fails the request: the other windows and days are created.',
    'Dates from `from` to `to` (inclusive, at most 62 days), skipping the zone’s closed dates.',
    'Idempotent per window: one that already has a slot (same zone, kind and start) is counted in `skipped`.',
    'Overlapping windows of one kind on one weekday are refused (422).',
  ].join(' '),
  request: { params: IdParam, body: jsonBody(GenerateSlotsBody) },
  responses: {
    201: jsonResponse(GeneratedSlotsSchema, 'The slots created by this call.'),
    ...problems('not_found', 'invalid_slot_template', 'invalid_range', 'invalid_date'),
  },
});

const updateSlotRoute = createRoute({
  ...admin,
  method: 'patch',
  path: '/v1/admin/slots/{id}',
  operationId: 'adminUpdateSlot',
  summary: 'Change a slot’s capacity, cut-off or closed flag',
  description: '`capacity_below_reserved` (409) when the new capacity is below what is already booked. Closing a slot keeps its bookings.',
  request: { params: IdParam, body: jsonBody(UpdateSlotBody) },
  responses: { 200: jsonResponse(AdminSlotSchema, 'Updated.'), ...problems('not_found', 'capacity_below_reserved') },
});

const listSlotsRoute = createRoute({
  ...admin,
  method: 'get',
  path: '/v1/admin/zones/{id}/slots',
  operationId: 'adminListZoneSlots',
  summary: 'A zone’s slots with reserved counts',
  description: 'Every slot (closed, full and past included) starting in [from, to). Defaults: now, + 14 days; at most 31 days.',
  request: { params: IdParam, query: AdminSlotsQuery },
  responses: { 200: jsonResponse(AdminSlotListSchema, 'The zone and its slots, by start.'), ...problems('not_found', 'invalid_range') },
});

const addClosureRoute = createRoute({
  ...admin,
  method: 'post',
  path: '/v1/admin/zones/{id}/closures',
  operationId: 'adminCreateClosure',
  summary: 'Close a zone on a local date',
  description: [
    "Closes every slot whose start falls on that date in the zone's time zone, in the same statement.",
    'Idempotent: 201 the first time, 200 when the date was already closed (a new `reason` replaces the old one).',
    'Orders already booked on that date are not cancelled: staff handle them.',
  ].join(' '),
  request: { params: IdParam, body: jsonBody(CreateClosureBody) },
  responses: {
    200: jsonResponse(ClosureSchema, 'Already closed on that date.'),
    201: jsonResponse(ClosureSchema, 'Closed.'),
    ...problems('not_found'),
  },
});

const removeClosureRoute = createRoute({
  ...admin,
  method: 'delete',
  path: '/v1/admin/zones/{id}/closures/{date}',
  operationId: 'adminDeleteClosure',
  summary: 'Reopen a zone on a local date',
  description: "Deletes the closure and reopens every slot on that local date (including any closed one by one). 404 when the date was not closed.",
  request: { params: ClosureParams },
  responses: { 204: { description: 'Reopened.' }, ...problems('not_found') },
});

// ---- handlers: validate → call the operation (one file each) → respond ----------------------

const listZonesHandler: Handler<typeof listZonesRoute> = async (c) => c.json({ data: await listZones(c.get('deps')) }, 200);

const createZoneHandler: Handler<typeof createZoneRoute> = async (c) =>
  c.json(await createZone(c.get('deps'), c.req.valid('json')), 201);

const updateZoneHandler: Handler<typeof updateZoneRoute> = async (c) =>
  c.json(await updateZone(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 200);

const createSlotHandler: Handler<typeof createSlotRoute> = async (c) =>
  c.json(await createSlot(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 201);

const generateSlotsHandler: Handler<typeof generateSlotsRoute> = async (c) =>
  c.json(await generateZoneSlots(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 201);

const updateSlotHandler: Handler<typeof updateSlotRoute> = async (c) =>
  c.json(await updateSlot(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 200);

const listZoneSlotsHandler: Handler<typeof listSlotsRoute> = async (c) => {
  const deps = c.get('deps');
  const query = c.req.valid('query');
  const range = timeRange(query, deps.clock.now());
  return c.json(await listZoneSlots(deps, c.req.valid('param').id, { ...range, kind: query.kind }), 200);
};

const addClosureHandler: Handler<typeof addClosureRoute> = async (c) => {
  const { created, closure } = await addClosure(c.get('deps'), c.req.valid('param').id, c.req.valid('json'));
  return created ? c.json(closure, 201) : c.json(closure, 200);
};

const removeClosureHandler: Handler<typeof removeClosureRoute> = async (c) => {
  const { id, date } = c.req.valid('param');
  await removeClosure(c.get('deps'), id, date);
  return c.body(null, 204);
};

/** Admin: zones, their slots and closed dates (`/v1/admin/zones*`, `/v1/admin/slots/{id}`). */
export const zoneRoutes = createRouter()
  .openapi(listZonesRoute, listZonesHandler)
  .openapi(createZoneRoute, createZoneHandler)
  .openapi(updateZoneRoute, updateZoneHandler)
  .openapi(createSlotRoute, createSlotHandler)
  .openapi(generateSlotsRoute, generateSlotsHandler)
  .openapi(updateSlotRoute, updateSlotHandler)
  .openapi(listSlotsRoute, listZoneSlotsHandler)
  .openapi(addClosureRoute, addClosureHandler)
  .openapi(removeClosureRoute, removeClosureHandler);
