import pg from 'pg';
import { createJsonLogger, type Logger } from '../logger.js';
import { classifyDatabaseError } from './errors.js';

/** DATABASE_TIMEOUT_MS's default, ms (src/config.ts; the reasoning is in docs/runbook.md, "Database faults"). */
export const DEFAULT_DATABASE_TIMEOUT_MS = 5000;

/**
 * How much longer than statement_timeout the client waits on its own, ms. A slow query is
 * cancelled by the server first (a clean SQLSTATE 57014 on a connection that stays usable);
 * the client timer fires only when the server itself is not answering (frozen, partitioned).
 */
export const CLIENT_TIMEOUT_MARGIN_MS = 1000;

export interface PgPoolOptions {
  max?: number | undefined;
  /**
   * Bound on one round trip, ms: statement_timeout on the server, query_timeout (plus
   * CLIENT_TIMEOUT_MARGIN_MS) and connectionTimeoutMillis on the client. Unset: no statement
   * or query timeout (migrations and one-off scripts may legitimately run long), and the
   * default connect timeout.
   */
  timeoutMs?: number | undefined;
  /** Where connection errors are logged; a JSON logger on stdout when unset. */
  logger?: Logger | undefined;
}

/**
 * A node-postgres pool that survives the database going away. pg.Pool emits 'error' when an
 * idle client's connection dies (restart, failover, pg_terminate_backend, a proxy reset);
 * with no listener Node treats that as an unhandled 'error' event and exits the process. The
 * listener logs it; the pool has already dropped that client and the next checkout connects
 * afresh, so the server serves again as soon as the database does.
 */
export function createPgPool(url: string, opts: PgPoolOptions = {}): pg.Pool {
  const timeoutMs = opts.timeoutMs;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS,
    ...(timeoutMs === undefined ? {} : { statement_timeout: timeoutMs, query_timeout: timeoutMs + CLIENT_TIMEOUT_MARGIN_MS }),
  });
  const logger = opts.logger ?? createJsonLogger({ base: { runtime: 'node' } });
  pool.on('error', (error) => {
    logger.warn('database connection error', { reason: classifyDatabaseError(error)?.reason ?? 'unknown', error });
  });
  // A client checked out for a transaction has no pool listener between its statements; its
  // connection dying there would be unhandled too. Nothing to log here: the next statement on
  // it fails ("not queryable") and the release drops it; an idle client's error is logged above.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
