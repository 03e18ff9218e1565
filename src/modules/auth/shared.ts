import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { newRefreshToken, signAccessToken } from '../../auth/tokens.js';
import { userRole, type UserRole } from '../../db/schema.js';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';

/*
 * Private to the auth module: users and sessions as the operations return them, the refresh
 * token every session-issuing statement writes, and the CTE that revokes a user's sessions.
 * Every database call of the module is one SQL statement: one round trip on Neon, and atomic
 * without an interactive transaction. The clock comes from deps so expiry is testable.
 */

/** A user as the module's statements return it: checked as it enters. */
export const UserRow = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(userRole.enumValues),
  name: z.string().nullable(),
  created_at: z.string(),
});
export type UserRow = z.infer<typeof UserRow>;

export interface PublicUser {
  id: string;
  email: string;
  role: UserRole;
  name: string | null;
  createdAt: string;
}

export interface Session {
  user: PublicUser;
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    name: row.name,
    createdAt: isoOf(row.created_at),
  };
}

/** A refresh token made up front so its row can be written in the same statement as the user. */
export interface PendingRefresh {
  id: string;
  token: string;
  hash: string;
  expiresAt: Date;
  /** What GET /v1/me/sessions shows for the session: the client's User-Agent, cleaned (deviceLabelOf). */
  deviceLabel?: string | null;
}

export async function pendingRefresh(deps: Deps, deviceLabel: string | null = null): Promise<PendingRefresh> {
  const token = newRefreshToken();
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.refreshTokenTtlDays * 86_400_000);
  return { id: crypto.randomUUID(), token, hash: await deps.sha256Hex(token), expiresAt, deviceLabel };
}

/** Longest device label kept, in characters. */
export const DEVICE_LABEL_MAX = 200;

/**
 * A session's device label from the client's `User-Agent` (the app sends e.g.
 * `LaundryApp/1.4.0 (iPhone; iOS 18.1)`): control characters dropped, whitespace collapsed,
 * cut to DEVICE_LABEL_MAX characters; null when nothing is left.
 */
export function deviceLabelOf(userAgent: string | undefined): string | null {
  if (!userAgent) return null;
  // eslint-disable-next-line no-control-regex
  const clean = userAgent.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  return clean ? Array.from(clean).slice(0, DEVICE_LABEL_MAX).join('') : null;
}

/**
 * The answer to a login, registration or refresh. `familyId` is the session the access token
 * names (`sid`): a new login's own refresh id, a refresh's family.
 */
export async function sessionFor(deps: Deps, row: UserRow, refresh: PendingRefresh, familyId: string = refresh.id): Promise<Session> {
  const { jwtSecret, accessTokenTtlSeconds } = deps.config;
  return {
    user: toPublicUser(row),
    accessToken: await signAccessToken({ sub: row.id, role: row.role, sid: familyId }, jwtSecret, deps.clock.now(), accessTokenTtlSeconds),
    tokenType: 'Bearer',
    expiresIn: accessTokenTtlSeconds,
    refreshToken: refresh.token,
    refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
  };
}

export const insertRefreshFrom = (source: string, r: PendingRefresh, now: Date) => sql`
  INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at, device_label)
  SELECT ${r.id}::uuid, id, ${r.id}::uuid, ${r.hash}, ${r.expiresAt.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz, ${r.deviceLabel ?? null}::text
  FROM ${sql.raw(source)}`;

/**
 * The one way a session (refresh-token family) is ended: CTEs, for one statement, that revoke
 * every live token of the families `where` picks out (a predicate over `refresh_tokens`, in SQL
 * written without a table alias) and record those families in `ended_sessions`.
 *
 * Why the record: a refresh in flight (refresh.ts) may have locked the family's live token and be
 * about to commit its successor. This statement then skips the old token (re-checked after the
 * lock: revoked by the rotation) and never sees the successor (not in its snapshot), so revoking
 * alone would leave the session alive. The families are taken from this statement's snapshot, in
 * which the old token was still live, and rotation refuses a token of a recorded family
 * (`refresh_token_revoked`): the successor that slipped in is dead at its first use.
 *
 * CTE names: `<name>_families` (family_id, user_id: one row per family ended; count it for "how
 * many"), `<name>` (the UPDATE) and `<name>_recorded` (the INSERT).
 */
export const endSessions = (name: string, reason: string, at: Date, where: SQL) => {
  const when = sql`${at.toISOString()}::timestamptz`;
  const families = sql.raw(`${name}_families`);
  return sql`
  ${families} AS (
    SELECT DISTINCT family_id, user_id FROM refresh_tokens WHERE revoked_at IS NULL AND (${where})
  ), ${sql.raw(name)} AS (
    UPDATE refresh_tokens SET revoked_at = ${when}, revoked_reason = ${reason}
    WHERE revoked_at IS NULL AND family_id IN (SELECT family_id FROM ${families})
    RETURNING family_id
  ), ${sql.raw(`${name}_recorded`)} AS (
    INSERT INTO ended_sessions (family_id, user_id, ended_at, reason)
    SELECT family_id, user_id, ${when}, ${reason} FROM ${families}
    ON CONFLICT (family_id) DO NOTHING
  )`;
};

/** A CTE `revoked` (with endSessions' companions) that ends every session of the users in CTE `u`, for `reason`. */
export const revokeSessions = (reason: string, at: Date) => endSessions('revoked', reason, at, sql`user_id IN (SELECT id FROM u)`);
