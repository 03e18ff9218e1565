import { AnyRow } from '../../db/client.js';
import { z } from 'zod';
import { sql, type SQL } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { LoginInput } from './schemas.js';
import { insertRefreshFrom, pendingRefresh, sessionFor, UserRow, type Session } from './shared.js';

/** Schedules work off the response path (runInBackground in src/http/context.ts); failures are logged. */
export type Background = (task: () => Promise<unknown>, what: string) => void;

/**
 * POST /v1/auth/login: admits the attempt and reads the user (one statement), verifies the
 * password, then settles the attempt. Refused: 429 `too_many_attempts` with Retry-After, before
 * any hashing. A wrong password, an unknown email and a disabled account are all 401
 * `invalid_credentials`, after the same hashing work. A hash whose parameters are out of date is
 * replaced in the background.
 */
export async function logIn(deps: Deps, { email, password }: LoginInput, background: Background, deviceLabel: string | null = null): Promise<Session> {
  const attempt = await beginLogin(deps, email, deviceLabel);
  if (attempt.refusedForSeconds !== undefined) {
    const seconds = attempt.refusedForSeconds;
    throw new ApiError('too_many_attempts', `Too many login attempts for this email; try again in ${seconds} s.`, {
      details: { retryAfterSeconds: seconds },
      retryAfterSeconds: seconds,
    });
  }
  let ok: boolean;
  try {
    ok = await deps.passwords.verify(password, attempt.user?.password_hash ?? null);
  } catch (err) {
    background(attempt.release, 'release login attempt');
    throw err;
  }
  // Awaited, not in the background: the next guess must see this one settled.
  if (!attempt.user || !ok) {
    await attempt.recordFailure();
    throw new ApiError('invalid_credentials', 'The email or password is wrong.');
  }
  // A success gives its place back (and forgives the failures it saw). With no failures to
  // forgive nobody waits on it, so it stays off the response path: login is one round trip.
  if (attempt.failures === 0) background(attempt.recordSuccess, 'release login place');
  else await attempt.recordSuccess();
  if (deps.passwords.needsRehash(attempt.user.password_hash)) {
    const userId = attempt.user.id;
    background(async () => updatePasswordHash(deps, userId, await deps.passwords.hash(password)), 'rehash password');
  }
  return attempt.session();
}

/*
 * Login throttling per email address, for guessing and credential stuffing (and the Argon2id
 * work each guess costs us). Unknown addresses are throttled exactly like real ones, so the
 * answers never tell which accounts exist.
 *
 * Every attempt is counted BEFORE its password is hashed, in the statement that reads the user
 * (admitLoginAttempt): it is admitted only while the address is not locked and the attempts in
 * flight are fewer than the free failures left (LOGIN_FREE_FAILURES minus the run's failures;
 * once those are used up and a lock has expired, one at a time). So N parallel guesses get at
 * most LOGIN_FREE_FAILURES hashes; the rest are 429 before any hashing. A failure then turns
 * its place in flight into a failure (recordLoginFailure).
 *
 * A run of failures ends after LOGIN_FAILURE_WINDOW_S without one, or at a successful login,
 * which forgives the failures it saw when admitted, and only if no failure landed while it was
 * being checked. Failures of attempts running alongside it always count, so a right password
 * inside a burst of wrong ones does not hand the guesser a fresh budget. The LOGIN_FREE_FAILURES-th failure of a run
 * locks the address for LOGIN_LOCK_BASE_S, and each further one for twice as long as the last,
 * up to LOGIN_LOCK_MAX_S. While locked, login answers 429 with Retry-After before any hashing,
 * even with the right password, and attempts are not counted, so an attacker cannot keep a
 * victim's account locked for longer than that.
 */
export const LOGIN_FREE_FAILURES = 5;
export const LOGIN_FAILURE_WINDOW_S = 15 * 60;
export const LOGIN_LOCK_BASE_S = 60;
export const LOGIN_LOCK_MAX_S = 15 * 60;
/**
 * Seconds an admitted attempt may hold its place in flight. A success with no failures before
 * it does not spend a round trip giving it back (login stays one round trip), and a crashed
 * request never does: the places lapse this long after the address's latest admission (until
 * then, a login right after a success has one free failure fewer). Far above a hash (~0.1 s)
 * plus the hashing queue's bound.
 */
export const LOGIN_ATTEMPT_SLOT_S = 10;
/** Retry-After, in seconds, when refused because other attempts for the address are being checked. */
export const LOGIN_BUSY_RETRY_S = 1;

/** The row key: SHA-256 of the normalised address, so the table holds no addresses. */
function loginThrottleKey(deps: Deps, email: string): Promise<string> {
  return deps.sha256Hex(`login-throttle:${email.trim().toLowerCase()}`);
}

