/**
 * The node-postgres driver: a pool over TCP (DATABASE_URL on Node), its batch on one pooled
 * connection. Node-only: wired by src/platform/node/deps.ts and the Node tools, never imported
 * by the app or the Worker.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { createJsonLogger, type Logger } from '../logger.js';
import type { Database, Db } from './client.js';
import { classifyDatabaseError } from './errors.js';
import * as schema from './schema.js';
import { sessionDatabase } from './session.js';

/** DATABASE_TIMEOUT_MS's default, ms (src/config-env.ts; the reasoning is in docs/runbook.md, "Database faults"). */
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

/** `opts.timeoutMs` bounds every round trip (the server passes DATABASE_TIMEOUT_MS; migrations pass none). */
export function createPostgresDatabase(url: string, opts: PgPoolOptions = {}): Database {
  const pool = createPgPool(url, opts);
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return sessionDatabase('node-postgres', db, () => pool.end(), postgresBatch(pool));
}

/**
 * Neon's batch on a pooled connection: BEGIN, the statements, COMMIT, on a connection this
 * function owns. drizzle's own `transaction()` sends BEGIN outside its try/finally and ROLLBACK
 * without a bound, so a BEGIN or ROLLBACK that timed out (a frozen or partitioned server) left
 * the connection checked out for good, idle in a transaction: a few seconds' freeze drained the
 * pool and the server never served again. Here a connection whose statement failed for a
 * connection-level reason (classifyDatabaseError: timeout, reset, terminated) is destroyed, never
 * returned; after an ordinary SQL error it is rolled back and returned.
 *
 * The statements are built once against one drizzle instance whose client is the connection of
 * the batch running in this async context (AsyncLocalStorage): building a drizzle instance per
 * batch cost ~170 µs.
 */
function postgresBatch(pool: pg.Pool): Database['batch'] {
  const current = new AsyncLocalStorage<pg.PoolClient>();
  const router = {
    query: (...args: unknown[]) => {
      const client = current.getStore();
      if (!client) throw new Error('a batch statement ran outside its batch');
      return (client.query as (...a: unknown[]) => unknown)(...args);
    },
  };
  const txDb = drizzlePg({ client: router as unknown as pg.Pool, schema }) as unknown as Db;
  const broken = (err: unknown) => classifyDatabaseError(err)?.kind === 'unavailable';
  return (async (build: (db: Db) => readonly unknown[]) => {
    const client = await pool.connect();
    let destroy: Error | undefined;
    try {
      return await current.run(client, async () => {
        await client.query('BEGIN');
        try {
          const results: unknown[] = [];
          for (const query of build(txDb)) results.push(await query);
          await client.query('COMMIT');
          return results;
        } catch (err) {
          if (!broken(err)) {
            await client.query('ROLLBACK').catch((rollbackError: unknown) => {
              destroy = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
            });
          }
          throw err;
        }
      });
    } catch (err) {
      if (broken(err)) destroy ??= err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(destroy ?? false);
    }
  }) as Database['batch'];
}
