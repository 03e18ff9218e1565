import type { BatchItem, BatchResponse } from 'drizzle-orm/batch';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import type * as schema from './schema.js';

export type Schema = typeof schema;
/** The drizzle surface every driver shares: query builder, relational queries, execute. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type DriverKind = 'neon-http' | 'node-postgres' | 'pglite';

type NonEmpty<T> = readonly [T, ...T[]];

/**
 * The app's only handle on the database.
 *
 * Neon over HTTP has no interactive transactions, so there is no `transaction()` here:
 * a write that touches several rows or tables is one SQL statement, or one `batch`,
 * whose statements are built up front and cannot read each other's results. Neon runs a
 * batch as BEGIN … COMMIT in one HTTP round trip; the Node drivers emulate exactly that.
 */
export interface Database {
  readonly kind: DriverKind;
  readonly db: Db;
  batch<T extends NonEmpty<BatchItem<'pg'>>>(build: (db: Db) => T): Promise<BatchResponse<T>>;
  /** Runs raw SQL and returns its rows as objects (timestamps come back as strings). */
  rows<T extends object>(query: SQL): Promise<T[]>;
  /**
   * One drizzle builder query (select, relational `db.query…`, insert …). Optional: use the
   * `runQuery` helper, which falls back to running it on `db`. A request-scoped wrapper
   * (src/db/role-check.ts) implements it to add work to the same round trip.
   */
  query?<T extends BatchItem<'pg'>>(build: (db: Db) => T): Promise<BatchResponse<[T]>[0]>;
  /** A cheap round trip for readiness checks; rejects if the database does not answer in time. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs one drizzle builder query through `database.query` when it has one. Staff and admin
 * code must use this (or `rows`/`batch`), never `database.db.<builder>` directly, so the
 * per-request role check rides along (tested for every such route in test/journeys/roles.ts).
 */
export function runQuery<T extends BatchItem<'pg'>>(database: Database, build: (db: Db) => T): Promise<BatchResponse<[T]>[0]> {
  return database.query ? database.query(build) : (build(database.db) as unknown as Promise<BatchResponse<[T]>[0]>);
}

export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  if (!Array.isArray(rows)) throw new Error('database driver returned no rows array');
  return rows as T[];
}

export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
