import { z } from 'zod';
import { sql } from 'drizzle-orm';
import { userRole, type UserRole } from './schema.js';
import { ApiError } from '../errors.js';
import { parseRows, type Database, type Db } from './client.js';
import { pgError, ROLE_REVOKED, SESSION_ENDED } from './errors.js';
import { validateIdempotencyKey } from '../domain/idempotency.js';

/**
 * The access token's session, checked with the user: `id` is its `sid` (the refresh-token
 * family), `at` the app's clock (refresh-token expiry is compared against it, as everywhere).
 */
export interface TokenSession {
  id: string;
  at: Date;
}

/**
 * A request-scoped Database for signed-in routes. Access tokens carry the role for up to
 * ACCESS_TOKEN_TTL_SECONDS, so the user and the session are re-checked in the database: the
 * request's first `rows`, `batch` or `query` becomes one batch that starts with
 * `SELECT laundry_assert_session(user, roles, sid, now)` (migration 0026). A batch is one round
 * trip and one transaction on Neon (a transaction on the Node drivers), so the check costs no
 * extra round trip and a refused request writes nothing. The function raises SQLSTATE LA403 for
 * a missing, disabled or demoted user, answered here as 403 `forbidden` (401 `invalid_token` on a
 * route open to every role), then SQLSTATE LA401 when the token's session was ended (logout,
 * DELETE /v1/me/sessions[/{id}], a password change or reset, a role change, a disabled or erased
 * account) or has no live refresh token left, answered 401 `invalid_token`: the ending takes
 * effect at the token's next request, not when it expires.
 *
 * `session` is undefined for a token without `sid` (issued before it existed): only the user is
 * checked, as before, until the token expires (at most ACCESS_TOKEN_TTL_SECONDS after deploy).
 *
 * The check is done once per request: calls after the first success go straight through.
 * Calls started while the first is still pending carry the check too.
 */
export function roleCheckedDatabase(inner: Database, userId: string, roles: readonly UserRole[], session?: TokenSession): Database {
  let checked = false;
  const assertion = (db: Db) =>
    db.execute(sql`SELECT laundry_assert_session(${userId}::uuid, ${`{${roles.join(',')}}`}::text[], ${session?.id ?? null}::uuid, ${session?.at.toISOString() ?? null}::timestamptz) AS ok`);
  const checkedBatch = async (build: (db: Db) => readonly unknown[]): Promise<unknown[]> => {
    try {
      const results = (await inner.batch((db) => [assertion(db), ...build(db)] as never)) as unknown as unknown[];
      checked = true;
      return results.slice(1);
    } catch (err) {
      if (pgError(err)?.code === ROLE_REVOKED) {
        // A route open to every role (requireAuth() with none named): only a disabled or deleted account fails.
        if (userRole.enumValues.every((r) => roles.includes(r))) throw new ApiError('invalid_token', 'The account behind this token is disabled or was deleted.');
        throw new ApiError('forbidden', `Your account no longer has one of the roles this endpoint requires (${roles.join(', ')}), or is disabled; log in again.`);
      }
      if (pgError(err)?.code === SESSION_ENDED) {
        throw new ApiError('invalid_token', 'The session this access token belongs to was ended (logout, log out everywhere, a password change or reset, or an account change) or has expired; log in again.');
      }
      throw err;
    }
  };
  return {
    kind: inner.kind,
    db: inner.db,
    rows: async (rowSchema, query) =>
      checked ? inner.rows(rowSchema, query) : parseRows(rowSchema, (await checkedBatch((db) => [db.execute(query)]))[0]),
    batch: ((build: (db: Db) => readonly unknown[]) => (checked ? inner.batch(build as never) : checkedBatch(build))) as Database['batch'],
    query: (async (build: (db: Db) => unknown) => {
      if (checked) return inner.query ? inner.query(build as never) : build(inner.db);
      return (await checkedBatch((db) => [build(db)]))[0];
    }),
    ping: (timeoutMs) => inner.ping(timeoutMs),
    close: () => inner.close(),
  };
}

/**
 * The request's Idempotency-Key (src/domain/idempotency.ts), or its 400 — for staff and admin
 * routes over a role-checked Database: a demoted or disabled caller must get 403 before anything
 * else, and the role is checked by the route's first statement, so a refused key first runs that
 * check (`SELECT 1`, which carries it): one round trip, on the refusal path only.
 */
export async function roleCheckedIdempotencyKey(database: Database, raw: string | undefined): Promise<string> {
  try {
    return validateIdempotencyKey(raw);
  } catch (err) {
    await database.rows(z.object({ ok: z.number() }), sql`SELECT 1 AS ok`);
    throw err;
  }
}
