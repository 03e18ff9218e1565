import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { countAttemptIn } from './register.js';
import { endSessions } from './shared.js';

/*
 * The caller's sessions: one per refresh-token family (every token rotated from one login or
 * registration shares `refresh_tokens.family_id`), live while one of its tokens is unrevoked and
 * unexpired. The access token names its own session (`sid`), so the list can mark it and a
 * password change can keep it. Every operation is one statement, except the password change
 * (count the attempt and read the hash; then write): two. Ending a session goes through
 * shared.ts endSessions, which also records the family in `ended_sessions`: a refresh that raced
 * the ending statement cannot keep the session alive (its successor token is refused).
 */

/** At most this many sessions are listed, most recently used first. */
export const SESSIONS_LISTED_MAX = 100;

export interface SessionDto {
  /** The family id: what DELETE /v1/me/sessions/{id} takes. */
  id: string;
  /** The client's User-Agent at login, cleaned; null when it sent none. */
  deviceLabel: string | null;
  /** UTC: the login or registration that started it. */
  createdAt: string;
  /** UTC: its latest refresh (or the login, if never refreshed). */
  lastUsedAt: string;
  /** UTC: when its live refresh token expires unless rotated before. */
  expiresAt: string;
  /** The session of the access token this request was made with. */
  current: boolean;
}

const SessionRow = z.object({
  id: z.string(),
  device_label: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string(),
  expires_at: z.string(),
});

const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

/** GET /v1/me/sessions: the caller's live sessions, most recently used first. */
export async function listSessions(deps: Deps, userId: string, currentId: string | undefined): Promise<SessionDto[]> {
  const now = deps.clock.now();
  const rows = await deps.database.rows(SessionRow, sql`
    SELECT family_id AS id,
           (array_agg(device_label ORDER BY created_at DESC))[1] AS device_label,
           min(created_at) AS created_at, max(created_at) AS last_used_at,
           max(expires_at) FILTER (WHERE revoked_at IS NULL) AS expires_at
    FROM refresh_tokens
    WHERE user_id = ${userId}::uuid
      AND NOT EXISTS (SELECT 1 FROM ended_sessions e WHERE e.family_id = refresh_tokens.family_id)
    GROUP BY family_id
    HAVING bool_or(revoked_at IS NULL AND expires_at > ${ts(now)})
    ORDER BY max(created_at) DESC, family_id
    LIMIT ${SESSIONS_LISTED_MAX}`);
  return rows.map((r) => ({
    id: r.id,
    deviceLabel: r.device_label,
    createdAt: isoOf(r.created_at),
    lastUsedAt: isoOf(r.last_used_at),
    expiresAt: isoOf(r.expires_at),
    current: r.id === currentId,
  }));
}

const Found = z.object({ found: z.boolean() });

/**
 * DELETE /v1/me/sessions/{id}: ends one of the caller's sessions: its refresh tokens and the
 * access tokens it issued are refused from their next request (src/db/role-check.ts).
 * Idempotent for a session of the caller's that has already ended; 404 `not_found` for an id
 * that was never the caller's.
 */
export async function revokeSession(deps: Deps, userId: string, familyId: string): Promise<void> {
  const [row] = await deps.database.rows(Found, sql`
    WITH ${endSessions('ended', 'session_revoked', deps.clock.now(), sql`user_id = ${userId}::uuid AND family_id = ${familyId}::uuid`)}
    SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE user_id = ${userId}::uuid AND family_id = ${familyId}::uuid) AS found`);
  if (!row?.found) throw new ApiError('not_found', 'No such session.');
}

const Count = z.object({ ended: z.number() });
const Changed = z.object({ changed: z.number(), ended: z.number() });

/**
 * DELETE /v1/me/sessions ("log out everywhere"): ends every session of the caller, this one
 * included, or every one but `keep`. Returns how many were live.
 */
