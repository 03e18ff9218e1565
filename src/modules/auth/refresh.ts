import { z } from 'zod';
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { pendingRefresh, sessionFor, UserRow, type Session } from './shared.js';

/** POST /v1/auth/refresh. */
const RotateColumns = { found: z.boolean(), prior_reason: z.string().nullable() };
/** The rotated token's user (all null when the token was not rotated) and what the presented token was. */
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
