/**
 * GET /v1/staff/users/{id}: a customer's account as staff and admins see it (issue 18: the user's
 * `emailVerified` shows to staff), e.g. before calling them about a pickup or erasing the account
 * for a customer who asked by phone. One statement.
 */
import { z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { CurrentUserRow, toCurrentUser } from '../auth/current-user.js';
import { CurrentUserSchema } from '../auth/schemas.js';
import { integerOut } from '../../http/schemas.js';

export const StaffUserSchema = CurrentUserSchema.extend({
  disabled: z.boolean().openapi({ description: 'Disabled by an admin: the account cannot log in.' }),
  erased: z.boolean().openapi({ description: 'Erased (DELETE /v1/me or an admin): `email` is a tombstone and the personal fields are empty.' }),
  creditBalance: integerOut().openapi({ description: 'Account credit, minor units of the shop’s currency (GET /v1/me/credit).', example: 500 }),
}).openapi('StaffUser');
export type StaffUser = z.infer<typeof StaffUserSchema>;

const Row = CurrentUserRow.extend({ disabled: z.boolean(), erased: z.boolean(), credit_balance: z.number() });

/** The account `id`; 404 `not_found` when there is none. */
export async function staffUser(deps: Deps, id: string): Promise<StaffUser> {
  const [row] = await deps.database.rows(Row, sql`
    SELECT id, email, role, name, phone, locale, email_verified_at IS NOT NULL AS email_verified,
           disabled_at IS NOT NULL AS disabled, erased_at IS NOT NULL AS erased, credit_balance, created_at
    FROM users WHERE id = ${id}::uuid`);
  if (!row) throw new ApiError('not_found', 'No such user.');
  return { ...toCurrentUser(row), disabled: row.disabled, erased: row.erased, creditBalance: row.credit_balance };
}
