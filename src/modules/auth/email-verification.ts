import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { isUniqueViolation } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { fingerprintOf, ipThrottle, issueTokenCtes, pendingToken, refuseIfOver, throttleCtes, tokenRefusal, tokenState, ts, type PendingToken, type Throttle } from './account-tokens.js';

/*
 * Email verification (issue 18). Registration with a password writes a verification email in its
 * own statement (./register.ts, verificationCtes); POST /v1/me/email-verification sends another;
 * POST /v1/auth/verify-email confirms a token, which also completes an email change
 * (./email-change.ts). `users.email_verified_at` records it; Apple/Google sign-in with a
 * provider-verified email sets it too (./oauth.ts). Tokens: ./account-tokens.ts (24 h).
 */

/** Verification emails one account may ask for per window (POST /v1/me/email-verification). */
export const RESEND_MAX_PER_ACCOUNT = 3;
export const RESEND_WINDOW_S = 60 * 60;
/** verify-email attempts per client address per window. */
export const VERIFY_MAX_PER_IP = 20;
export const VERIFY_IP_WINDOW_S = 15 * 60;

/**
 * CTEs for the registration statement: a verification token and its email for each row of CTE
 * `source` (`id`, `email`), under the password hash fingerprint the caller computed (SHA-256 hex
 * of the new hash). No extra round trip.
 */
export function verificationCtes(source: string, token: PendingToken, now: Date, fingerprint: string) {
  return sql`verify_to AS (SELECT id, email AS email_to FROM ${sql.raw(source)}), ${issueTokenCtes('verify', 'verify_to', token, now, sql`${fingerprint}::text`)}`;
}

const Resent = z.object({ over_s: z.number(), verified: z.boolean().nullable() });

/**
 * POST /v1/me/email-verification: one statement that counts the attempt per account and, unless
 * over RESEND_MAX_PER_ACCOUNT or already verified, writes a new token and its email to the
 * current address. Throws 429 `too_many_attempts`, 409 `email_already_verified`, 401
 * `auth_required` (account gone or disabled). Round trips: 1.
 */
export async function resendVerification(deps: Deps, userId: string): Promise<void> {
  const token = await pendingToken(deps, 'email_verification');
  const now = deps.clock.now();
  const throttle: Throttle = { key: await deps.sha256Hex(`verify-resend:${userId}`), max: RESEND_MAX_PER_ACCOUNT, windowS: RESEND_WINDOW_S };
  const [row] = await deps.database.rows(Resent, sql`
    WITH ${throttleCtes([throttle], now)},
    u AS (
      SELECT id, email AS email_to, password_hash FROM users
      WHERE id = ${userId}::uuid AND disabled_at IS NULL AND email_verified_at IS NULL AND (SELECT over_s FROM lim) = 0
    ), ${issueTokenCtes('resend', 'u', token, now, fingerprintOf(sql`password_hash`))}
    SELECT lim.over_s, (SELECT email_verified_at IS NOT NULL FROM users WHERE id = ${userId}::uuid AND disabled_at IS NULL) AS verified
    FROM lim`);
  refuseIfOver(row?.over_s ?? 0, 'verification emails');
  if (row?.verified === null || row?.verified === undefined) throw new ApiError('auth_required', 'The account no longer exists or is disabled.');
  if (row.verified) throw new ApiError('email_already_verified', 'This email address is already verified.');
}

const Verified = z.object({
  over_s: z.number(),
  purpose: z.string().nullable(),
  email: z.string().nullable(),
  state: z.string().nullable(),
  taken: z.boolean().nullable(),
});

/**
 * POST /v1/auth/verify-email: confirms a verification token, in ONE statement (round trips: 1)
 * that counts the attempt per client address and consumes the token (re-checked on the locked
 * row: two concurrent uses, one wins), then:
 * - `email_verification`: sets users.email_verified_at (the token's address is still the account's);
 * - `email_change`: if the new address is still free, makes it the account's email, verified, and
 *   writes the `email_changed` notice to the OLD address. If it was taken meanwhile: 409
 *   `email_taken`, the token left unused (a race with a registration that commits first is the
 *   unique index's violation: the same answer, nothing written).
 * Throws 429 `too_many_attempts`, 400 `recovery_token_invalid`, 410 `recovery_token_expired`,
 * 410 `recovery_token_used`, 409 `email_taken`. Returns the (now current) verified address.
 */
export async function verifyEmail(deps: Deps, clientIp: string | undefined, token: string): Promise<{ email: string }> {
  const hash = await deps.sha256Hex(token);
  const throttles = [await ipThrottle(deps, 'verify-email', clientIp, VERIFY_MAX_PER_IP, VERIFY_IP_WINDOW_S)].filter((t) => t !== undefined);
  const now = deps.clock.now();
  const snapshot = sql`FROM account_tokens t LEFT JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = ${hash} AND t.purpose IN ('email_verification', 'email_change')`;
  let row: z.infer<typeof Verified> | undefined;
  try {
    [row] = await deps.database.rows(Verified, sql`
      WITH ${throttleCtes(throttles, now)},
      c AS (
        UPDATE account_tokens t SET used_at = ${ts(now)}
        FROM users u
        WHERE t.token_hash = ${hash} AND t.purpose IN ('email_verification', 'email_change') AND u.id = t.user_id
          AND ${tokenState(now)} = 'ok' AND (SELECT over_s FROM lim) = 0
          AND (t.purpose = 'email_verification' OR NOT EXISTS (SELECT 1 FROM users x WHERE x.email = t.email))
        RETURNING t.user_id AS id, t.purpose, t.email AS new_email, u.email AS old_email
      ), upd AS (
        UPDATE users SET email = c.new_email, email_verified_at = ${ts(now)}, updated_at = ${ts(now)}
        FROM c WHERE users.id = c.id
        RETURNING users.id
      ), notice AS (
        INSERT INTO notification_outbox (user_id, type, dedupe_key, data, recipient, created_at)
        SELECT id, 'email_changed'::notification_type, ${`account:changed:${hash}`}, jsonb_build_object('newEmail', new_email), old_email, ${ts(now)}
        FROM c WHERE purpose = 'email_change'
      )
      SELECT lim.over_s, (SELECT purpose FROM c) AS purpose, (SELECT new_email FROM c) AS email,
             (SELECT ${tokenState(now)} ${snapshot}) AS state,
             (SELECT EXISTS (SELECT 1 FROM users x WHERE x.email = t.email AND x.id <> t.user_id) ${snapshot}) AS taken
      FROM lim`);
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_key')) throw emailTaken();
    throw err;
  }
  if (!row) throw new ApiError('internal_error');
  refuseIfOver(row.over_s, 'verification attempts');
  if (row.email !== null) return { email: row.email };
  if (row.state === 'ok' && row.taken) throw emailTaken();
  // Unused in this statement's snapshot, yet not consumed by it: a concurrent use won.
  throw tokenRefusal(row.state === 'ok' ? 'used' : row.state);
}

const emailTaken = () => new ApiError('email_taken', 'Another account has taken this email address since the change was asked for.');
