import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { fingerprintOf, issueTokenCtes, pendingToken, refuseIfOver, throttleCtes } from './account-tokens.js';

/*
 * Changing the email (issue 18): POST /v1/me/email sends a verification to the NEW address; the
 * account's email changes only when that token is confirmed (POST /v1/auth/verify-email,
 * ./email-verification.ts), and the OLD address is then told. Until then the current email keeps
 * working for login, password reset and provider linking.
 */

/** Email change attempts per account per window (wrong passwords included), counted before hashing. */
export const CHANGE_EMAIL_MAX_PER_WINDOW = 5;
export const CHANGE_EMAIL_WINDOW_S = 15 * 60;

const Checked = z.object({ over_s: z.number(), password_hash: z.string().nullable(), email: z.string().nullable(), taken: z.boolean() });
const Written = z.object({ written: z.number() });

/**
 * POST /v1/me/email. Round trips: 2. (1) counts the attempt per account and reads the password
 * hash, the current email and whether `newEmail` is an account's; (2) after the Argon2id check,
 * writes the `email_change` token (24 h, sealed into the email; voided if the password changes)
 * and the verification email to `newEmail` in one statement.
 * Throws 429 `too_many_attempts`, 401 `auth_required` (account gone or disabled), 422
 * `validation_failed` (the address is already the account's), 409 `email_taken`, 403
 * `current_password_incorrect` (also for an account made by Apple/Google sign-in that never set a
 * password: it sets one with a password reset first).
 */
export async function requestEmailChange(deps: Deps, userId: string, input: { newEmail: string; password: string }): Promise<void> {
  const now = deps.clock.now();
  const throttle = { key: await deps.sha256Hex(`change-email:${userId}`), max: CHANGE_EMAIL_MAX_PER_WINDOW, windowS: CHANGE_EMAIL_WINDOW_S };
  const [row] = await deps.database.rows(Checked, sql`
    WITH ${throttleCtes([throttle], now)}
    SELECT lim.over_s, u.password_hash, u.email,
           EXISTS (SELECT 1 FROM users x WHERE x.email = ${input.newEmail}) AS taken
    FROM lim LEFT JOIN users u ON u.id = ${userId}::uuid AND u.disabled_at IS NULL`);
  if (!row) throw new ApiError('internal_error');
  refuseIfOver(row.over_s, 'email changes for this account');
  if (row.password_hash === null || row.email === null) throw new ApiError('auth_required', 'The account no longer exists or is disabled.');
  if (row.email === input.newEmail) {
    throw new ApiError('validation_failed', 'This is already the account’s email.', [{ field: 'body.newEmail', message: 'is already the account’s email' }]);
  }
  if (!(await deps.passwords.verify(input.password, row.password_hash))) {
    throw new ApiError('current_password_incorrect', 'The password is wrong.');
  }
  if (row.taken) throw new ApiError('email_taken', 'Another account uses this email address.');
  const token = await pendingToken(deps, 'email_change');
  const at = deps.clock.now();
  const [done] = await deps.database.rows(Written, sql`
    WITH u AS (
      SELECT id, ${input.newEmail}::text AS email_to, password_hash FROM users
      WHERE id = ${userId}::uuid AND disabled_at IS NULL AND password_hash = ${row.password_hash}
    ), ${issueTokenCtes('change', 'u', token, at, fingerprintOf(sql`password_hash`))}
    SELECT count(*)::int AS written FROM u`);
  // The password changed (or the account was disabled) between the check and the write.
  if (!done?.written) throw new ApiError('current_password_incorrect', 'The password changed meanwhile; try again.');
}
