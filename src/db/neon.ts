import { neon, neonConfig } from '@neondatabase/serverless';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/neon-http';
import { rowsOf, type Database, type Db } from './client.js';
import * as schema from './schema.js';

export interface NeonOptions {
  /** A local Neon-compatible SQL-over-HTTP endpoint (dev and tests). Unset in production. */
  localEndpoint?: string | undefined;
}

/**
 * Neon over HTTP: one POST per query or batch, no session. Safe to create once per
 * isolate because `neon()` holds no socket.
 */
export function createNeonDatabase(url: string, opts: NeonOptions = {}): Database {
  if (opts.localEndpoint) {
    // The driver reads this global at query time; it derives https://api.<host>/sql otherwise.
    neonConfig.fetchEndpoint = opts.localEndpoint;
  }
  const client = neon(url);
  const db = drizzle({ client, schema }) as unknown as Db & {
    batch: (q: readonly unknown[]) => Promise<unknown>;
  };
  return {
    kind: 'neon-http',
    db,
    batch: (build) => db.batch(build(db)) as never,
    rows: async <T extends object>(query: SQL) => rowsOf<T>(await db.execute(query)),
    ping: async (timeoutMs) => {
      await client.query('SELECT 1', [], { fetchOptions: { signal: AbortSignal.timeout(timeoutMs) } });
    },
    close: async () => {},
  };
}

/** `SELECT 1` as drizzle SQL, for drivers that ping through the query builder. */
export const PING = sql`SELECT 1`;
