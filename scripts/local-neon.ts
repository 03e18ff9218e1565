/**
 * local-neon: a local stand-in for Neon's SQL-over-HTTP endpoint, so the real
 * `@neondatabase/serverless` `neon()` driver and `drizzle-orm/neon-http` run unchanged
 * (from Node or workerd) against a PostgreSQL server (pg.Pool) or an embedded PGlite.
 *
 *   npx tsx scripts/local-neon.ts --port 4444                      # PGlite at .data/pglite
 *   npx tsx scripts/local-neon.ts --port 4444 --database-url postgres://…   # or env DATABASE_URL
 *
 * Point the driver at it with `neonConfig.fetchEndpoint = 'http://127.0.0.1:4444/sql'` and any
 * connection string with user, host and database (`postgres://u:p@localhost:5432/db`): the
 * database in it is ignored, the backend is fixed at start. The app must not use https there.
 *
 * Wire protocol (any POST path; /sql by convention):
 *   body `{"query": "… $1 …", "params": [...]}` or `{"queries": [{query, params}, …]}` (one transaction)
 *   headers Neon-Array-Mode, Neon-Batch-Isolation-Level, Neon-Batch-Read-Only, Neon-Batch-Deferrable
 *   200 `{command, rowCount, fields, rows, rowAsArray}` (values always raw Postgres text) or `{results: […]}`
 *   400 Postgres error fields (`code` = SQLSTATE) or `{message}`; 413 body > 5 MiB; 500 text.
 * Test helpers: `GET /__stats` → counters, `POST /__stats/reset`.
 */
import http from 'node:http';
import { mkdirSync, realpathSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ISOLATION_SQL,
  isPostgresError,
  pgBackend,
  pgliteBackend,
  type IsolationLevel,
  type LocalNeonBackend,
  type LocalNeonBatchOptions,
  type LocalNeonQuery,
  type LocalNeonResult,
} from './local-neon-backends.js';

export * from './local-neon-backends.js';

export interface LocalNeonStats {
  /** SQL POSTs received (not /__stats). */
  requests: number;
  /** Single-query POSTs (one round trip each). */
  queries: number;
  /** Batch POSTs, i.e. sql.transaction() / db.batch() (one round trip each). */
  batches: number;
  /** Statements inside those batches. */
  batchStatements: number;
  /** Requests answered with a 4xx/5xx. */
  errors: number;
}

export interface LocalNeonServer {
  /** e.g. http://127.0.0.1:PORT/sql, for neonConfig.fetchEndpoint. */
  url: string;
  port: number;
  stats(): LocalNeonStats;
  resetStats(): void;
  /** Stops the HTTP server only; the backend is the caller's to close. */
  close(): Promise<void>;
}

export interface StartLocalNeonOptions {
  backend: LocalNeonBackend;
  /** 0 (default) = ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Let the process exit while the server is still open (test runners that load it eagerly). */
  unref?: boolean;
}

export const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Postgres error fields the driver copies onto NeonDbError, plus message. */
const PG_ERROR_FIELDS = [
  'message', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'where', 'schema',
  'table', 'column', 'dataType', 'constraint', 'file', 'line', 'routine', 'severity',
] as const;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const emptyStats = (): LocalNeonStats => ({ requests: 0, queries: 0, batches: 0, batchStatements: 0, errors: 0 });

function send(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const json = typeof body !== 'string';
  const text = json ? JSON.stringify(body) : body;
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw new HttpError(413, 'request body exceeds 5 MiB');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk); // past the limit: keep draining, drop the data
  }
  if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body exceeds 5 MiB');
  return Buffer.concat(chunks).toString('utf8');
}

