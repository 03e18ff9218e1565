import { z } from 'zod';
import { sql, type SQL } from 'drizzle-orm';
import { successorRefreshToken } from '../../auth/tokens.js';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { sessionFor, UserRow, type PendingRefresh, type Session } from './shared.js';

/** POST /v1/auth/refresh. */

/**
 * What one statement saw: the presented token (`cur`), whether this statement rotated it
 * (`issued`), and, when it had been rotated already, its successor. Times are compared in SQL
 * against the app's clock, so tests can move it.
 */
const StateColumns = {
  found: z.boolean(),
  prior_reason: z.string().nullable(),
  prior_expired: z.boolean().nullable(),
  prior_disabled: z.boolean().nullable(),
  in_grace: z.boolean().nullable(),
  issued: z.boolean(),
  successor_found: z.boolean(),
  successor_reason: z.string().nullable(),
  successor_expired: z.boolean().nullable(),
  successor_disabled: z.boolean().nullable(),
  refresh_expires_at: z.string().nullable(),
  /** The session (refresh-token family) the presented token belongs to: the new access token's `sid`. */
  family_id: z.string().nullable(),
  /** The family is in `ended_sessions` (shared.ts endSessions): its tokens are refused, live or not. */
  family_ended: z.boolean().nullable(),
};
const NoUser = z.object({ id: z.null(), email: z.null(), role: z.null(), name: z.null(), created_at: z.null() });
/** The user is there when the statement rotated the token or found its successor. */
const StateRow = z.union([UserRow.extend(StateColumns), NoUser.extend(StateColumns)]);
type StateRow = z.infer<typeof StateRow>;

const reused = () =>
  new ApiError('refresh_token_reused', 'This refresh token was used again after its grace window: the session it belongs to has been revoked, every later token included. Log in again.');
const superseded = () =>
  new ApiError('refresh_token_superseded', 'This refresh token was already exchanged, and the token it was exchanged for has been exchanged since. Nothing was revoked: use the newest refresh token the app holds.');
const revoked = () => new ApiError('refresh_token_revoked', 'The session was ended (logout, log-out-everywhere, a password change, a role change or a disabled account). Log in again.');
const expired = () => new ApiError('refresh_token_expired', 'The refresh token has expired. Log in again.');
const unknown = () => new ApiError('invalid_refresh_token', 'The refresh token is not one this API issued. Log in again.');

/**
 * Rotates a refresh token (RFC 6749 §10.4; OAuth 2.0 Security BCP, RFC 9700 §4.14.2: refresh
 * token rotation with reuse detection).
 *
 * The successor of a token is derived from it (`successorRefreshToken`), so every request that
 * presents the same token within `refreshReuseGraceSeconds` of its rotation gets the same
 * successor (with its own access token) and nothing is revoked: a phone that fires two or ten
 * refreshes at once stays logged in. Presenting a rotated token after the window is a replay:
 * the whole family (every token descended from the same login) is revoked.
 *
 * One statement on the common paths (rotate; repeat within the window; replay). When this
 * statement's snapshot saw the token live but a concurrent statement rotated (or revoked) it
 * before this one got the row lock, the successor is invisible to this snapshot: one more read
 * finds it. Errors (all 401): `refresh_token_reused`, `refresh_token_superseded`,
 * `refresh_token_revoked`, `refresh_token_expired`, `invalid_refresh_token`.
 */
