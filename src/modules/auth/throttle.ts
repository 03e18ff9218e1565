import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';

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
export function loginThrottleKey(deps: Deps, email: string): Promise<string> {
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
export function admitLoginAttempt(key: string, at: Date): SQL {
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
export function recordLoginFailure(key: string, at: Date, also?: SQL): SQL {
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
export function settleLoginAttempt(key: string, at: Date, forgive: { seenFailures: number } | undefined, also?: SQL): SQL {
  const failures = forgive ? sql`CASE WHEN ${liveFailures(at)} = ${forgive.seenFailures} THEN 0 ELSE lt.failures END` : sql`lt.failures`;
  return sql`
    ${also ? sql`WITH ${also}` : sql``}
    UPDATE login_throttle AS lt SET failures = ${failures}, in_flight = GREATEST(${liveInFlight(at)} - 1, 0)
    WHERE email_key = ${key}`;
}

/*
 * Registration: a fixed window per client address (deps.clientIp: CF-Connecting-IP on Workers,
 * the socket or a trusted proxy's X-Forwarded-For on Node), counted before the password is
 * hashed. Refused attempts count too. IPv6 addresses count per /64, the block one subscriber
 * usually holds. Not limited: a request with no known address (an in-process call) and a
 * loopback one (local development, tests, a same-pod sidecar: behind one, set
 * TRUSTED_PROXY_HOPS so that the real client is seen).
 */
export const REGISTER_MAX_PER_WINDOW = 10;
export const REGISTER_WINDOW_S = 10 * 60;

/** The unit one client is counted as: an IPv4 address, or an IPv6 /64 prefix. */
export function clientAddressUnit(ip: string): string {
  const addr = ip.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped) return mapped[1]!;
  if (!addr.includes(':')) return addr;
  const [head = '', tail] = addr.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export function isLoopback(ip: string): boolean {
  const unit = clientAddressUnit(ip);
  return unit.startsWith('127.') || /^(0*:){2,7}0*1$/.test(ip.trim().replace(/^\[|\]$/g, ''));
}

/** One statement: count an attempt for `key` in its window (a new window once the last is over). */
function countAttempt(key: string, at: Date, windowS: number): SQL {
  const fresh = sql`rl.window_started_at <= ${ts(at)} - make_interval(secs => ${windowS})`;
  return sql`
    WITH pruned AS (
      DELETE FROM rate_limits WHERE window_started_at < ${ts(at)} - interval '1 day' AND key <> ${key}
    )
    INSERT INTO rate_limits AS rl (key, attempts, window_started_at) VALUES (${key}, 1, ${ts(at)})
    ON CONFLICT (key) DO UPDATE SET
      attempts = CASE WHEN ${fresh} THEN 1 ELSE rl.attempts + 1 END,
      window_started_at = CASE WHEN ${fresh} THEN EXCLUDED.window_started_at ELSE rl.window_started_at END
    RETURNING attempts, (extract(epoch FROM window_started_at) * 1000)::float8 AS started_ms`;
}

const AttemptRow = z.object({ attempts: z.number(), started_ms: z.number() });

/**
 * Counts a registration attempt from `ip` and returns undefined if it may go on, or the seconds
 * until the window ends if it is over REGISTER_MAX_PER_WINDOW.
 */
export async function countRegistration(deps: Deps, ip: string | undefined): Promise<number | undefined> {
  if (!ip || isLoopback(ip)) return undefined;
  const key = await deps.sha256Hex(`register-ip:${clientAddressUnit(ip)}`);
  const now = deps.clock.now();
  const [row] = await deps.database.rows(AttemptRow, countAttempt(key, now, REGISTER_WINDOW_S));
  if (!row || Number(row.attempts) <= REGISTER_MAX_PER_WINDOW) return undefined;
  return Math.max(1, Math.ceil((Number(row.started_ms) + REGISTER_WINDOW_S * 1000 - now.getTime()) / 1000));
}
