import { sql, type SQL } from 'drizzle-orm';
import type { Deps } from '../../deps.js';

/*
 * Login throttling per email address, for guessing and credential stuffing (and the Argon2id
 * work each guess costs us). Unknown addresses are throttled exactly like real ones, so the
 * answers never tell which accounts exist.
 *
 * A run of failures ends after LOGIN_FAILURE_WINDOW_S without one, or at a successful login.
 * The LOGIN_FREE_FAILURES-th failure of a run locks the address for LOGIN_LOCK_BASE_S, and each
 * further one for twice as long as the last, up to LOGIN_LOCK_MAX_S. While locked, login
 * answers 429 with Retry-After before any hashing, even with the right password, and attempts
 * are not counted, so an attacker cannot keep a victim's account locked for longer than that.
 */
export const LOGIN_FREE_FAILURES = 5;
export const LOGIN_FAILURE_WINDOW_S = 15 * 60;
export const LOGIN_LOCK_BASE_S = 60;
export const LOGIN_LOCK_MAX_S = 15 * 60;

/** The row key: SHA-256 of the normalised address, so the table holds no addresses. */
export function loginThrottleKey(deps: Deps, email: string): Promise<string> {
  return deps.sha256Hex(`login-throttle:${email.trim().toLowerCase()}`);
}

/**
 * One statement: count a failure for `key` (a new run if the last failure is old), lock from
 * the LOGIN_FREE_FAILURES-th on, prune day-old rows; `also` adds the caller's own CTEs.
 */
export function recordLoginFailure(key: string, now: Date, also?: SQL): SQL {
  const at = now.toISOString();
  const failures = sql`CASE WHEN lt.last_failure_at < ${at}::timestamptz - make_interval(secs => ${LOGIN_FAILURE_WINDOW_S}) THEN 1 ELSE lt.failures + 1 END`;
  return sql`
    WITH ${also ? sql`${also},` : sql``} pruned AS (
      DELETE FROM login_throttle WHERE last_failure_at < ${at}::timestamptz - interval '1 day' AND email_key <> ${key}
    )
    INSERT INTO login_throttle AS lt (email_key, failures, last_failure_at, locked_until)
    VALUES (${key}, 1, ${at}::timestamptz, NULL)
    ON CONFLICT (email_key) DO UPDATE SET
      failures = ${failures},
      last_failure_at = EXCLUDED.last_failure_at,
      locked_until = CASE WHEN ${failures} >= ${LOGIN_FREE_FAILURES}
        THEN ${at}::timestamptz + make_interval(secs => LEAST(${LOGIN_LOCK_MAX_S}, ${LOGIN_LOCK_BASE_S} * power(2, ${failures} - ${LOGIN_FREE_FAILURES})))
        ELSE NULL END`;
}

/** After a successful login: the run of failures is over. */
export function clearLoginFailures(key: string): SQL {
  return sql`DELETE FROM login_throttle WHERE email_key = ${key}`;
}
