import { createRoute } from '@hono/zod-openapi';
import { roleCheckedIdempotencyKey } from '../../db/role-check.js';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { headerRef } from '../../http/openapi-document.js';
import { IdParam } from '../../http/schemas.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { IdempotencyHeader } from '../orders/schemas.js';
import { creditAccount } from './account.js';
import { grantCredit } from './grant.js';
import { CreditAccountSchema, CreditEntrySchema, CreditQuery, GrantCreditBody } from './schemas.js';

const bearer = [{ bearerAuth: [] }];

const accountRoute = createRoute({
  method: 'get',
  path: '/v1/me/credit',
  operationId: 'getMyCredit',
  tags: ['Credit'],
  summary: 'The caller’s account credit: balance and history',
  description: [
    'Credit is in integer minor units of the shop’s currency and never negative. It changes only by the entries listed here (newest first, paged by `cursor`).',
    'Place an order with `useCredit: true` to spend it: it pays as much of the order as it can after any promo discount (a card order keeps at least Stripe’s minimum charge on the card). A cancelled order gives its credit back (`order_released`).',
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth()],
  request: { query: CreditQuery },
  responses: { 200: jsonResponse(CreditAccountSchema, 'The balance and one page of entries.'), ...problems('validation_failed') },
});

const grantRoute = createRoute({
  method: 'post',
  path: '/v1/admin/users/{id}/credit',
  operationId: 'adminCreateCreditEntry',
  tags: ['Admin: promo codes and credit'],
  summary: 'Grant account credit to a customer',
  description: [
    'Adds `amount` minor units of the shop’s currency to the user’s balance with a ledger entry (reason and note shown to the customer), in one statement.',
    'Requires `Idempotency-Key`: a retry with the same key and body answers the first entry again (`Idempotent-Replayed: true`) and adds nothing; the same key with another body answers 422 `idempotency_key_reused`. Unknown or erased user: 404, nothing written.',
  ].join('\n\n'),
  security: bearer,
  middleware: [requireAuth('admin')],
  request: { params: IdParam, headers: IdempotencyHeader, body: jsonBody(GrantCreditBody) },
  responses: {
    201: { ...jsonResponse(CreditEntrySchema, 'Granted (or the replay of the call that granted it).'), headers: { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } },
    ...problems('idempotency_key_missing', 'idempotency_key_invalid', 'idempotency_key_reused', 'not_found', 'conflict'),
  },
});

const accountHandler: Handler<typeof accountRoute> = async (c) => {
  const q = c.req.valid('query');
  return c.json(await creditAccount(c.get('deps'), principalOf(c).userId, { limit: q.limit, cursor: q.cursor }), 200);
};

const grantHandler: Handler<typeof grantRoute> = async (c) => {
  const key = await roleCheckedIdempotencyKey(c.get('deps').database, c.req.valid('header')['idempotency-key']);
  const { entry, replayed } = await grantCredit(c.get('deps'), { adminId: principalOf(c).userId, userId: c.req.valid('param').id, key, input: c.req.valid('json') });
  if (replayed) c.header('Idempotent-Replayed', 'true');
  return c.json(entry, 201);
};

export const creditRoutes = createRouter().openapi(accountRoute, accountHandler).openapi(grantRoute, grantHandler);
