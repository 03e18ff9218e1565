import { sql } from 'drizzle-orm';
import { newRefreshToken, signAccessToken } from '../../auth/tokens.js';
import type { UserRole } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { clearLoginFailures, loginThrottleKey, recordLoginFailure } from './throttle.js';

/*
 * Every function here is one SQL statement: one round trip on Neon, and atomic without
 * an interactive transaction. The clock comes from deps so expiry is testable.
 */

export interface UserRow {
  id: string;
  email: string;
  role: UserRole;
  name: string | null;
  created_at: string | Date;
}

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
  const rows = await deps.database.rows<UserRow>(sql`
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
  /** Undefined for an unknown email (answered exactly like a wrong password). */
  user: (UserRow & { password_hash: string }) | undefined;
  /** Set while the address is locked by throttling: answer 429, hash nothing. */
  lockedUntil: Date | undefined;
  /** Failures in the address's current run (cleared by a successful login). */
  failures: number;
  /** Issues the session; call only after the password has been verified. */
  session: () => Promise<Session>;
  /** Deletes the refresh row written speculatively and counts the failure: one statement. */
  recordFailure: () => Promise<void>;
  /** After a success that followed failures. */
  clearFailures: () => Promise<void>;
}

/**
 * Reads the user and the address's throttling state and writes a refresh-token row in ONE
 * statement, so a successful login is one round trip. The token's secret exists only in this
 * process until the password has been verified; on a wrong password it is never revealed and
 * its row is deleted. No row is written while the address is locked.
 */
export async function beginLogin(deps: Deps, email: string): Promise<LoginAttempt> {
  const refresh = await pendingRefresh(deps);
  const now = deps.clock.now();
  const key = await loginThrottleKey(deps, email);
  const rows = await deps.database.rows<Partial<UserRow & { password_hash: string }> & { locked_until_ms: number | null; failures: number | null }>(sql`
    WITH lt AS (SELECT failures, locked_until FROM login_throttle WHERE email_key = ${key}),
    lock AS (SELECT locked_until FROM lt WHERE locked_until > ${now.toISOString()}::timestamptz),
    u AS (SELECT id, email, role, name, created_at, password_hash FROM users WHERE email = ${email} AND NOT EXISTS (SELECT 1 FROM lock)),
    t AS (${insertRefreshFrom('u', refresh, now)})
    SELECT u.*, (extract(epoch FROM lock.locked_until) * 1000)::float8 AS locked_until_ms, lt.failures
    FROM (SELECT 1) AS one LEFT JOIN u ON true LEFT JOIN lock ON true LEFT JOIN lt ON true`);
  const row = rows[0];
  const user = row?.id ? (row as UserRow & { password_hash: string }) : undefined;
  return {
    user,
    lockedUntil: row?.locked_until_ms ? new Date(Number(row.locked_until_ms)) : undefined,
    failures: row?.failures ?? 0,
    session: () => sessionFor(deps, user!, refresh),
    recordFailure: async () => {
      const discard = sql`discarded AS (DELETE FROM refresh_tokens WHERE id = ${refresh.id}::uuid)`;
      await deps.database.rows(recordLoginFailure(key, deps.clock.now(), discard));
    },
    clearFailures: async () => {
      await deps.database.rows(clearLoginFailures(key));
    },
  };
}

export async function updatePasswordHash(deps: Deps, userId: string, passwordHash: string): Promise<void> {
  await deps.database.rows(sql`
    UPDATE users SET password_hash = ${passwordHash}, updated_at = ${deps.clock.now().toISOString()}::timestamptz
    WHERE id = ${userId}::uuid`);
}

interface RotateRow extends Partial<UserRow> {
  found: boolean;
  prior_reason: string | null;
}

/**
 * Rotates a refresh token in one statement. Presenting a token that was already rotated
 * means it was stolen or replayed: the whole family (every descendant) is revoked.
 */
export async function rotateRefreshToken(deps: Deps, presented: string): Promise<Session> {
  const presentedHash = await deps.sha256Hex(presented);
  const next = await pendingRefresh(deps);
  const now = deps.clock.now().toISOString();
  const rows = await deps.database.rows<RotateRow>(sql`
    WITH cur AS (
      SELECT id, family_id, revoked_reason FROM refresh_tokens WHERE token_hash = ${presentedHash}
    ), rotated AS (
      UPDATE refresh_tokens r SET revoked_at = ${now}::timestamptz, revoked_reason = 'rotated'
      FROM cur
      WHERE r.id = cur.id AND r.revoked_at IS NULL AND r.expires_at > ${now}::timestamptz
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
  if (row?.id) return sessionFor(deps, row as UserRow, next);
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
  await deps.database.rows(sql`
    UPDATE refresh_tokens SET revoked_at = ${deps.clock.now().toISOString()}::timestamptz, revoked_reason = 'logout'
    WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ${presentedHash})
      AND revoked_at IS NULL`);
}

export async function findUser(deps: Deps, userId: string): Promise<PublicUser | undefined> {
  const rows = await deps.database.rows<UserRow>(sql`
    SELECT id, email, role, name, created_at FROM users WHERE id = ${userId}::uuid`);
  return rows[0] ? toPublicUser(rows[0]) : undefined;
}
