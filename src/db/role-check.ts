import { sql } from 'drizzle-orm';
import { userRole, type UserRole } from './schema.js';
import { ApiError } from '../errors.js';
import { parseRows, type Database, type Db } from './client.js';
import { pgError, ROLE_REVOKED } from './errors.js';

/**
 * A request-scoped Database for staff and admin routes. Access tokens carry the role for up to
 * ACCESS_TOKEN_TTL_SECONDS, so the role is re-checked in the database: the request's first
 * `rows`, `batch` or `query` becomes one batch that starts with
 * `SELECT laundry_assert_role(user, roles)` (migration 0006). A batch is one round trip and one
 * transaction on Neon (a transaction on the Node drivers), so the check costs no extra round
 * trip and a refused request writes nothing. The function raises SQLSTATE LA403 for a missing,
 * disabled or demoted user, answered here as 403 `forbidden`.
 *
 * The check is done once per request: calls after the first success go straight through.
 * Calls started while the first is still pending carry the check too.
 */
export function roleCheckedDatabase(inner: Database, userId: string, roles: readonly UserRole[]): Database {
  let checked = false;
  const assertion = (db: Db) => db.execute(sql`SELECT laundry_assert_role(${userId}::uuid, ${`{${roles.join(',')}}`}::text[]) AS ok`);
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
