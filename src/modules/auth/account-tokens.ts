import { sql, type SQL } from 'drizzle-orm';
import { newAccountToken, seal } from '../../auth/seal.js';
import type { AccountTokenPurpose } from '../../db/schema-users.js';
import type { AccountEmailType } from '../../db/schema-notification-kinds.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { clientAddressUnit, countAttemptIn, isLoopback } from './register.js';

/*
 * One-time account tokens (issue 18), shared by password reset (./password-reset.ts), email
 * verification (./email-verification.ts) and email change (./email-change.ts). Table:
 * `account_tokens` (src/db/schema-users.ts). A token is 256 random bits (base64url), stored only
 * as its SHA-256; the email that carries it is an outbox row (type ACCOUNT_EMAIL_TYPES, explicit
 * `recipient`) whose `data.sealed` holds the token sealed with AES-GCM (src/auth/seal.ts); the
 * dispatcher opens it to render the link and scrubs it once the delivery is final.
 *
 * A token is good while: unused, unexpired, its account exists and is enabled, and
 * - password_reset: the account's email is still `email` and its password the one it was issued
 *   under (fingerprint), so ANY password change (reset, POST /v1/me/password, a provider link that
 *   ends the password, the CLI) voids every outstanding reset token without knowing of them;
 * - email_verification: the account's email is still `email`;
 * - email_change: the password is unchanged (whoever changes it may be shutting out an intruder).
 * Requesting a newer token leaves older ones valid until they expire (a slow email still works);
 * the throttles bound how many exist.
 */

/** Lifetimes, seconds: reset 30 minutes (issue 18), verification and change 24 hours. */
export const TOKEN_TTL_S: Readonly<Record<AccountTokenPurpose, number>> = {
  password_reset: 30 * 60,
  email_verification: 24 * 60 * 60,
  email_change: 24 * 60 * 60,
};

/** The email type that carries a token of each purpose (an email change is verified like any address). */
export const MAIL_TYPE: Readonly<Record<AccountTokenPurpose, AccountEmailType>> = {
  password_reset: 'password_reset',
  email_verification: 'email_verification',
  email_change: 'email_verification',
};

export interface PendingToken {
  purpose: AccountTokenPurpose;
  /** The token itself: never stored, only sealed into the outbox row. */
  token: string;
  hash: string;
  sealed: string;
  expiresAt: Date;
}

/** A fresh token for `purpose`, its hash and its sealed form (context: the email type that carries it). */
export async function pendingToken(deps: Pick<Deps, 'config' | 'clock' | 'sha256Hex'>, purpose: AccountTokenPurpose): Promise<PendingToken> {
  const token = newAccountToken();
  return {
    purpose,
    token,
    hash: await deps.sha256Hex(token),
    sealed: await seal(deps.config.jwtSecret, MAIL_TYPE[purpose], token),
    expiresAt: new Date(deps.clock.now().getTime() + TOKEN_TTL_S[purpose] * 1000),
  };
}

export const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

/** SQL: the SHA-256 (hex) of a password_hash expression: what `password_fingerprint` holds. Same as deps.sha256Hex. */
export const fingerprintOf = (hashExpr: SQL) => sql`encode(sha256(convert_to(${hashExpr}, 'UTF8')), 'hex')`;

/**
 * CTEs `<name>_token` and `<name>_mail` (for one statement) that, for each row of CTE `source`
 * (columns `id`, and `email_to` = the address to send to), insert the token row and the outbox
 * row of its email. `fingerprint`: SQL for the password fingerprint (a column of `source`, or a
 * value the caller computed). Nothing is written when `source` is empty.
 */
export function issueTokenCtes(name: string, source: string, t: PendingToken, now: Date, fingerprint: SQL): SQL {
  const src = sql.raw(source);
  return sql`
    ${sql.raw(`${name}_token`)} AS (
      INSERT INTO account_tokens (token_hash, user_id, purpose, email, password_fingerprint, created_at, expires_at)
      SELECT ${t.hash}, id, ${t.purpose}, email_to, ${fingerprint}, ${ts(now)}, ${ts(t.expiresAt)} FROM ${src}
    ), ${sql.raw(`${name}_mail`)} AS (
      INSERT INTO notification_outbox (user_id, type, dedupe_key, data, recipient, created_at)
      SELECT id, ${MAIL_TYPE[t.purpose]}::notification_type, ${`account:${t.hash}`}, jsonb_build_object('sealed', ${t.sealed}::text), email_to, ${ts(now)}
      FROM ${src}
    )`;
}

