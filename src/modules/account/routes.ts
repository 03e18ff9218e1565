import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import type { Context } from 'hono';
import { createRouter, runInBackground, type AppEnv, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { deleteOwnAccount, eraseAccountByAdmin, REAUTH_MAX_AGE_S } from './delete-account.js';
import type { EraseResult } from './erase.js';
import { runErasureTasks } from '../../account/erasure-tasks.js';
import { exportAccount } from './export.js';
import { staffUser, StaffUserSchema } from './staff-user.js';
import { IdParam } from '../../http/schemas.js';
import { AccountExportSchema, DeleteAccountBody } from './schemas.js';

const bearer = [{ bearerAuth: [] }];

const ERASURE_RULES =
  'In one statement: the email becomes `deleted+<uuid>@invalid` (the address can register again), name, phone, locale and the password go; addresses, phones, notification preferences, the inbox, linked Apple and Google identities and saved idempotent answers are deleted; every session ends and every access token of the account is refused from its next request. ' +
  'Orders, their lines, timeline, payments and refunds stay for the shop’s accounting, with the delivery address and the order notes erased. ' +
  'The Stripe Customer (saved cards) is deleted and Apple tokens are revoked right after, and retried by the scheduled job until done: the answer does not wait for them (docs/runbook.md, "Account erasure tasks"). ' +
  'Refused with 409 `account_has_open_orders` while an order is in progress (not delivered or cancelled), money is outstanding on one, a refund is pending, or a tip is still being charged; `details.blockers` lists them (`orderId`, `status`, `outstanding` in minor units, `currency`, `refundPending`, `tipPending`).';

const deleteMeRoute = createRoute({
  tags: ['Auth'],
  security: bearer,
  middleware: [requireAuth()],
  method: 'delete',
  path: '/v1/me',
  operationId: 'deleteCurrentUser',
  summary: 'Delete the caller’s account',
  description:
    `Needs a fresh re-authentication: the password, or (Apple, Google) an ID token of a sign-in made for this, at most ${REAUTH_MAX_AGE_S / 60} minutes old, for an identity linked to the account; with Apple, send that sign-in's \`authorizationCode\` too so its token can be revoked. ` +
    'Wrong password: 403 `current_password_incorrect`; a token for another identity or too old: 403 `reauthentication_failed` (`details.reason`: `not_linked`, `stale`); more than 5 attempts in 15 minutes: 429 `too_many_attempts`. ' +
    ERASURE_RULES +
    ' Answers 204 once the account is erased (also when a concurrent request erased it first).',
  request: { body: jsonBody(DeleteAccountBody) },
  responses: {
    204: { description: 'Erased.' },
    ...problems('current_password_incorrect', 'reauthentication_failed', 'invalid_id_token', 'account_has_open_orders', 'too_many_attempts', 'provider_not_configured', 'invalid_token'),
  },
});

const adminDeleteUserRoute = createRoute({
  tags: ['Admin: accounts'],
  security: bearer,
  middleware: [requireAuth('admin')],
  method: 'delete',
  path: '/v1/admin/users/{id}',
  operationId: 'adminDeleteUser',
  summary: 'Erase a customer’s account (admins)',
  description:
    'For a customer who asked by other means (email, phone): the same erasure as DELETE /v1/me, without re-authentication; the admin and the time are logged (`account erased`, `adminId`). ' +
    ERASURE_RULES +
    ' Unknown user: 404 `not_found`; the admin’s own account, or any staff or admin account (demote it to customer first): 409 `conflict`. Answers 204 once erased (also when it already was).',
  request: { params: IdParam },
  responses: { 204: { description: 'Erased.' }, ...problems('not_found', 'conflict', 'account_has_open_orders') },
});

const exportRoute = createRoute({
  tags: ['Auth'],
  security: bearer,
  middleware: [requireAuth()],
  method: 'get',
  path: '/v1/me/export',
  operationId: 'getCurrentUserExport',
  summary: 'Download the caller’s data',
  description:
    'One JSON document (GDPR articles 15 and 20), sent as an attachment (`Content-Disposition: attachment; filename="account-export-<date>.json"`): the account, linked identities (provider and email, never tokens), addresses, orders with their pickup and delivery windows, price breakdowns, lines, timeline (with what each entry recorded), payments and refunds, phones (platform, app version and language, never push tokens), notification preference overrides, the inbox and the sessions. `exportVersion` names the document’s shape.',
  responses: {
    200: {
      ...jsonResponse(AccountExportSchema, 'The export.'),
      headers: { 'Content-Disposition': { description: '`attachment; filename="account-export-YYYY-MM-DD.json"`', schema: { type: 'string' } } },
    },
    ...problems('invalid_token'),
  },
});

const staffUserRoute = createRoute({
  tags: ['Staff'],
  security: bearer,
  middleware: [requireAuth('staff', 'admin')],
  method: 'get',
  path: '/v1/staff/users/{id}',
  operationId: 'staffGetUser',
  summary: 'A customer’s account (staff and admins)',
  description:
    'Profile, contact details, whether the email is verified, whether the account is disabled or erased, and its credit balance (minor units). Unknown id: 404 `not_found`.',
  request: { params: IdParam },
  responses: { 200: jsonResponse(StaffUserSchema, 'The account.'), ...problems('not_found') },
});

const staffUserHandler: Handler<typeof staffUserRoute> = async (c) => c.json(await staffUser(c.get('deps'), c.req.valid('param').id), 200);

/** After an erasure: its external steps now, in the background (the scheduled job retries the rest). */
function attemptTasks(c: Context<AppEnv>, result: EraseResult): void {
  if (result.taskIds.length === 0) return;
  const deps = c.get('deps');
  runInBackground(c, () => runErasureTasks(deps, result.taskIds), 'account erasure tasks');
}

const deleteMeHandler: Handler<typeof deleteMeRoute> = async (c) => {
  attemptTasks(c, await deleteOwnAccount(c.get('deps'), principalOf(c).userId, c.req.valid('json')));
  return c.body(null, 204);
};

const adminDeleteUserHandler: Handler<typeof adminDeleteUserRoute> = async (c) => {
  attemptTasks(c, await eraseAccountByAdmin(c.get('deps'), principalOf(c).userId, c.req.valid('param').id));
  return c.body(null, 204);
};

const exportHandler: Handler<typeof exportRoute> = async (c) => {
  const doc = await exportAccount(c.get('deps'), principalOf(c).userId);
  c.header('Content-Disposition', `attachment; filename="account-export-${doc.exportedAt.slice(0, 10)}.json"`);
  return c.json(doc, 200);
};

export const accountRoutes = createRouter()
  .openapi(deleteMeRoute, deleteMeHandler)
  .openapi(adminDeleteUserRoute, adminDeleteUserHandler)
  .openapi(exportRoute, exportHandler)
  .openapi(staffUserRoute, staffUserHandler);
