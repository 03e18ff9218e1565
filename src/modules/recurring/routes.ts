import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { IdParam } from '../../http/schemas.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { createSchedule } from './create.js';
import { deleteSchedule } from './delete.js';
import { listSchedules } from './list.js';
import { skipDate } from './skip.js';
import { updateSchedule } from './update.js';
import { CreateScheduleBody, ScheduleListSchema, ScheduleSchema, SkipBody, UpdateScheduleBody } from './schemas.js';

const own = { tags: ['Recurring pickups'], security: [{ bearerAuth: [] }], middleware: [requireAuth()] };

const RULES = [
  'Every week or every two weeks from `anchorDate` (its weekday is the schedule’s), in the local time of the zone serving the address. `pickupStart` and `deliveryStart` must be the start of one of the zone’s pickup / delivery windows on those weekdays (422 `recurring_window_unavailable`); a same-day delivery must start after the pickup (422 `delivery_too_early`).',
  'The scheduled job creates each date’s order RECURRING_DAYS_AHEAD local days ahead (default 2), exactly once per date, as if the customer placed it with POST /v1/orders: same prices, promo-free, same capacity rules. When the window is full it takes the nearest free window that day; when none is free, or another rule fails, the date is shown as `needs_attention` with the reason in `recentOccurrences`, and the customer books it by hand. Card orders start `pending_payment` and are paid with the PaymentSheet.',
].join('\n\n');

const listRoute = createRoute({
  ...own,
  method: 'get',
  path: '/v1/me/recurring-pickups',
  operationId: 'listRecurringPickups',
  summary: 'The caller’s recurring pickups, with their next dates and recent orders',
  description: `${RULES}\n\nOldest first. \`nextDates\`: the next 5 dates an order will be created for; \`recentOccurrences\`: the latest 10 dates handled (order id, or why there is none).`,
  responses: { 200: jsonResponse(ScheduleListSchema, 'The schedules.') },
});

const createRouteDef = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/recurring-pickups',
  operationId: 'createRecurringPickup',
  summary: 'Book a pickup every week or every two weeks',
  description: `${RULES}\n\nAnother customer’s or a missing address answers 404; one no zone serves, 422 \`postcode_not_served\`; a first date in the past, 422. Nothing is written unless every rule holds (one statement).`,
  request: { body: jsonBody(CreateScheduleBody) },
  responses: {
    201: jsonResponse(ScheduleSchema, 'Saved.'),
    ...problems('not_found', 'postcode_not_served', 'recurring_window_unavailable', 'delivery_too_early', 'payments_not_configured'),
  },
});

const updateRoute = createRoute({
  ...own,
  method: 'patch',
  path: '/v1/me/recurring-pickups/{id}',
  operationId: 'updateRecurringPickup',
  summary: 'Change, pause or resume a recurring pickup',
  description: `Send only the fields to change; every rule is checked again on the result (the same errors as creating one). \`status: "paused"\` stops new orders until \`"active"\` again (resume); orders already created are kept and changes apply to dates not yet created. A schedule changed by another request meanwhile answers 409 \`conflict\`.\n\n${RULES}`,
  request: { params: IdParam, body: jsonBody(UpdateScheduleBody) },
  responses: {
    200: jsonResponse(ScheduleSchema, 'The schedule as changed.'),
    ...problems('not_found', 'postcode_not_served', 'recurring_window_unavailable', 'delivery_too_early', 'payments_not_configured', 'conflict'),
  },
});

const skipRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/recurring-pickups/{id}/skip',
  operationId: 'createRecurringPickupSkip',
  summary: 'Skip one date of a recurring pickup',
  description:
    'No order is created for `date`. It must be one of the schedule’s dates and not in the past (422 `skip_date_invalid`). A date whose order was already created answers 409 `occurrence_already_created`: cancel that order instead. A date the job could not book (`needs_attention`) can be skipped. The skip and the job cannot both win a date. Skipping a date twice changes nothing.',
  request: { params: IdParam, body: jsonBody(SkipBody) },
  responses: { 200: jsonResponse(ScheduleSchema, 'The schedule, with the date in `skippedDates`.'), ...problems('not_found', 'skip_date_invalid', 'occurrence_already_created') },
});

const deleteRoute = createRoute({
  ...own,
  method: 'delete',
  path: '/v1/me/recurring-pickups/{id}',
  operationId: 'deleteRecurringPickup',
  summary: 'Cancel a recurring pickup',
  description: 'No further orders are created. Orders already created are kept: cancel each with POST /v1/orders/{id}/cancel. Another customer’s schedule answers 404.',
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted.' }, ...problems('not_found') },
});

const listHandler: Handler<typeof listRoute> = async (c) =>
  c.json({ items: await listSchedules(c.get('deps'), principalOf(c).userId) }, 200);
const createHandler: Handler<typeof createRouteDef> = async (c) =>
  c.json(await createSchedule(c.get('deps'), principalOf(c).userId, c.req.valid('json')), 201);
const updateHandler: Handler<typeof updateRoute> = async (c) =>
  c.json(await updateSchedule(c.get('deps'), principalOf(c).userId, c.req.valid('param').id, c.req.valid('json')), 200);
const skipHandler: Handler<typeof skipRoute> = async (c) =>
  c.json(await skipDate(c.get('deps'), principalOf(c).userId, c.req.valid('param').id, c.req.valid('json').date), 200);
const deleteHandler: Handler<typeof deleteRoute> = async (c) => {
  await deleteSchedule(c.get('deps'), principalOf(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

/** A customer's standing orders (issue 19); the job that turns them into orders is ./job.ts. */
export const recurringRoutes = createRouter()
  .openapi(listRoute, listHandler)
  .openapi(createRouteDef, createHandler)
  .openapi(updateRoute, updateHandler)
  .openapi(skipRoute, skipHandler)
  .openapi(deleteRoute, deleteHandler);
