/**
 * Database backends for tools/local-neon/index.ts: each runs Neon-style queries and returns
 * every value as raw Postgres text, with the real type OIDs, so the Neon driver's own
 * type parsers do the decoding (as they do against Neon's SQL-over-HTTP endpoint).
 */
import pg from 'pg';

export type IsolationLevel = 'ReadUncommitted' | 'ReadCommitted' | 'RepeatableRead' | 'Serializable';

/** One statement: SQL with $1..$n placeholders and parameters already in Postgres text form. */
export interface LocalNeonQuery {
  query: string;
  params: (string | null)[];
}

export interface LocalNeonField {
  name: string;
  tableID: number;
  columnID: number;
  dataTypeID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: 'text';
}

export interface LocalNeonResult {
  command: string;
  rowCount: number | null;
  fields: LocalNeonField[];
  /** Raw Postgres text per column; null for SQL NULL. */
  rows: (string | null)[][];
}

export interface LocalNeonBatchOptions {
  isolationLevel?: IsolationLevel;
  readOnly?: boolean;
  deferrable?: boolean;
}

/** Per-request hooks, as Neon's proxy ties a query to its HTTP request. */
export interface LocalNeonRun {
  /**
   * Aborted when the HTTP client goes away. The running statement is cancelled where the
   * backend can (pg: pg_cancel_backend from another connection) and a batch rolls back: no
   * statement starts, and no COMMIT is sent, once it is aborted.
   */
  signal?: AbortSignal;
  /** Called with each statement's result before the next starts (a batch: inside its transaction); a throw rolls the batch back. */
  onResult?: (r: LocalNeonResult, index: number) => void;
}

export interface LocalNeonBackend {
  readonly kind: 'pg' | 'pglite';
  /** One statement, outside any explicit transaction (autocommit), extended protocol. */
  query(q: LocalNeonQuery, run?: LocalNeonRun): Promise<LocalNeonResult>;
  /** All statements in ONE transaction on ONE connection; rolls back on the first error. */
  batch(queries: LocalNeonQuery[], opts?: LocalNeonBatchOptions, run?: LocalNeonRun): Promise<LocalNeonResult[]>;
  close(): Promise<void>;
}

/** Thrown where a disconnected client's work stops (before a statement or the COMMIT). */
export class ClientGoneError extends Error {
  constructor() {
    super('Query cancelled, connection was terminated');
  }
}

export function throwIfGone(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ClientGoneError();
}

export const ISOLATION_SQL: Record<IsolationLevel, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
};

/** Transaction modes for `BEGIN <modes>` / `SET TRANSACTION <modes>`; '' when none given. */
export function transactionModes(o: LocalNeonBatchOptions = {}): string {
  const parts: string[] = [];
  if (o.isolationLevel) parts.push(`ISOLATION LEVEL ${ISOLATION_SQL[o.isolationLevel]}`);
  if (o.readOnly !== undefined) parts.push(o.readOnly ? 'READ ONLY' : 'READ WRITE');
  if (o.deferrable !== undefined) parts.push(o.deferrable ? 'DEFERRABLE' : 'NOT DEFERRABLE');
  return parts.join(' ');
}

