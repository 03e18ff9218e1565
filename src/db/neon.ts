import { neon, neonConfig, type NeonQueryFunction } from '@neondatabase/serverless';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/neon-http';
import { parseRows, type Database, type Db } from './client.js';
import * as schema from './schema.js';

export interface NeonOptions {
  /** A local Neon-compatible SQL-over-HTTP endpoint (dev and tests). Unset in production. */
  localEndpoint?: string | undefined;
  /**
   * Bound on one query or batch, ms (DATABASE_TIMEOUT_MS): each HTTP request carries its own
   * AbortSignal.timeout. Unset: no bound. Neon's proxy cancels the running query when the client
   * disconnects, so an aborted batch never commits.
   */
  timeoutMs?: number | undefined;
}

type NeonClient = NeonQueryFunction<boolean, boolean>;

/**
 * The neon() function with a fresh AbortSignal on every request. neon()'s own `fetchOptions`
 * are fixed at creation (one signal would expire once, for good), so the signal is added per
 * call to the two entry points drizzle's neon-http session uses: `query` for single
 * statements and `transaction` for `db.batch` (which sends one POST; the per-statement
 * options of a batch are not used for its fetch).
 */
function withTimeouts(client: NeonClient, timeoutMs: number): NeonClient {
  const signal = () => ({ signal: AbortSignal.timeout(timeoutMs) });
  const bounded = Object.assign(
    (strings: TemplateStringsArray, ...values: unknown[]) => client(strings, ...values),
    client,
    {
      query: ((text, params, opts) =>
        client.query(text, params, { ...opts, fetchOptions: { ...opts?.fetchOptions, ...signal() } })) as NeonClient['query'],
      transaction: ((queries, opts) =>
        client.transaction(queries as never, { ...opts, fetchOptions: { ...opts?.fetchOptions, ...signal() } })) as NeonClient['transaction'],
    },
  );
  return bounded;
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
  const client: NeonClient = neon(url);
  const bounded = opts.timeoutMs === undefined ? client : withTimeouts(client, opts.timeoutMs);
  const db = drizzle({ client: bounded, schema }) as unknown as Db & {
    batch: (q: readonly unknown[]) => Promise<unknown>;
  };
  return {
    kind: 'neon-http',
    db,
    batch: (build) => db.batch(build(db)) as never,
    rows: async (rowSchema, query) => parseRows(rowSchema, await db.execute(query)),
    ping: async (timeoutMs) => {
      await client.query('SELECT 1', [], { fetchOptions: { signal: AbortSignal.timeout(timeoutMs) } });
    },
    close: async () => {},
  };
}

/** `SELECT 1` as drizzle SQL, for drivers that ping through the query builder. */
export const PING = sql`SELECT 1`;
