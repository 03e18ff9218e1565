import { sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { exchangeForRevocation } from '../../account/apple-link.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { countAttemptIn } from '../auth/register.js';
import { blockedError, eraseAccount, erasureSubjectQuery, ErasureSubject, loadErasureSubject, type EraseResult } from './erase.js';
import type { DeleteAccountInput } from './schemas.js';

/** A provider ID token proves a fresh sign-in when issued at most this long ago, seconds. */
export const REAUTH_MAX_AGE_S = 10 * 60;
/** Re-authentications per account in DELETE_WINDOW_S before 429: a leaked access token is no password oracle. */
export const DELETE_ATTEMPTS_PER_WINDOW = 5;
export const DELETE_WINDOW_S = 15 * 60;

const SubjectWithAttempts = ErasureSubject.extend({ attempts: z.number(), started_ms: z.number() });

/**
 * DELETE /v1/me. Round trips: 1 (the account, its blockers and the attempt counter) + the
 * re-authentication (Argon2id, or the provider's JWKS when not cached) + 1 (eraseAccount).
 * Errors: 403 `current_password_incorrect` (a wrong password; always for an account made by Sign
 * in with Apple or Google, which has none), 403 `reauthentication_failed` (`details.reason`:
 * `not_linked` the token's identity is not this account's, `stale` issued over REAUTH_MAX_AGE_S
 * ago), 401 `invalid_id_token` (as sign-in), 409
 * `account_has_open_orders` (`details.blockers`), 429 `too_many_attempts`, 401 `invalid_token`
 * (the account is gone). Nothing is written but the attempt counter unless the erasure runs.
 */
export async function deleteOwnAccount(deps: Deps, userId: string, input: DeleteAccountInput): Promise<EraseResult> {
  const now = deps.clock.now();
  const key = await deps.sha256Hex(`delete-account:${userId}`);
  const [subject] = await deps.database.rows(
    SubjectWithAttempts,
    erasureSubjectQuery(userId, now, sql`att AS (${countAttemptIn(key, now, DELETE_WINDOW_S)})`, sql`att.attempts, att.started_ms`, sql`att`),
  );
  if (!subject) throw new ApiError('invalid_token', 'The account behind this token no longer exists.');
  if (subject.erased) return { outcome: 'already_erased', taskIds: [] };
  if (subject.attempts > DELETE_ATTEMPTS_PER_WINDOW) {
    const left = Math.min(DELETE_WINDOW_S, Math.max(1, Math.ceil((subject.started_ms + DELETE_WINDOW_S * 1000 - now.getTime()) / 1000)));
    throw new ApiError('too_many_attempts', `Too many deletion attempts for this account; try again in ${left} s.`, { details: { retryAfterSeconds: left }, retryAfterSeconds: left });
  }
  const appleSealed: string[] = [];
  if (input.password !== undefined) {
    if (!(await deps.passwords.verify(input.password, subject.password_hash))) throw new ApiError('current_password_incorrect', 'The password is wrong.');
  } else if (input.provider && input.idToken && input.nonce) {
    const token = await deps.idTokens.verify(input.provider, input.idToken, input.nonce, now);
    if (!subject.identities.some((i) => i.provider === input.provider && i.subject === token.subject)) {
      throw reauthFailed('not_linked', 'The ID token is for a provider account that is not linked to this account.');
    }
    const iat = decodeJwt(input.idToken).iat ?? 0;
    if (now.getTime() / 1000 - iat > REAUTH_MAX_AGE_S) throw reauthFailed('stale', `Sign in with the provider again: the ID token must be at most ${REAUTH_MAX_AGE_S / 60} minutes old.`);
  } else {
    throw new ApiError('validation_failed', 'Send the password or a provider sign-in.');
  }
  if (subject.blockers.length > 0) throw blockedError(subject.blockers);
  // Only for an erasure that will run: a refresh token Apple issues for the code is revoked with it (a refused one would be dropped unrevoked).
  if (input.password === undefined && input.provider === 'apple' && input.idToken && input.authorizationCode) {
    const sealed = await exchangeForRevocation(deps, input.idToken, input.authorizationCode);
    if (sealed) appleSealed.push(sealed);
  }
  const result = await eraseAccount(deps, userId, appleSealed);
  if (result.outcome === 'erased') deps.logger.info('account erased', { userId, by: 'self', tasks: result.taskIds.length });
  return result;
}

const reauthFailed = (reason: string, detail: string) => new ApiError('reauthentication_failed', detail, { details: { reason } });

/**
 * DELETE /v1/admin/users/{id}: the same erasure for a customer who asked by other means (email,
 * phone), without re-authentication; recorded as a log line naming the admin (the account row
 * holds no trace of who). Round trips: 1 + eraseAccount's 1 (the admin's role check rides on the
 * first). Errors: 404 `not_found`, 409 `conflict` (an admin's own account: use DELETE /v1/me; a
 * staff or admin account: demote it to customer first, so a mistyped id never wipes a colleague),
 * 409 `account_has_open_orders`.
 */
export async function eraseAccountByAdmin(deps: Deps, adminId: string, userId: string): Promise<EraseResult> {
  if (adminId === userId) throw new ApiError('conflict', 'Delete your own account with DELETE /v1/me.');
  const subject = await loadErasureSubject(deps, userId);
  if (!subject) throw new ApiError('not_found', 'No such user.');
  if (subject.erased) return { outcome: 'already_erased', taskIds: [] };
  if (subject.role !== 'customer') {
    throw new ApiError('conflict', `This is a ${subject.role} account: only customer accounts are erased here. Demote it to customer first if it really must go.`, {
      details: { role: subject.role },
    });
  }
  if (subject.blockers.length > 0) throw blockedError(subject.blockers);
  const result = await eraseAccount(deps, userId);
  if (result.outcome === 'erased') deps.logger.info('account erased', { userId, by: 'admin', adminId, at: deps.clock.now().toISOString(), tasks: result.taskIds.length });
  return result;
}
