import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { fingerprintOf, ipThrottle, issueTokenCtes, pendingToken, refuseIfOver, throttleCtes, tokenRefusal, tokenState, ts, type Throttle } from './account-tokens.js';
import { revokeSessions } from './shared.js';

/*
 * Password reset (issue 18). POST /v1/auth/password-reset emails a one-time token (30 minutes);
 * POST /v1/auth/password-reset/confirm sets a new password with it and ends every session.
 * Tokens: ./account-tokens.ts. The email: the notifications outbox (type `password_reset`).
 */

/** Reset requests per email address (known or not) per window, then 429. */
export const RESET_MAX_PER_ADDRESS = 3;
export const RESET_ADDRESS_WINDOW_S = 60 * 60;
/** Reset requests and confirmations per client address (IPv6: per /64) per window, each. */
export const RESET_MAX_PER_IP = 10;
export const RESET_IP_WINDOW_S = 15 * 60;
/** Confirmations per token per window: a token is 256 bits, this only bounds the hashing one can cost. */
export const CONFIRM_MAX_PER_TOKEN = 5;
export const CONFIRM_TOKEN_WINDOW_S = 15 * 60;

const Over = z.object({ over_s: z.number() });

/**
 * POST /v1/auth/password-reset. ONE statement, whether the address is an account's or not: counts
 * the attempt per address and per client address, and (if neither is over and an enabled account
 * has this email) inserts the token row and the outbox row of the email; else nothing. The same
 * work before it either way (a token is made, hashed and sealed for every request), so a known and
 * an unknown address answer alike: 202 with no body difference (the route). Throws 429
 * `too_many_attempts` (Retry-After) when a throttle is over, for known and unknown addresses alike.
 * Round trips: 1.
 */
export async function requestPasswordReset(deps: Deps, clientIp: string | undefined, email: string): Promise<void> {
  const token = await pendingToken(deps, 'password_reset');
  const throttles: Throttle[] = [{ key: await deps.sha256Hex(`password-reset-email:${email}`), max: RESET_MAX_PER_ADDRESS, windowS: RESET_ADDRESS_WINDOW_S }];
  const byIp = await ipThrottle(deps, 'password-reset', clientIp, RESET_MAX_PER_IP, RESET_IP_WINDOW_S);
  if (byIp) throttles.push(byIp);
  const now = deps.clock.now();
  const [row] = await deps.database.rows(Over, sql`
    WITH ${throttleCtes(throttles, now)},
    u AS (
      SELECT id, email AS email_to, password_hash FROM users
      WHERE email = ${email} AND disabled_at IS NULL AND (SELECT over_s FROM lim) = 0
    ), ${issueTokenCtes('reset', 'u', token, now, fingerprintOf(sql`password_hash`))}
    SELECT over_s FROM lim`);
  refuseIfOver(row?.over_s ?? 0, 'password reset requests');
}

const Looked = z.object({ over_s: z.number(), state: z.string().nullable() });
const Confirmed = z.object({ user_id: z.string().nullable(), ended: z.number(), state: z.string().nullable() });

/**
 * POST /v1/auth/password-reset/confirm: sets `newPassword` (Argon2id through the hash pool, same
 * rules as registration) on the token's account and ends every session of it.
 *
 * Round trips: 2. (1) count the attempt per client address and per token, and read the token's
 * state: refusals cost no hashing; (2) after hashing, ONE statement consumes the token (an UPDATE
 * that re-checks every condition on the locked row: of two concurrent confirms with one token,
 * exactly one finds it unused), sets the password (the account's email counts as verified: the
 * link reached it) and ends every session (shared.ts revokeSessions: refresh tokens and the access
 * tokens the sessions issued are refused from their next request, src/db/role-check.ts). The new password voids every other
 * reset and email-change token of the account (their fingerprint no longer matches).
 *
 * Throws: 429 `too_many_attempts`; 400 `recovery_token_invalid`; 410 `recovery_token_expired`;
 * 410 `recovery_token_used` (also the loser of a race). Returns how many sessions were ended.
 */
export async function confirmPasswordReset(
  deps: Deps,
  clientIp: string | undefined,
  input: { token: string; newPassword: string },
): Promise<{ endedSessions: number }> {
  const hash = await deps.sha256Hex(input.token);
  const throttles: Throttle[] = [{ key: await deps.sha256Hex(`password-reset-token:${hash}`), max: CONFIRM_MAX_PER_TOKEN, windowS: CONFIRM_TOKEN_WINDOW_S }];
  const byIp = await ipThrottle(deps, 'password-reset-confirm', clientIp, RESET_MAX_PER_IP, RESET_IP_WINDOW_S);
  if (byIp) throttles.push(byIp);
  const first = deps.clock.now();
  const [look] = await deps.database.rows(Looked, sql`
    WITH ${throttleCtes(throttles, first)}
    SELECT lim.over_s,
           (SELECT ${tokenState(first)} FROM account_tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = ${hash} AND t.purpose = 'password_reset') AS state
    FROM lim`);
  if (!look) throw new ApiError('internal_error');
  refuseIfOver(look.over_s, 'password reset attempts');
  if (look.state !== 'ok') throw tokenRefusal(look.state);

  const passwordHash = await deps.passwords.hash(input.newPassword);
  const now = deps.clock.now();
  const [done] = await deps.database.rows(Confirmed, sql`
    WITH c AS (
      UPDATE account_tokens t SET used_at = ${ts(now)}
      FROM users u
      WHERE t.token_hash = ${hash} AND t.purpose = 'password_reset' AND u.id = t.user_id AND ${tokenState(now)} = 'ok'
      RETURNING t.user_id AS id
    ), pw AS (
      UPDATE users SET password_hash = ${passwordHash}, email_verified_at = COALESCE(email_verified_at, ${ts(now)}), updated_at = ${ts(now)}
      WHERE id IN (SELECT id FROM c)
    ), u AS (SELECT id FROM c), ${revokeSessions('password_reset', now)}
    SELECT (SELECT id::text FROM c) AS user_id,
           (SELECT count(*)::int FROM revoked_families) AS ended,
           (SELECT ${tokenState(now)} FROM account_tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = ${hash} AND t.purpose = 'password_reset') AS state`);
  if (!done?.user_id) {
    // This statement's snapshot may still show the token unused: a concurrent confirm consumed it.
    throw tokenRefusal(done?.state === 'ok' ? 'used' : done?.state);
  }
  return { endedSessions: done.ended };
}
