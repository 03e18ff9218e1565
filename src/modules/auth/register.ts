import { z } from 'zod';
import { sql, type SQL } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { RegisterInput } from './schemas.js';
import { pendingToken } from './account-tokens.js';
import { verificationCtes } from './email-verification.js';
import { insertRefreshFrom, pendingRefresh, sessionFor, UserRow, type Session } from './shared.js';

/**
 * POST /v1/auth/register: counts the attempt against the client address's window (429
 * `too_many_attempts` with Retry-After when over it), hashes the password, then creates the
 * customer and its first session in one statement (409 `email_taken`).
 */
export async function register(deps: Deps, clientIp: string | undefined, body: RegisterInput, deviceLabel: string | null = null): Promise<Session> {
  const retryAfter = await countRegistration(deps, clientIp);
  if (retryAfter !== undefined) {
    throw new ApiError('too_many_attempts', `Too many registrations from this network; try again in ${retryAfter} s.`, {
      details: { retryAfterSeconds: retryAfter },
      retryAfterSeconds: retryAfter,
    });
  }
  const passwordHash = await deps.passwords.hash(body.password);
  return registerCustomer(deps, { email: body.email, passwordHash, name: body.name ?? null, deviceLabel });
}

/**
 * Creates a customer, its first refresh token and its email verification (token and outbox row,
 * ./email-verification.ts) in one statement; a taken email is a 409 (nothing written).
 */
async function registerCustomer(
  deps: Deps,
  input: { email: string; passwordHash: string; name: string | null; deviceLabel: string | null },
): Promise<Session> {
  const refresh = await pendingRefresh(deps, input.deviceLabel);
  const verification = await pendingToken(deps, 'email_verification');
  const fingerprint = await deps.sha256Hex(input.passwordHash);
  const now = deps.clock.now();
  const rows = await deps.database.rows(UserRow, sql`
    WITH u AS (
      INSERT INTO users (email, password_hash, name, role, created_at, updated_at)
      VALUES (${input.email}, ${input.passwordHash}, ${input.name}, 'customer', ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
      ON CONFLICT (email) DO NOTHING
      RETURNING id, email, role, name, created_at
    ), t AS (${insertRefreshFrom('u', refresh, now)}), ${verificationCtes('u', verification, now, fingerprint)}
    SELECT * FROM u`);
  const row = rows[0];
  if (!row) throw new ApiError('email_taken', 'An account with this email already exists; log in instead.');
  return sessionFor(deps, row, refresh);
}

const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

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

const AttemptRow = z.object({ attempts: z.number(), started_ms: z.number() });

/**
 * A fixed-window counter in `rate_limits`: counts one attempt for `key` (a new window once the
 * last is over) and RETURNS `attempts` and the window's start (`started_ms`, epoch ms). A
 * data-modifying statement, usable as a CTE body; the password change counts with it too
 * (./sessions.ts).
 */
export function countAttemptIn(key: string, at: Date, windowS: number): SQL {
  const fresh = sql`rl.window_started_at <= ${ts(at)} - make_interval(secs => ${windowS})`;
  return sql`
    INSERT INTO rate_limits AS rl (key, attempts, window_started_at) VALUES (${key}, 1, ${ts(at)})
    ON CONFLICT (key) DO UPDATE SET
      attempts = CASE WHEN ${fresh} THEN 1 ELSE rl.attempts + 1 END,
      window_started_at = CASE WHEN ${fresh} THEN EXCLUDED.window_started_at ELSE rl.window_started_at END
    RETURNING attempts, (extract(epoch FROM window_started_at) * 1000)::float8 AS started_ms`;
}

/** One statement: prune day-old counters, then count an attempt for `key` (countAttemptIn). */
function countAttempt(key: string, at: Date, windowS: number): SQL {
  return sql`
    WITH pruned AS (
      DELETE FROM rate_limits WHERE window_started_at < ${ts(at)} - interval '1 day' AND key <> ${key}
    )
    ${countAttemptIn(key, at, windowS)}`;
}

/**
 * Counts a registration attempt from `ip` and returns undefined if it may go on, or the seconds
 * until the window ends if it is over REGISTER_MAX_PER_WINDOW.
 */
async function countRegistration(deps: Deps, ip: string | undefined): Promise<number | undefined> {
  if (!ip || isLoopback(ip)) return undefined;
  const key = await deps.sha256Hex(`register-ip:${clientAddressUnit(ip)}`);
  const now = deps.clock.now();
  const [row] = await deps.database.rows(AttemptRow, countAttempt(key, now, REGISTER_WINDOW_S));
  if (!row || row.attempts <= REGISTER_MAX_PER_WINDOW) return undefined;
  // A concurrent request may have opened the window with a clock reading taken after ours:
  // what is left of the window is never more than the window itself.
  const leftS = Math.ceil((row.started_ms + REGISTER_WINDOW_S * 1000 - now.getTime()) / 1000);
  return Math.min(REGISTER_WINDOW_S, Math.max(1, leftS));
}
