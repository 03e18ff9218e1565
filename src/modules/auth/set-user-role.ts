import { sql, type SQL } from 'drizzle-orm';
import type { UserRole } from '../../db/schema.js';
import { revokeSessions } from './shared.js';

/*
 * Operator changes to an account (scripts/cli.ts). Each is one statement that also revokes the
 * user's refresh tokens, so no session outlives the change: the user logs in again and gets a
 * token with the new role. Access tokens already issued are refused on their next request
 * (src/db/role-check.ts): 403 on staff and admin routes the user lost, 401 elsewhere (the session ended). Each (this and ./set-user-disabled.ts) returns the
 * user's id, or no row if no user has that email.
 */

export function setUserRole(email: string, role: UserRole, at: Date): SQL {
  return sql`
    WITH u AS (
      UPDATE users SET role = ${role}, updated_at = ${at.toISOString()}::timestamptz WHERE email = ${email} RETURNING id
    ), ${revokeSessions('role_changed', at)}
    SELECT id FROM u`;
}
