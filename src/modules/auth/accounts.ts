import { sql, type SQL } from 'drizzle-orm';
import type { UserRole } from '../../db/schema.js';

/*
 * Operator changes to an account (scripts/cli.ts). Each is one statement that also revokes the
 * user's refresh tokens, so no session outlives the change: the user logs in again and gets a
 * token with the new role. Access tokens already issued are refused by staff and admin routes on
 * their next request (src/db/role-check.ts). Each returns the user's id, or no row if no user
 * has that email.
 */

const revokeSessions = (reason: string, at: Date) => sql`
  revoked AS (
    UPDATE refresh_tokens SET revoked_at = ${at.toISOString()}::timestamptz, revoked_reason = ${reason}
    WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL
  )`;

export function setUserRole(email: string, role: UserRole, at: Date): SQL {
  return sql`
    WITH u AS (
      UPDATE users SET role = ${role}, updated_at = ${at.toISOString()}::timestamptz WHERE email = ${email} RETURNING id
    ), ${revokeSessions('role_changed', at)}
    SELECT id FROM u`;
}

/** Disabling also refuses login and refresh; enabling lets the user log in again. */
export function setUserDisabled(email: string, disabled: boolean, at: Date): SQL {
  const disabledAt = disabled ? sql`${at.toISOString()}::timestamptz` : sql`NULL`;
  return sql`
    WITH u AS (
      UPDATE users SET disabled_at = ${disabledAt}, updated_at = ${at.toISOString()}::timestamptz WHERE email = ${email} RETURNING id
    )${disabled ? sql`, ${revokeSessions('disabled', at)}` : sql``}
    SELECT id FROM u`;
}