const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;
/** The run's failures, 0 once the run has lapsed. */
const liveFailures = (at: Date) => sql`(CASE WHEN lt.last_failure_at < ${ts(at)} - make_interval(secs => ${LOGIN_FAILURE_WINDOW_S}) THEN 0 ELSE lt.failures END)`;
/** Attempts in flight, 0 once the places have lapsed. */
const liveInFlight = (at: Date) => sql`(CASE WHEN lt.in_flight_at > ${ts(at)} - make_interval(secs => ${LOGIN_ATTEMPT_SLOT_S}) THEN lt.in_flight ELSE 0 END)`;

/**
 * The body of a data-modifying CTE that admits one attempt for `key` atomically (the row is
 * locked by the upsert, so parallel attempts serialise on it) and RETURNS `failures` (the run's,
 * as seen by this attempt) only when admitted. A refused attempt changes nothing.
 */
function admitLoginAttempt(key: string, at: Date): SQL {
  return sql`
    INSERT INTO login_throttle AS lt (email_key, failures, last_failure_at, locked_until, in_flight, in_flight_at)
    VALUES (${key}, 0, ${ts(at)}, NULL, 1, ${ts(at)})
    ON CONFLICT (email_key) DO UPDATE SET
      failures = ${liveFailures(at)},
      in_flight = ${liveInFlight(at)} + 1,
      in_flight_at = EXCLUDED.in_flight_at
    WHERE (lt.locked_until IS NULL OR lt.locked_until <= ${ts(at)})
      AND ${liveInFlight(at)} < GREATEST(${LOGIN_FREE_FAILURES} - ${liveFailures(at)}, 1)
    RETURNING lt.failures`;
}

/**
 * One statement: turn an admitted attempt into a failure for `key` (a new run if the last
 * failure is old), lock from the LOGIN_FREE_FAILURES-th on, prune day-old rows; `also` adds
 * the caller's own CTEs.
 */
function recordLoginFailure(key: string, at: Date, also?: SQL): SQL {
  const failures = sql`CASE WHEN lt.last_failure_at < ${ts(at)} - make_interval(secs => ${LOGIN_FAILURE_WINDOW_S}) THEN 1 ELSE lt.failures + 1 END`;
  return sql`
    WITH ${also ? sql`${also},` : sql``} pruned AS (
      DELETE FROM login_throttle
      WHERE last_failure_at < ${ts(at)} - interval '1 day' AND (in_flight_at IS NULL OR in_flight_at < ${ts(at)} - interval '1 day')
        AND email_key <> ${key}
    )
    INSERT INTO login_throttle AS lt (email_key, failures, last_failure_at, locked_until, in_flight, in_flight_at)
    VALUES (${key}, 1, ${ts(at)}, NULL, 0, NULL)
    ON CONFLICT (email_key) DO UPDATE SET
      failures = ${failures},
      last_failure_at = EXCLUDED.last_failure_at,
      in_flight = GREATEST(${liveInFlight(at)} - 1, 0),
      locked_until = CASE WHEN ${failures} >= ${LOGIN_FREE_FAILURES}
        THEN ${ts(at)} + make_interval(secs => LEAST(${LOGIN_LOCK_MAX_S}, ${LOGIN_LOCK_BASE_S} * power(2, ${failures} - ${LOGIN_FREE_FAILURES})))
        ELSE NULL END`;
}

/**
 * Gives an admitted attempt's place back (`also` adds the caller's own CTEs). With `forgive` (the attempt succeeded after seeing
 * `seenFailures`), the run ends, unless a failure landed while it was being checked: then
 * nothing is forgiven.
 */
function settleLoginAttempt(key: string, at: Date, forgive: { seenFailures: number } | undefined, also?: SQL): SQL {
  const failures = forgive ? sql`CASE WHEN ${liveFailures(at)} = ${forgive.seenFailures} THEN 0 ELSE lt.failures END` : sql`lt.failures`;
  return sql`
    ${also ? sql`WITH ${also}` : sql``}
    UPDATE login_throttle AS lt SET failures = ${failures}, in_flight = GREATEST(${liveInFlight(at)} - 1, 0)
    WHERE email_key = ${key}`;
}

interface LoginAttempt {
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
/** The user (all null when unknown or not admitted) and the throttle's answer. */
const BeginRow = z.union([UserRow.extend({ password_hash: z.string(), ...AttemptColumns }), z.object({ id: z.null(), ...AttemptColumns })]);

/**
 * Admits the attempt (admitLoginAttempt above), reads the user and writes a refresh-token
 * row in ONE statement, so a successful login is one round trip. The attempt is counted before
 * any hashing, atomically, so parallel guesses cannot slip past the throttle. The token's secret
 * exists only in this process until the password has been verified; on a wrong password it is
 * never revealed and its row is deleted. Nothing is written for a refused attempt.
 */
async function beginLogin(deps: Deps, email: string, deviceLabel: string | null): Promise<LoginAttempt> {
  const refresh = await pendingRefresh(deps, deviceLabel);
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

async function updatePasswordHash(deps: Deps, userId: string, passwordHash: string): Promise<void> {
  await deps.database.rows(AnyRow, sql`
    UPDATE users SET password_hash = ${passwordHash}, updated_at = ${deps.clock.now().toISOString()}::timestamptz
    WHERE id = ${userId}::uuid`);
}
