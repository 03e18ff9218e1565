import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Deps } from '../../deps.js';
import { validateIdempotencyKey } from '../../domain/idempotency.js';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type AppEnv, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { headerRef } from '../../http/openapi-document.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { IdempotencyHeader, OrderIdParam } from '../orders/schemas.js';
import { tipDto, type TipCommand } from './claim.js';
import { addTip, recordCashTip, type TipOutcome } from './create.js';
import { listStaffTips } from './list.js';
import { StaffTipsQuery, StaffTipsSchema, TipBody, TipSchema } from './schemas.js';

/*
 * Tips after delivery (issue 19): the customer's card tip, the staff's record of a cash tip,
 * and a staff member's own tips.
 */
const bearer = [{ bearerAuth: [] }];

const AMOUNT_RULES =
  'Send `percent` (10, 15 or 20 % of the order’s final total, rounded half up to a minor unit, then down to the currency’s step: a multiple of 10 in BHD, JOD, KWD, OMR, TND) or `amount` (minor units), not both. A tip is at least one major unit of the currency (and never below Stripe’s minimum charge) and at most half the final total: outside that, or not a multiple of the step, 422 `invalid_tip_amount` with `details.min`, `details.max`, `details.step`; a negative, zero, fractional or huge number is 422 `validation_failed`.';
const ONE_TIP =
  'One tip per order: a second (with another key, or at the same time) answers 409 `tip_exists` and writes nothing; a declined tip does not count, so the customer may try again. The order must be `delivered` (409 `order_not_delivered`, `details.status`).';
const KEY_RULE =
  'Requires `Idempotency-Key`: a retry with the same key and body answers the same tip (`Idempotent-Replayed: true`), the same key with another body 422 `idempotency_key_reused`.';

/** What both tip routes refuse, before the card-only ones. */
const TIP_REFUSALS = [
  'idempotency_key_missing',
  'idempotency_key_invalid',
  'idempotency_key_reused',
  'not_found',
  'order_not_delivered',
  'payment_not_applicable',
  'tip_exists',
  'invalid_tip_amount',
] as const;

const created = (what: string) => ({
  201: { ...jsonResponse(TipSchema, what), headers: { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } },
});

const tip = createRoute({
  method: 'post',
  path: '/v1/orders/{id}/tip',
  operationId: 'createTip',
  tags: ['Orders'],
  summary: 'Tip the driver after delivery, on the saved card',
  description: [
    'The caller’s own delivered card order (another customer’s answers 404). The tip is charged off-session on the card saved with the order’s hold and recorded with the staff member who delivered the order; it is not part of what the order owes, and order refunds do not refund it.',
    AMOUNT_RULES,
    ONE_TIP,
    'A pay-on-delivery order has no saved card: 409 `payment_not_applicable` (tip the driver in cash).',
    'When the bank declines the card or asks for authentication, nothing is charged and nothing is owed: the tip is recorded as failed and the answer is 402 `card_declined` or `authentication_required` (`details.reason`: Stripe’s decline code).',
    `${KEY_RULE} A replay of a declined tip answers the same 402; a replay while the first request is still charging answers 409 \`payment_in_progress\` with \`Retry-After\`.`,
    'Stripe did not answer: 502 `payment_provider_error`; retry with the same key (the charge is looked up at Stripe first, never made twice).',
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth()],
  request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(TipBody) },
  responses: {
    ...created('Charged (`succeeded`, or `processing` until Stripe’s webhook), or the replay of the call that did it.'),
    ...problems(
      ...TIP_REFUSALS,
      'card_declined',
      'authentication_required',
      'payment_in_progress',
      'conflict',
      'payment_provider_error',
      'payments_not_configured',
    ),
  },
});

const staffTip = createRoute({
  method: 'post',
  path: '/v1/staff/orders/{id}/tip',
  operationId: 'staffCreateTip',
  tags: ['Staff'],
  summary: 'Record a cash tip on a pay-on-delivery order',
  description: [
    'Staff and admins record the cash a customer gave the driver at the door of a delivered pay-on-delivery order (a card order: 409 `payment_not_applicable`; its customer tips in the app). The tip is the driver’s: the staff member who took the `delivered` transition, whoever records it. The timeline records who did.',
    AMOUNT_RULES,
    ONE_TIP,
    KEY_RULE,
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(TipBody) },
  responses: {
    ...created('Recorded (`succeeded`, `method: cash`), or the replay of the call that did it.'),
    ...problems(...TIP_REFUSALS, 'conflict'),
  },
});

const staffTips = createRoute({
  method: 'get',
  path: '/v1/staff/tips',
  operationId: 'staffListTips',
  tags: ['Staff'],
  summary: 'The caller’s own tips: totals and list',
  description:
    'Tips received (card tips charged, cash tips recorded) on orders the caller delivered, created in [`from`, `to`): the count and the sum per currency, and the newest 500 (`truncated` when there were more). `to` defaults to now, `from` to 30 days before it; `to` must be after `from` and at most 92 days later (422 `invalid_range`). Other staff members’ tips are never listed.',
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  request: { query: StaffTipsQuery },
  responses: { 200: jsonResponse(StaffTipsSchema, 'The caller’s tips in the range.'), ...problems('invalid_range') },
});

type Tipper = (deps: Deps, cmd: Omit<TipCommand, 'method' | 'ownOrder'>) => Promise<TipOutcome>;

/** The two tip handlers' one body: the key, the caller, the path that fingerprints the key. */
async function tipAs(c: Context<AppEnv>, run: Tipper, path: string, id: string, rawKey: string | undefined, input: TipCommand['input']) {
  const { role, userId } = principalOf(c);
  const key = validateIdempotencyKey(rawKey);
  const result = await run(c.get('deps'), { orderId: id, userId, role, key, input, path });
  if (!result.fresh) c.header('Idempotent-Replayed', 'true');
  return tipDto(result.tip);
}

const createTipHandler: Handler<typeof tip> = async (c) => {
  const { id } = c.req.valid('param');
  return c.json(await tipAs(c, addTip, `/v1/orders/${id}/tip`, id, c.req.valid('header')['idempotency-key'], c.req.valid('json')), 201);
};

const staffCreateTipHandler: Handler<typeof staffTip> = async (c) => {
  const { id } = c.req.valid('param');
  return c.json(await tipAs(c, recordCashTip, `/v1/staff/orders/${id}/tip`, id, c.req.valid('header')['idempotency-key'], c.req.valid('json')), 201);
};

const staffListTipsHandler: Handler<typeof staffTips> = async (c) => c.json(await listStaffTips(c.get('deps'), principalOf(c).userId, c.req.valid('query')), 200);

export const tipRoutes = createRouter().openapi(tip, createTipHandler).openapi(staffTip, staffCreateTipHandler).openapi(staffTips, staffListTipsHandler);
