import type { BatchItem, BatchResponse } from 'drizzle-orm/batch';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import { z } from 'zod';
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
  /**
   * Runs raw SQL and returns its rows, each parsed by `schema` (a zod object for one row, named
   * `…Row` next to the query), so the row type is checked where the data enters, not assumed.
   * On all three drivers timestamps arrive as strings, `int`/`float8` as numbers and `json(b)`
   * parsed (the suites run these schemas on each); drivers differ on `bigint`, so cast
   * `count(*)` to `int` in SQL. Statements run for their effect pass `AnyRow`.
   * Rejects with an Error naming the first mismatch when a row does not fit the schema (a bug:
   * the query and its schema disagree), which the app answers as a 500.
   */
  rows<T extends object>(schema: z.ZodType<T>, query: SQL): Promise<T[]>;
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

/**
 * `statements` (in order, for their effect), then `last`, in ONE batch (one round trip); answers
 * `last`'s result. For a caller that gathered a variable number of writes (e.g. Stripe's answers
 * to record) and closes with a read. A batch's items are typed as a tuple; a list built at run
 * time is not one, so this is the one place that says so.
 */
export async function batchThen<T extends BatchItem<'pg'>>(database: Database, statements: readonly SQL[], last: (db: Db) => T): Promise<BatchResponse<[T]>[0]> {
  const results = await database.batch((db) => [...statements.map((s) => db.execute(s)), last(db)] as unknown as readonly [T]);
  return results[results.length - 1]!;
}

/** The row schema of a statement whose rows nobody reads (an UPDATE without RETURNING …): any object. */
export const AnyRow = z.looseObject({});

/** The rows of a driver's `execute` result (an array for PGlite/Neon, `{ rows }` for node-postgres), unread. */
export function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result)) return result;
  const rows: unknown = result && typeof result === 'object' && 'rows' in result ? result.rows : undefined;
  if (!Array.isArray(rows)) throw new Error('database driver returned no rows array');
  return rows;
}

/**
 * The rows of a driver's `execute` result (see `rowsOf`), each parsed by `schema`.
 * Throws an Error naming the row and the mismatch.
 */
export function parseRows<T extends object>(schema: z.ZodType<T>, result: unknown): T[] {
  return rowsOf(result).map((row, i) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new Error(`database row ${i} does not match its schema: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });
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
