import { ApiError } from '../errors.js';

/**
 * Postgres errors arrive differently per driver (pg's DatabaseError, NeonDbError,
 * PGlite's error), and drizzle wraps them in DrizzleQueryError with the original as
 * `cause`. These helpers read the SQLSTATE and constraint from whichever layer has them.
 */
export interface PgErrorInfo {
  code: string;
  constraint: string | undefined;
  /**
   * The database's own message (for `laundry_abort`, its reason), from the layer that carries the
   * SQLSTATE: never drizzle's wrapper, whose message quotes the whole statement.
   */
  message: string;
}

export function pgError(err: unknown): PgErrorInfo | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      const constraint = (e as { constraint?: unknown }).constraint;
      const message = (e as { message?: unknown }).message;
      return { code, constraint: typeof constraint === 'string' ? constraint : undefined, message: typeof message === 'string' ? message : '' };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
export const CHECK_VIOLATION = '23514';
export const INVALID_TEXT_REPRESENTATION = '22P02';

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const info = pgError(err);
  return info?.code === UNIQUE_VIOLATION && (constraint === undefined || info.constraint === constraint);
}

/**
 * What a failed database call means for the client, whichever driver raised it:
 * - `unavailable`: the database could not be reached or did not answer in time (connection
 *   refused/reset/terminated, SQLSTATE class 08 and 57P01–57P03, a statement or client
 *   timeout, Neon's HTTP endpoint failing). Retrying later may succeed.
 * - `bad_input`: PostgreSQL refused a value (SQLSTATE 22021, 22008, 22007, 22P02). Input
 *   schemas reject these first; this is the safety net so one that slips past is a 422.
 */
export interface DatabaseFault {
  kind: 'unavailable' | 'bad_input';
  /** The SQLSTATE, the errno code (ECONNREFUSED…) or a short tag for logs. */
  reason: string;
  /** The driver's own message, for logs only (never sent to the client). */
  message: string;
}

/**
 * SQLSTATEs meaning the server is going away, unreachable, cancelled us or cannot take the work
 * now (PostgreSQL appendix A): connection exceptions (08), shutdowns (57P01–57P03), a statement
 * timeout (57014), too many connections (53300), a serialization failure or deadlock whose
 * transaction was rolled back (40001, 40P01) and a read-only standby mid-failover (25006). Each
 * leaves nothing written and may succeed when retried.
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|57014|53300|40001|40P01|25006)$/;
/** Data exceptions from a value PostgreSQL cannot hold (NUL byte, calendar overflow, malformed uuid/number/date). */
const BAD_INPUT_SQLSTATE = new Set(['22021', '22008', '22007', '22P02']);
/** Node socket errors on the way to the database. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * Messages the drivers use when the connection, not the SQL, failed: node-postgres
 * ("Connection terminated unexpectedly", "… due to connection timeout", query_timeout's
 * "Query read timeout", pg-pool's "timeout exceeded when trying to connect"), Neon's
 * serverless driver ("Error connecting to database: …" when fetch threw, "Server error (HTTP
 * status 5xx)" for a non-400 answer; not 507, Neon's "response is too large", which a retry
 * cannot fix: that is our query's bug and stays a 500), workerd ("Network connection lost"),
 * undici ("fetch failed") and PGlite ("PGlite is closed").
 */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|Cannot use a pool after calling end|Error connecting to database|Server error \(HTTP status (?!507\b)5\d\d\)|Network connection lost|fetch failed|PGlite is closed/i;

/**
 * Classifies a thrown value by walking its chain (drizzle's DrizzleQueryError → driver error →
 * `cause`/`sourceError` → AggregateError members). A real SQLSTATE decides alone; anything
 * that matches nothing here is a bug, not a fault, and stays a 500.
 */
export function classifyDatabaseError(err: unknown): DatabaseFault | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 12) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, name, message, cause, sourceError, errors, query } = e as Record<string, unknown>;
    // drizzle's wrapper quotes the SQL and its parameters (user input): never match on its text.
    const text = typeof message === 'string' && query === undefined ? message : '';
    // Before the SQLSTATE test: EPIPE is five capitals too.
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return { kind: 'unavailable', reason: code, message: text };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      if (UNAVAILABLE_SQLSTATE.test(code)) return { kind: 'unavailable', reason: code, message: text };
      if (BAD_INPUT_SQLSTATE.has(code)) return { kind: 'bad_input', reason: code, message: text };
      return undefined; // a Postgres answer about the SQL itself: not a fault of the connection
    }
    if (name === 'AbortError' || name === 'TimeoutError') return { kind: 'unavailable', reason: 'timeout', message: text };
    // Neon's endpoint answers `code: ""` for errors that are its own, not PostgreSQL's.
    if (name === 'NeonDbError' && code === '') return { kind: 'unavailable', reason: 'neon', message: text };
    if (UNAVAILABLE_MESSAGE.test(text)) return { kind: 'unavailable', reason: /time/i.test(text) ? 'timeout' : 'connection', message: text };
    queue.push(cause, sourceError, ...(Array.isArray(errors) ? Array.from<unknown>(errors) : []));
  }
  return undefined;
}

/** Retry-After on database_unavailable, seconds: long enough for a pool to reconnect or a failover to finish its first step. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * The client's answer for a fault. Every multi-row write is one statement or one batch (one
 * transaction), so nothing is half-written: the request either committed whole or not at all,
 * and the detail says so.
 */
export function databaseFaultProblem(fault: DatabaseFault): ApiError {
  if (fault.kind === 'bad_input') {
    return new ApiError('validation_failed', 'A value in the request cannot be stored (for example a NUL character, or a date or number out of range).');
  }
  return new ApiError(
    'database_unavailable',
    'The database is unreachable or did not answer in time. If this request was a write, it either committed whole or not at all: ' +
      'retry after Retry-After seconds with the same Idempotency-Key (or read the resource first) so it is never applied twice.',
    { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
  );
}

/**
 * Raised by the SQL function laundry_assert_role (migration 0006) when the token's user is
 * missing, disabled or no longer holds the route's role: answered 403 `forbidden`
 * (src/db/role-check.ts). `LA` is a class no PostgreSQL error uses.
 */
export const ROLE_REVOKED = 'LA403';

/**
 * Raised by the SQL function laundry_assert_session (migration 0026) when the access token's
 * session (`sid`) was ended or has no live refresh token left: answered 401 `invalid_token`
 * (src/db/role-check.ts), so the app refreshes, is refused (`refresh_token_revoked`) and logs in.
 */
export const SESSION_ENDED = 'LA401';
