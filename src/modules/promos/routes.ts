import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { requireAuth } from '../../http/middleware.js';
import { IdParam } from '../../http/schemas.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { createPromoCode } from './create.js';
import { listPromoCodes, MAX_LISTED_CODES } from './list.js';
import { CreatePromoCodeBody, PromoCodeListSchema, PromoCodeSchema, UpdatePromoCodeBody } from './schemas.js';
import { updatePromoCode } from './update.js';

const bearer = [{ bearerAuth: [] }];
const adminOnly = [requireAuth('admin')];

const listRoute = createRoute({
  method: 'get',
  path: '/v1/admin/promo-codes',
  operationId: 'adminListPromoCodes',
  tags: ['Admin: promo codes and credit'],
  summary: 'Every promo code, with its redemptions',
  description: `Newest first, at most ${MAX_LISTED_CODES}. \`redemptionCount\` counts the orders holding the code now (a cancelled order gave its redemption back).`,
  security: bearer,
  middleware: adminOnly,
  responses: { 200: jsonResponse(PromoCodeListSchema, 'The codes.') },
});

const createPromoRoute = createRoute({
  method: 'post',
  path: '/v1/admin/promo-codes',
  operationId: 'adminCreatePromoCode',
  tags: ['Admin: promo codes and credit'],
  summary: 'Create a promo code',
  description: [
    'The code is case-insensitive: stored trimmed and upper case (3–32 of A–Z, 0–9, `-`); a code already taken is 409 `promo_code_taken`.',
    '`percent` codes take basis points of the order subtotal (rounded half up); `amount` codes take minor units of the shop’s currency. Fees are decided on the undiscounted subtotal, and a discount never takes the order below the zone’s minimum order.',
    'Customers apply it with `promoCode` on POST /v1/orders; the total and per-customer limits and first-order-only are counted in the order’s own write statement, exactly under concurrency.',
  ].join('\n\n'),
  security: bearer,
  middleware: adminOnly,
  request: { body: jsonBody(CreatePromoCodeBody) },
  responses: { 201: jsonResponse(PromoCodeSchema, 'Created.'), ...problems('promo_code_taken') },
});

const updatePromoRoute = createRoute({
  method: 'patch',
  path: '/v1/admin/promo-codes/{id}',
  operationId: 'adminUpdatePromoCode',
  tags: ['Admin: promo codes and credit'],
  summary: 'Change a promo code (deactivate, limits, window)',
  description: [
    'Changes only the fields sent. `active: false` stops new redemptions at once; orders already placed keep their discount.',
    '`kind` and `value` are fixed once any order redeemed the code (409 `promo_code_redeemed`): create a new code instead. A `maxRedemptions` below the redemptions held answers 409 `promo_limit_below_redemptions`.',
    'The window that results (the sent `validFrom`/`validUntil`, else the stored one) must end after it starts: else 422 `validation_failed` naming the field sent, nothing saved.',
  ].join('\n\n'),
  security: bearer,
  middleware: adminOnly,
  request: { params: IdParam, body: jsonBody(UpdatePromoCodeBody) },
  responses: {
    200: jsonResponse(PromoCodeSchema, 'Updated.'),
    ...problems('not_found', 'promo_code_redeemed', 'promo_limit_below_redemptions'),
  },
});

const listHandler: Handler<typeof listRoute> = async (c) => c.json({ data: await listPromoCodes(c.get('deps')) }, 200);
const createHandler: Handler<typeof createPromoRoute> = async (c) => c.json(await createPromoCode(c.get('deps'), c.req.valid('json')), 201);
const updateHandler: Handler<typeof updatePromoRoute> = async (c) =>
  c.json(await updatePromoCode(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 200);

export const promoRoutes = createRouter()
  .openapi(listRoute, listHandler)
  .openapi(createPromoRoute, createHandler)
  .openapi(updatePromoRoute, updateHandler);