/** Parameter → Postgres text, as Neon's proxy does: strings as-is, arrays as array literals, objects as JSON. */
function paramText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const el = (e: unknown): string => {
      if (Array.isArray(e)) return paramText(e) as string;
      const t = paramText(e);
      return t === null ? 'NULL' : `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    };
    return `{${v.map(el).join(',')}}`;
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function toQuery(v: unknown, where: string): LocalNeonQuery {
  const o = v as { query?: unknown; params?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.query !== 'string') {
    throw new HttpError(400, `${where}: expected an object with a string "query"`);
  }
  if (o.params !== undefined && o.params !== null && !Array.isArray(o.params)) {
    throw new HttpError(400, `${where}: "params" must be an array`);
  }
  return { query: o.query, params: ((o.params as unknown[] | null | undefined) ?? []).map(paramText) };
}

function parseBody(text: string): { single: LocalNeonQuery } | { batch: LocalNeonQuery[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `invalid JSON body: ${(e as Error).message}`);
  }
  if (typeof body === 'object' && body !== null && 'queries' in body) {
    const { queries } = body as { queries: unknown };
    if (!Array.isArray(queries)) throw new HttpError(400, '"queries" must be an array');
    return { batch: queries.map((q, i) => toQuery(q, `queries[${i}]`)) };
  }
  return { single: toQuery(body, 'body') };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function boolHeader(req: http.IncomingMessage, name: string): boolean | undefined {
  const v = header(req, name)?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new HttpError(400, `${name} must be true or false`);
}

function batchOptions(req: http.IncomingMessage): LocalNeonBatchOptions {
  const o: LocalNeonBatchOptions = {};
  const iso = header(req, 'neon-batch-isolation-level')?.trim();
  if (iso) {
    if (!Object.hasOwn(ISOLATION_SQL, iso)) {
      throw new HttpError(400, `Neon-Batch-Isolation-Level must be one of ${Object.keys(ISOLATION_SQL).join(', ')}`);
    }
    o.isolationLevel = iso as IsolationLevel;
  }
  const readOnly = boolHeader(req, 'neon-batch-read-only');
  const deferrable = boolHeader(req, 'neon-batch-deferrable');
  if (readOnly !== undefined) o.readOnly = readOnly;
  if (deferrable !== undefined) o.deferrable = deferrable;
  return o;
}

function toWire(r: LocalNeonResult, arrayMode: boolean) {
  const rows = arrayMode ? r.rows : r.rows.map((row) => Object.fromEntries(row.map((v, i) => [r.fields[i]?.name ?? `?column?${i}`, v])));
  return { command: r.command, rowCount: r.rowCount, fields: r.fields, rows, rowAsArray: arrayMode };
}

function errorFields(e: Error & Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of PG_ERROR_FIELDS) if (e[f] !== undefined && e[f] !== null) out[f] = e[f];
  return out;
}

export async function startLocalNeon(opts: StartLocalNeonOptions): Promise<LocalNeonServer> {
  const { backend } = opts;
  const host = opts.host ?? '127.0.0.1';
  let counters = emptyStats();

  async function handleSql(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    counters.requests++;
    try {
      const body = parseBody(await readBody(req));
      const arrayMode = header(req, 'neon-array-mode')?.trim().toLowerCase() === 'true';
      if ('batch' in body) {
        const o = batchOptions(req);
        counters.batches++;
        counters.batchStatements += body.batch.length;
        const results = await backend.batch(body.batch, o);
        send(res, 200, { results: results.map((r) => toWire(r, arrayMode)) });
      } else {
        counters.queries++;
        send(res, 200, toWire(await backend.query(body.single), arrayMode));
      }
    } catch (e) {
      counters.errors++;
      if (e instanceof HttpError) send(res, e.status, { message: e.message }, e.status === 413 ? { connection: 'close' } : {});
      else if (isPostgresError(e)) send(res, 400, errorFields(e));
      else send(res, 500, `local-neon internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/__stats' && req.method === 'GET') return send(res, 200, counters);
    if (path === '/__stats/reset' && req.method === 'POST') {
      counters = emptyStats();
      return send(res, 200, counters);
    }
    if (req.method !== 'POST') return send(res, 405, { message: 'use POST' }, { allow: 'POST' });
    handleSql(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `local-neon internal error: ${String(e)}`);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (opts.unref) server.unref();
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/sql`,
    port,
    stats: () => ({ ...counters }),
    resetStats: () => {
      counters = emptyStats();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref(); // don't wait on stuck clients
      }),
  };
}

// ------------------------------------------------------------------------------------- CLI

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4444' },
      host: { type: 'string', default: '127.0.0.1' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string', default: '.data/pglite' },
      'pool-size': { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'Usage: tsx scripts/local-neon.ts [--port 4444] [--host 127.0.0.1]\n' +
        '         [--database-url postgres://… | env DATABASE_URL] [--pool-size 10] [--data-dir .data/pglite]',
    );
    return;
  }
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  let backend: LocalNeonBackend;
  let what: string;
  if (databaseUrl) {
    backend = pgBackend(databaseUrl, { max: Number(values['pool-size']) });
    const u = new URL(databaseUrl);
    what = `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } else {
    const dataDir = values['data-dir'];
    mkdirSync(dataDir, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    // One process per embedded folder (src/db/pglite-lock.ts); freed on exit.
    const { lockFolder } = await import('../src/db/pglite-lock.js');
    lockFolder(dataDir);
    backend = pgliteBackend(await PGlite.create(dataDir), { closeDb: true });
    what = `PGlite at ${dataDir}`;
  }
  const server = await startLocalNeon({ backend, port: Number(values.port), host: values.host });
  console.log(`local-neon: ${what}\nlocal-neon: listening on ${server.url}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`local-neon: ${signal}, shutting down`);
    server
      .close()
      .then(() => backend.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(e);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  try {
    return !!entry && import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
