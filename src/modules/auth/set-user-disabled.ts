import { sql, type SQL } from 'drizzle-orm';
import { revokeSessions } from './shared.js';

/*
 * Operator command (scripts/cli.ts `disable` / `enable`): one statement, returning the user's id,
 * or no row if no user has that email. See ./set-user-role.ts.
 */

/** Disabling also refuses login and refresh; enabling lets the user log in again. */
export function setUserDisabled(email: string, disabled: boolean, at: Date): SQL {
  const disabledAt = disabled ? sql`${at.toISOString()}::timestamptz` : sql`NULL`;
  return sql`
    WITH u AS (
      UPDATE users SET disabled_at = ${disabledAt}, updated_at = ${at.toISOString()}::timestamptz WHERE email = ${email} RETURNING id
    )${disabled ? sql`, ${revokeSessions('disabled', at)}` : sql``}
    SELECT id FROM u`;
}