export async function revokeAllSessions(deps: Deps, userId: string, reason: string, keep?: string): Promise<number> {
  const [row] = await deps.database.rows(Count, sql`
    WITH ${endSessions('ended', reason, deps.clock.now(), sql`user_id = ${userId}::uuid AND (${keep ?? null}::uuid IS NULL OR family_id <> ${keep ?? null}::uuid)`)}
    SELECT count(*)::int AS ended FROM ended_families`);
  return row?.ended ?? 0;
}

/**
 * Wrong current passwords allowed per account in CHANGE_PASSWORD_WINDOW_S before 429: an access
 * token that leaked is not a free password oracle. Counted before any hashing, refused ones too.
 */
export const CHANGE_PASSWORD_MAX_PER_WINDOW = 5;
export const CHANGE_PASSWORD_WINDOW_S = 15 * 60;

const HashRow = z.object({ attempts: z.number(), started_ms: z.number(), password_hash: z.string().nullable() });

/**
 * POST /v1/me/password: checks the current password, stores the new one (Argon2id, as at
 * registration) and ends every other session of the account; the caller's own stays (its `sid`).
 * Errors: 403 `current_password_incorrect` (also when the password changed between the check and
 * the write: a reset that committed meanwhile is not overwritten); 429 `too_many_attempts` with Retry-After after
 * CHANGE_PASSWORD_MAX_PER_WINDOW attempts; 401 `auth_required` if the account is gone or disabled.
 * Returns how many other sessions were ended.
 */
export async function changePassword(
  deps: Deps,
  principal: { userId: string; sessionId?: string },
  input: { currentPassword: string; newPassword: string },
): Promise<{ endedSessions: number }> {
  const now = deps.clock.now();
  const key = await deps.sha256Hex(`change-password:${principal.userId}`);
  const [row] = await deps.database.rows(HashRow, sql`
    WITH att AS (${countAttemptIn(key, now, CHANGE_PASSWORD_WINDOW_S)})
    SELECT att.attempts, att.started_ms, u.password_hash
    FROM att LEFT JOIN users u ON u.id = ${principal.userId}::uuid AND u.disabled_at IS NULL`);
  if (!row) throw new ApiError('internal_error');
  if (row.attempts > CHANGE_PASSWORD_MAX_PER_WINDOW) {
    const left = Math.min(CHANGE_PASSWORD_WINDOW_S, Math.max(1, Math.ceil((row.started_ms + CHANGE_PASSWORD_WINDOW_S * 1000 - now.getTime()) / 1000)));
    throw new ApiError('too_many_attempts', `Too many password changes for this account; try again in ${left} s.`, {
      details: { retryAfterSeconds: left },
      retryAfterSeconds: left,
    });
  }
  if (row.password_hash === null) throw new ApiError('auth_required', 'The account no longer exists or is disabled.');
  if (!(await deps.passwords.verify(input.currentPassword, row.password_hash))) {
    throw new ApiError('current_password_incorrect', 'The current password is wrong.');
  }
  const hash = await deps.passwords.hash(input.newPassword);
  const keep = principal.sessionId ?? null;
  // Only over the hash that was checked: a reset (or another change) that committed meanwhile wins,
  // else a session that knew the old password would overwrite the password the owner just set.
  const [done] = await deps.database.rows(Changed, sql`
    WITH pw AS (
      UPDATE users SET password_hash = ${hash}, updated_at = ${ts(now)}
      WHERE id = ${principal.userId}::uuid AND disabled_at IS NULL AND password_hash = ${row.password_hash}
      RETURNING id
    ), ${endSessions('ended', 'password_changed', now, sql`user_id IN (SELECT id FROM pw) AND (${keep}::uuid IS NULL OR family_id <> ${keep}::uuid)`)}
    SELECT (SELECT count(*)::int FROM pw) AS changed, (SELECT count(*)::int FROM ended_families) AS ended`);
  if (!done?.changed) throw new ApiError('current_password_incorrect', 'The password changed meanwhile; try again.');
  return { endedSessions: done.ended };
}
