/**
 * What the two Node session drivers share (src/db/node-postgres.ts, src/db/pglite.ts): the
 * Database over a drizzle instance that holds a real session. Node-only, like both drivers.
 */
import { sql } from 'drizzle-orm';
import { parseRows, withTimeout, type Database, type Db } from './client.js';

/**
 * Node drivers hold a real session, so a batch is emulated as one transaction that
 * runs the pre-built statements in order: the same all-or-nothing semantics as Neon's
 * batch, and the statements still cannot read each other's results.
 */
export function sessionDatabase(kind: 'node-postgres' | 'pglite', db: Db, close: () => Promise<void>, batch?: Database['batch']): Database {
  return {
    kind,
    db,
    batch:
      batch ??
      ((build) =>
        db.transaction(async (tx) => {
          const results: unknown[] = [];
          // eslint-disable-next-line @typescript-eslint/await-thenable -- drizzle's BatchItem type omits then(); every builder is a QueryPromise
          for (const query of build(tx)) results.push(await query);
          return results;
        }) as never),
    rows: async (rowSchema, query) => parseRows(rowSchema, await db.execute(query)),
    ping: async (timeoutMs) => {
      await withTimeout(db.execute(sql`SELECT 1`), timeoutMs, 'database ping');
    },
    close,
  };
}
