import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { newRefreshToken, signAccessToken } from '../../auth/tokens.js';
import { AnyRow } from '../../db/client.js';
import { userRole, type UserRole } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { admitLoginAttempt, LOGIN_BUSY_RETRY_S, loginThrottleKey, recordLoginFailure, settleLoginAttempt } from './throttle.js';

/*
 * Every function here is one SQL statement: one round trip on Neon, and atomic without
 * an interactive transaction. The clock comes from deps so expiry is testable.
 */

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
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** A refresh token made up front so its row can be written in the same statement as the user. */
interface PendingRefresh {
  id: string;
  token: string;
  hash: string;
  expiresAt: Date;
}

async function pendingRefresh(deps: Deps): Promise<PendingRefresh> {
  const token = newRefreshToken();
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.refreshTokenTtlDays * 86_400_000);
  return { id: crypto.randomUUID(), token, hash: await deps.sha256Hex(token), expiresAt };
}

async function sessionFor(deps: Deps, row: UserRow, refresh: PendingRefresh): Promise<Session> {
  const { jwtSecret, accessTokenTtlSeconds } = deps.config;
  return {
    user: toPublicUser(row),
    accessToken: await signAccessToken({ sub: row.id, role: row.role }, jwtSecret, deps.clock.now(), accessTokenTtlSeconds),
    tokenType: 'Bearer',
    expiresIn: accessTokenTtlSeconds,
    refreshToken: refresh.token,
    refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
  };
}

const insertRefreshFrom = (source: string, r: PendingRefresh, now: Date) => sql`
  INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
  SELECT ${r.id}::uuid, id, ${r.id}::uuid, ${r.hash}, ${r.expiresAt.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
  FROM ${sql.raw(source)}`;

/** Creates a customer and its first refresh token in one statement; a taken email is a 409. */
export async function registerCustomer(
  deps: Deps,
  input: { email: string; passwordHash: string; name: string | null },
): Promise<Session> {
  const refresh = await pendingRefresh(deps);
  const now = deps.clock.now();
  const rows = await deps.database.rows(UserRow, sql`
    WITH u AS (
      INSERT INTO users (email, password_hash, name, role, created_at, updated_at)
      VALUES (${input.email}, ${input.passwordHash}, ${input.name}, 'customer', ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
      ON CONFLICT (email) DO NOTHING
      RETURNING id, email, role, name, created_at
    ), t AS (${insertRefreshFrom('u', refresh, now)})
    SELECT * FROM u`);
  const row = rows[0];
  if (!row) throw new ApiError('email_taken', 'An account with this email already exists; log in instead.');
  return sessionFor(deps, row, refresh);
}

export interface LoginAttempt {
  /** Undefined for an unknown or disabled email (answered exactly like a wrong password). */
  user: (UserRow & { password_hash: string }) | undefined;
  /**
   * Set when the attempt was not admitted (the address is locked, or its free attempts are all
   * in flight): answer 429 with this Retry-After, in seconds, and hash nothing.
   */
  refusedForSeconds: number | undefined;
  /** Failures in the address's current run when this attempt was admitted. */
  failures: number;
  /** Issues the session; call only after the password has been verified. */
  session: () => Promise<Session>;
  /** Deletes the refresh row written speculatively and counts the failure: one statement. */
  recordFailure: () => Promise<void>;
  /**
   * After a verified password: ends the run it saw and gives its place back (one statement).
   * The login route runs it off the response path when there were no failures to forgive.
   */
  recordSuccess: () => Promise<void>;
  /** Gives the place back and drops the refresh row, counting nothing (hashing failed, e.g. 503 busy). */
  release: () => Promise<void>;
}

const AttemptColumns = { admitted: z.boolean(), failures: z.number().nullable(), locked_until_ms: z.number().nullable() };
/** The user (when known, enabled and admitted) or a null `id`, plus the attempt's admission. */
const BeginRow = z.union([UserRow.extend({ password_hash: z.string(), ...AttemptColumns }), z.object({ id: z.null(), ...AttemptColumns })]);

/**
 * Admits the attempt (src/modules/auth/throttle.ts), reads the user and writes a refresh-token
 * row in ONE statement, so a successful login is one round trip. The attempt is counted before
 * any hashing, atomically, so parallel guesses cannot slip past the throttle. The token's secret
 * exists only in this process until the password has been verified; on a wrong password it is
 * never revealed and its row is deleted. Nothing is written for a refused attempt.
 */