export async function rotateRefreshToken(deps: Deps, presented: string): Promise<Session> {
  const { jwtSecret, refreshTokenTtlDays, refreshReuseGraceSeconds } = deps.config;
  const now = deps.clock.now();
  const successor = await successorRefreshToken(presented, jwtSecret);
  const [presentedHash, successorHash] = await Promise.all([deps.sha256Hex(presented), deps.sha256Hex(successor)]);
  const next: PendingRefresh = {
    id: crypto.randomUUID(),
    token: successor,
    hash: successorHash,
    expiresAt: new Date(now.getTime() + refreshTokenTtlDays * 86_400_000),
  };
  const at = sql`${now.toISOString()}::timestamptz`;
  const grace = sql`${refreshReuseGraceSeconds}::int * interval '1 second'`;

  const cur = sql`cur AS (
      SELECT r.id, r.user_id, r.family_id, r.revoked_at, r.revoked_reason, r.expires_at,
             EXISTS (SELECT 1 FROM users d WHERE d.id = r.user_id AND d.disabled_at IS NOT NULL) AS disabled,
             EXISTS (SELECT 1 FROM ended_sessions e WHERE e.family_id = r.family_id) AS family_ended
      FROM refresh_tokens r WHERE r.token_hash = ${presentedHash}
    )`;
  // The row the presented token's rotation wrote: same user and family, found by its hash.
  const successorOf = sql`successor AS (
      SELECT s.user_id, s.revoked_reason, s.expires_at,
             EXISTS (SELECT 1 FROM users d WHERE d.id = s.user_id AND d.disabled_at IS NOT NULL) AS disabled
      FROM refresh_tokens s JOIN cur ON s.family_id = cur.family_id AND s.user_id = cur.user_id
      WHERE s.token_hash = ${successorHash} AND cur.revoked_reason = 'rotated'
    )`;
  const answer = sql`
    SELECT cur.id IS NOT NULL AS found, cur.revoked_reason AS prior_reason, cur.expires_at <= ${at} AS prior_expired,
           cur.disabled AS prior_disabled, cur.revoked_at > ${at} - ${grace} AS in_grace,
           issued.user_id IS NOT NULL AS issued,
           successor.user_id IS NOT NULL AS successor_found, successor.revoked_reason AS successor_reason,
           successor.expires_at <= ${at} AS successor_expired, successor.disabled AS successor_disabled,
           COALESCE(issued.expires_at, successor.expires_at) AS refresh_expires_at, cur.family_id, cur.family_ended,
           u.id, u.email, u.role, u.name, u.created_at
    FROM (SELECT 1) AS one
    LEFT JOIN cur ON true
    LEFT JOIN issued ON true
    LEFT JOIN successor ON true
    LEFT JOIN users u ON u.id = COALESCE(issued.user_id, successor.user_id)`;
  const read = async (statement: SQL) => (await deps.database.rows(StateRow, statement))[0];

  const row = await read(sql`
    WITH ${cur}, rotated AS (
      UPDATE refresh_tokens r SET revoked_at = ${at}, revoked_reason = 'rotated'
      FROM cur
      WHERE r.id = cur.id AND r.revoked_at IS NULL AND r.expires_at > ${at} AND NOT cur.family_ended
        AND NOT EXISTS (SELECT 1 FROM users d WHERE d.id = r.user_id AND d.disabled_at IS NOT NULL)
      RETURNING r.user_id, r.family_id, r.device_label
    ), issued AS (
      INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at, device_label)
      SELECT ${next.id}::uuid, user_id, family_id, ${next.hash}, ${next.expiresAt.toISOString()}::timestamptz, ${at}, device_label
      FROM rotated
      RETURNING user_id, expires_at
    ), ${successorOf}, burned AS (
      UPDATE refresh_tokens r SET revoked_at = ${at}, revoked_reason = 'reuse_detected'
      FROM cur
      WHERE cur.revoked_reason = 'rotated' AND cur.revoked_at <= ${at} - ${grace}
        AND r.family_id = cur.family_id AND r.revoked_at IS NULL
    )${answer}`);
  const outcome = decide(row, 'rotate');
  const family = row?.family_id ?? undefined;
  if (outcome === 'issued') return sessionFor(deps, userOf(row), next, family);
  if (outcome !== 'look_again') return sessionFor(deps, outcome.user, { ...next, expiresAt: new Date(outcome.expiresAt) }, family);

  // The lock race: a concurrent statement changed the token after this one's snapshot. A fresh
  // snapshot sees its successor (read only: a race is never a replay).
  const again = await read(sql`
    WITH ${cur}, issued AS (SELECT NULL::uuid AS user_id, NULL::timestamptz AS expires_at WHERE false), ${successorOf}${answer}`);
  const settled = decide(again, 'follow_up');
  if (typeof settled === 'string') throw unknown(); // still live and unrotated: not a state a race leaves
  return sessionFor(deps, settled.user, { ...next, expiresAt: new Date(settled.expiresAt) }, again?.family_id ?? family);
}

const userOf = (row: StateRow | undefined): UserRow => UserRow.parse(row);

/**
 * What a statement's view of the token means. `look_again`: the token looked live and unrotated,
 * yet this statement could not rotate it, so a concurrent one did (or revoked it) first.
 */
function decide(row: StateRow | undefined, stage: 'rotate' | 'follow_up'): 'issued' | 'look_again' | { user: UserRow; expiresAt: string } {
  if (!row?.found) throw unknown();
  if (row.issued) return 'issued';
  switch (row.prior_reason) {
    case 'rotated':
      if (!row.in_grace) throw stage === 'rotate' ? reused() : superseded();
      if (!row.successor_found) throw unknown(); // derived with another JWT_SECRET
      if (row.successor_reason === 'rotated') throw superseded();
      if (row.successor_reason === 'reuse_detected') throw reused();
      // A successor a concurrent refresh committed while its session was being ended: dead.
      if (row.successor_reason !== null || row.successor_disabled || row.family_ended) throw revoked();
      if (row.successor_expired) throw expired();
      if (row.refresh_expires_at === null) throw unknown();
      return { user: userOf(row), expiresAt: isoOf(row.refresh_expires_at) };
    case 'reuse_detected':
      throw reused();
    case null:
      // Live, yet its session was ended: the successor of a refresh that raced the ending
      // statement (shared.ts endSessions). Refused here, not by the follow-up read.
      if (row.prior_disabled || row.family_ended) throw revoked();
      if (row.prior_expired) throw expired();
      return 'look_again';
    default:
      throw revoked();
  }
}