/**
 * SQL: the state of token row `t` joined (LEFT) to its user `u` at `now`: `used`, `expired`,
 * `void` (account gone or disabled, email or password changed since, per purpose) or `ok`.
 */
export function tokenState(now: Date): SQL {
  return sql`CASE
    WHEN t.used_at IS NOT NULL THEN 'used'
    WHEN t.expires_at <= ${ts(now)} THEN 'expired'
    WHEN u.id IS NULL OR u.disabled_at IS NOT NULL THEN 'void'
    WHEN t.purpose IN ('password_reset', 'email_verification') AND u.email <> t.email THEN 'void'
    WHEN t.purpose IN ('password_reset', 'email_change') AND t.password_fingerprint <> ${fingerprintOf(sql`u.password_hash`)} THEN 'void'
    ELSE 'ok' END`;
}

/**
 * The refusal for a token that is not `ok` (documented on the routes): 400 `recovery_token_invalid`
 * (no such token for this use, or voided: password or email changed since, account disabled),
 * 410 `recovery_token_expired`, 410 `recovery_token_used` (including the loser of two
 * concurrent uses).
 */
export function tokenRefusal(state: string | null | undefined): ApiError {
  if (state === 'used') return new ApiError('recovery_token_used', 'This link has already been used; ask for a new one.');
  if (state === 'expired') return new ApiError('recovery_token_expired', 'This link has expired; ask for a new one.');
  return new ApiError('recovery_token_invalid', 'This link is not valid (it may have been replaced by a password or email change); ask for a new one.');
}

/** A fixed window per subject, for the account-recovery throttles. */
export interface Throttle {
  key: string;
  max: number;
  windowS: number;
}

/** The per-client-address throttle key for `purpose`, or undefined when the address is not limited (unknown, loopback: as registration). */
export async function ipThrottle(deps: Pick<Deps, 'sha256Hex'>, purpose: string, ip: string | undefined, max: number, windowS: number): Promise<Throttle | undefined> {
  if (!ip || isLoopback(ip)) return undefined;
  return { key: await deps.sha256Hex(`${purpose}-ip:${clientAddressUnit(ip)}`), max, windowS };
}

/**
 * CTEs (for the top level of one statement: data-modifying CTEs cannot nest) that count one
 * attempt in each throttle (register.ts countAttemptIn, one row each), ending with CTE `lim`
 * (`over_s`: the seconds until the first exceeded window ends; 0 when none is). Gate the writes
 * on `(SELECT over_s FROM lim) = 0`. Every throttle counts, refused attempts too.
 */
export function throttleCtes(throttles: readonly Throttle[], now: Date): SQL {
  if (throttles.length === 0) return sql`lim AS (SELECT 0 AS over_s)`;
  const parts = throttles.map(
    (t, i) => sql`${sql.raw(`c${i}`)} AS (${countAttemptIn(t.key, now, t.windowS)}),
      ${sql.raw(`o${i}`)} AS (SELECT CASE WHEN attempts > ${t.max}::int
        THEN LEAST(${t.windowS}::int, GREATEST(1, ceil((started_ms + ${t.windowS * 1000}::float8 - ${now.getTime()}::float8) / 1000.0)::int)) ELSE 0 END AS over_s FROM ${sql.raw(`c${i}`)})`,
  );
  const selects = throttles.map((_, i) => sql.raw(`(SELECT over_s FROM o${i})`));
  return sql`${sql.join(parts, sql`, `)}, lim AS (SELECT GREATEST(${sql.join(selects, sql`, `)})::int AS over_s)`;
}

/** Throws 429 `too_many_attempts` with Retry-After when `overS` > 0. */
export function refuseIfOver(overS: number, what: string): void {
  if (overS > 0) {
    throw new ApiError('too_many_attempts', `Too many ${what}; try again in ${overS} s.`, {
      details: { retryAfterSeconds: overS },
      retryAfterSeconds: overS,
    });
  }
}
