import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { toPublicUser, UserRow, type PublicUser } from './shared.js';

/** GET /v1/me: the caller; 401 `invalid_token` when the account behind a valid token is gone. */
export async function getCurrentUser(deps: Deps, userId: string): Promise<PublicUser> {
  const user = await findUser(deps, userId);
  if (!user) throw new ApiError('invalid_token', 'The account behind this token no longer exists.');
  return user;
}

async function findUser(deps: Deps, userId: string): Promise<PublicUser | undefined> {
  const rows = await deps.database.rows(UserRow, sql`
    SELECT id, email, role, name, created_at FROM users WHERE id = ${userId}::uuid`);
  return rows[0] ? toPublicUser(rows[0]) : undefined;
}