export async function beginLogin(deps: Deps, email: string): Promise<LoginAttempt> {
  const refresh = await pendingRefresh(deps);
  const now = deps.clock.now();
  const key = await loginThrottleKey(deps, email);
  // `cur` is the statement's snapshot, used only to word a refusal (a lock's end).
  const rows = await deps.database.rows(BeginRow, sql`
    WITH cur AS (SELECT locked_until FROM login_throttle WHERE email_key = ${key}),
    att AS (${admitLoginAttempt(key, now)}),
    u AS (
      SELECT id, email, role, name, created_at, password_hash FROM users
      WHERE email = ${email} AND disabled_at IS NULL AND EXISTS (SELECT 1 FROM att)
    ),
    t AS (${insertRefreshFrom('u', refresh, now)})
    SELECT u.*, EXISTS (SELECT 1 FROM att) AS admitted, att.failures,
           (extract(epoch FROM cur.locked_until) * 1000)::float8 AS locked_until_ms
    FROM (SELECT 1) AS one LEFT JOIN u ON true LEFT JOIN att ON true LEFT JOIN cur ON true`);
  const row = rows[0];
  const user = row?.id ? row : undefined;
  const failures = Number(row?.failures ?? 0);
  let refusedForSeconds: number | undefined;
  if (!row?.admitted) {
    const lockedMs = row?.locked_until_ms ? Number(row.locked_until_ms) - now.getTime() : 0;
    refusedForSeconds = lockedMs > 0 ? Math.max(1, Math.ceil(lockedMs / 1000)) : LOGIN_BUSY_RETRY_S;
  }
  const settle = (forgive: { seenFailures: number } | undefined, also?: SQL) => deps.database.rows(AnyRow, settleLoginAttempt(key, deps.clock.now(), forgive, also));
  const discard = sql`discarded AS (DELETE FROM refresh_tokens WHERE id = ${refresh.id}::uuid)`;
  return {
    user,
    refusedForSeconds,
    failures,
    session: () => sessionFor(deps, user!, refresh),
    recordFailure: async () => {
      await deps.database.rows(AnyRow, recordLoginFailure(key, deps.clock.now(), discard));
    },
    recordSuccess: async () => {
      await settle({ seenFailures: failures });
    },
    release: async () => {
      await settle(undefined, discard);
    },
  };
}

export async function updatePasswordHash(deps: Deps, userId: string, passwordHash: string): Promise<void> {
  await deps.database.rows(AnyRow, sql`
    UPDATE users SET password_hash = ${passwordHash}, updated_at = ${deps.clock.now().toISOString()}::timestamptz
    WHERE id = ${userId}::uuid`);
}

const RotateColumns = { found: z.boolean(), prior_reason: z.string().nullable() };
/** The user of the new token, or a null `id` when nothing was rotated. */
const RotateRow = z.union([UserRow.extend(RotateColumns), z.object({ id: z.null(), ...RotateColumns })]);

/**
 * Rotates a refresh token in one statement. Presenting a token that was already rotated
 * means it was stolen or replayed: the whole family (every descendant) is revoked.
 */
export async function rotateRefreshToken(deps: Deps, presented: string): Promise<Session> {
  const presentedHash = await deps.sha256Hex(presented);
  const next = await pendingRefresh(deps);
  const now = deps.clock.now().toISOString();
  const rows = await deps.database.rows(RotateRow, sql`
    WITH cur AS (
      SELECT id, family_id, revoked_reason FROM refresh_tokens WHERE token_hash = ${presentedHash}
    ), rotated AS (
      UPDATE refresh_tokens r SET revoked_at = ${now}::timestamptz, revoked_reason = 'rotated'
      FROM cur
      WHERE r.id = cur.id AND r.revoked_at IS NULL AND r.expires_at > ${now}::timestamptz
        AND NOT EXISTS (SELECT 1 FROM users d WHERE d.id = r.user_id AND d.disabled_at IS NOT NULL)
      RETURNING r.user_id, r.family_id
    ), issued AS (
      INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
      SELECT ${next.id}::uuid, user_id, family_id, ${next.hash}, ${next.expiresAt.toISOString()}::timestamptz, ${now}::timestamptz
      FROM rotated
      RETURNING user_id
    ), burned AS (
      UPDATE refresh_tokens r SET revoked_at = ${now}::timestamptz, revoked_reason = 'reuse_detected'
      FROM cur
      WHERE cur.revoked_reason = 'rotated' AND r.family_id = cur.family_id AND r.revoked_at IS NULL
      RETURNING r.id
    )
    SELECT EXISTS (SELECT 1 FROM cur) AS found,
           (SELECT revoked_reason FROM cur) AS prior_reason,
           (SELECT count(*) FROM burned) AS burned,
           u.id, u.email, u.role, u.name, u.created_at
    FROM (SELECT 1) AS one
    LEFT JOIN issued ON true
    LEFT JOIN users u ON u.id = issued.user_id`);
  const row = rows[0];
  if (row?.id) return sessionFor(deps, row, next);
  if (row?.prior_reason === 'rotated') {
    throw new ApiError(
      'refresh_token_reused',
      'This refresh token was already used. Every session descended from it has been revoked; log in again.',
    );
  }
  throw new ApiError('invalid_refresh_token', 'The refresh token is unknown, expired or revoked; log in again.');
}

/** Revokes the presented token's whole family. Idempotent: an unknown token changes nothing. */
export async function revokeRefreshFamily(deps: Deps, presented: string): Promise<void> {
  const presentedHash = await deps.sha256Hex(presented);
  await deps.database.rows(AnyRow, sql`
    UPDATE refresh_tokens SET revoked_at = ${deps.clock.now().toISOString()}::timestamptz, revoked_reason = 'logout'
    WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ${presentedHash})
      AND revoked_at IS NULL`);
}

export async function findUser(deps: Deps, userId: string): Promise<PublicUser | undefined> {
  const rows = await deps.database.rows(UserRow, sql`
    SELECT id, email, role, name, created_at FROM users WHERE id = ${userId}::uuid`);
  return rows[0] ? toPublicUser(rows[0]) : undefined;
}
