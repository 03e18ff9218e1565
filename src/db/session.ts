/**
 * The Node drivers that hold a session: node-postgres (a pool over TCP) and embedded PGlite,
 * plus migrations, which need a session (transactional DDL). Node-only: wired by src/node.ts
 * and the Node tools, never imported by the app or the Worker.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type pg from 'pg';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { parseRows, withTimeout, type Database, type Db } from './client.js';
import { classifyDatabaseError } from './errors.js';
import { lockFolder } from './pglite-lock.js';
import { createPgPool, type PgPoolOptions } from './postgres.js';
import * as schema from './schema.js';

const here = dirname(fileURLToPath(import.meta.url));

/** migrations/ sits at the project root: two levels up from src/db/, three from dist/src/db/. */
export function migrationsFolder(): string {
  const candidates = [resolve(here, '../../migrations'), resolve(here, '../../../migrations')];
  const found = candidates.find((p) => existsSync(resolve(p, 'meta/_journal.json')));
  if (!found) throw new Error(`migrations folder not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * Node drivers hold a real session, so a batch is emulated as one transaction that
 * runs the pre-built statements in order: the same all-or-nothing semantics as Neon's
 * batch, and the statements still cannot read each other's results.
 */
function sessionDatabase(kind: 'node-postgres' | 'pglite', db: Db, close: () => Promise<void>, batch?: Database['batch']): Database {
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

/**
 * `source` is a folder, `memory://` for a throwaway database, or an open PGlite that
 * someone else owns (it is then not closed here).
 */
export async function createPgliteDatabase(source: string | PGlite): Promise<Database> {
  // PGlite is single-process: a folder is locked for as long as it is open (src/db/pglite-lock.ts).
  const folder = typeof source === 'string' && !source.startsWith('memory://') ? source : undefined;
  if (folder) mkdirSync(dirname(resolve(folder)), { recursive: true });
  const release = folder ? lockFolder(folder) : undefined;
  let client: PGlite;
  try {
    if (folder) mkdirSync(folder, { recursive: true });
    client = typeof source === 'string' ? await PGlite.create(source) : source;
  } catch (err) {
    release?.();
    throw err;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return sessionDatabase('pglite', db, async () => {
    if (typeof source !== 'string') return;
    try {
      await client.close();
    } finally {
      release?.();
    }
  });
}

/** Applies pending migrations with a session driver (transactional DDL). */
export async function migrateDatabase(database: Database): Promise<void> {
  const config = { migrationsFolder: migrationsFolder() };
  if (database.kind === 'pglite') await migratePglite(database.db as never, config);
  else if (database.kind === 'node-postgres') await migratePg(database.db as never, config);
  else throw new Error('run migrations over a session driver (node-postgres), not neon-http');
}
