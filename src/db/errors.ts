/**
 * Postgres errors arrive differently per driver (pg's DatabaseError, NeonDbError,
 * PGlite's error), and drizzle wraps them in DrizzleQueryError with the original as
 * `cause`. These helpers read the SQLSTATE and constraint from whichever layer has them.
 */
export interface PgErrorInfo {
  code: string;
  constraint: string | undefined;
}

export function pgError(err: unknown): PgErrorInfo | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      const constraint = (e as { constraint?: unknown }).constraint;
      return { code, constraint: typeof constraint === 'string' ? constraint : undefined };
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
 * Raised by the SQL function laundry_assert_role (migration 0006) when the token's user is
 * missing, disabled or no longer holds the route's role: answered 403 `forbidden`
 * (src/db/role-check.ts). `LA` is a class no PostgreSQL error uses.
 */
export const ROLE_REVOKED = 'LA403';