/** A Postgres server error (pg's and PGlite's DatabaseError both carry these). */
export function isPostgresError(e: unknown): e is Error & Record<string, unknown> {
  if (!(e instanceof Error)) return false;
  const { code, severity } = e as unknown as Record<string, unknown>;
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

// ---------------------------------------------------------------- PostgreSQL via pg.Pool

export const identity = (v: string): string => v;
/** Every OID parses to itself: pg hands back the text exactly as Postgres sent it. */
const RAW_PG_TYPES = { getTypeParser: () => identity } as unknown as pg.CustomTypesConfig;

export interface PgBackendOptions {
  /** Pool size = how many HTTP requests can hit Postgres at once. Default 10. */
  max?: number;
  /** Session TimeZone for every connection. Neon computes run in UTC; default 'UTC', null = server default. */
  timeZone?: string | null;
}

export function pgBackend(connectionString: string, opts: PgBackendOptions = {}): LocalNeonBackend {
  const timeZone = opts.timeZone === undefined ? 'UTC' : opts.timeZone;
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    // Idle connections must not keep a test runner alive after its last test.
    allowExitOnIdle: true,
    ...(timeZone ? { options: `-c TimeZone=${timeZone}` } : {}),
  });
  pool.on('error', () => {}); // an idle client died; the pool drops it, the next checkout reconnects
  // A checked-out client between statements has no pool listener: its connection dying there
  // (backend stopped or terminated) would be an uncaught 'error'. The next query on it fails instead.
  pool.on('connect', (client) => client.on('error', () => {}));

  const run = async (client: pg.PoolClient, q: LocalNeonQuery): Promise<LocalNeonResult> => {
    // queryMode 'extended' (missing from @types/pg): Neon always uses the extended protocol, so a
    // multi-statement string fails there too, even without parameters.
    const config = { text: q.query, values: q.params, rowMode: 'array', types: RAW_PG_TYPES, queryMode: 'extended' };
    const r = await client.query(config as pg.QueryArrayConfig);
    return {
      command: r.command ?? '',
      rowCount: r.rowCount ?? null,
      fields: r.fields.map((f) => ({
        name: f.name,
        tableID: f.tableID,
        columnID: f.columnID,
        dataTypeID: f.dataTypeID,
        dataTypeSize: f.dataTypeSize,
        dataTypeModifier: f.dataTypeModifier,
        format: 'text' as const,
      })),
      rows: r.rows as (string | null)[][],
    };
  };

  /**
   * Cancels whatever `pid` runs, from a connection of its own: the pool may be exhausted, and
   * a cancel must not queue behind the work it cancels. Neon's proxy sends the protocol's
   * CancelRequest instead; the effect (SQLSTATE 57014 on that statement) is the same.
   */
  const cancelBackend = async (pid: number): Promise<void> => {
    const c = new pg.Client({ connectionString });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch {
      // The connection is destroyed below anyway, which ends the statement.
    } finally {
      await c.end().catch(() => {});
    }
  };

  /**
   * Check out a client per request; destroy it, rather than reuse it, after a non-SQL failure
   * or a cancel (a cancel that lands late must not hit the next request's statement).
   */
  const withClient = async <T>(
    signal: AbortSignal | undefined,
    fn: (c: pg.PoolClient, markBroken: (e: unknown) => void) => Promise<T>,
  ): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    const markBroken = (e: unknown) => {
      broken ??= e instanceof Error ? e : new Error(String(e));
    };
    let cancelling: Promise<void> | undefined;
    const onAbort = () => {
      cancelling = cancelBackend((client as unknown as { processID: number }).processID);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      throwIfGone(signal);
      return await fn(client, markBroken);
    } catch (e) {
      if (!isPostgresError(e)) markBroken(e);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (cancelling) {
        await cancelling;
        markBroken(new ClientGoneError());
      }
      client.release(broken);
    }
  };

  return {
    kind: 'pg',
    query: (q, r = {}) =>
      withClient(r.signal, async (c) => {
        const out = await run(c, q);
        r.onResult?.(out, 0);
        return out;
      }),
    batch: (queries, o, r = {}) =>
      withClient(r.signal, async (c, markBroken) => {
        const modes = transactionModes(o);
        await c.query(modes ? `BEGIN ${modes}` : 'BEGIN');
        try {
          const out: LocalNeonResult[] = [];
          for (const q of queries) {
            throwIfGone(r.signal);
            const result = await run(c, q);
            r.onResult?.(result, out.length);
            out.push(result);
          }
          throwIfGone(r.signal);
          await c.query('COMMIT');
          return out;
        } catch (e) {
          await c.query('ROLLBACK').catch(markBroken);
          throw e;
        }
      }),
    close: () => pool.end(),
  };
}
