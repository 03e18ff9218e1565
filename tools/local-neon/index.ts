/**
 * local-neon: a local stand-in for Neon's SQL-over-HTTP endpoint, so the real
 * `@neondatabase/serverless` `neon()` driver and `drizzle-orm/neon-http` run unchanged
 * (from Node or workerd) against a PostgreSQL server (pg.Pool) or an embedded PGlite.
 *
 *   npx tsx tools/local-neon/index.ts --port 4444                      # PGlite at .data/pglite
 *   npx tsx tools/local-neon/index.ts --port 4444 --database-url postgres://…   # or env DATABASE_URL
 *       [--connection-string postgres://app:app@db.localtest:5432/laundry]  # what clients must send
 *
 * Point the driver at it with `neonConfig.fetchEndpoint = 'http://127.0.0.1:4444/sql'` and the
 * connection string the endpoint was started with (its user, password and database are checked;
 * the host is not). The app must not use https there.
 *
 * Matches Neon's proxy (neondatabase/neon proxy/src/serverless/sql_over_http.rs, read 2026-11-29):
 *   - only POST /sql (OPTIONS /sql answers CORS); any other path or method: 400 "query is not supported";
 *   - body `{"query", "params", "arrayMode"?}` or `{"queries": [...]}` (one transaction, rolled
 *     back on the first error); request bodies over 10 MiB: 413;
 *   - Neon-Raw-Text-Output / Neon-Array-Mode / Neon-Batch-Read-Only / Neon-Batch-Deferrable count
 *     only when exactly `true`; Neon-Batch-Isolation-Level must name a level (empty: 400);
 *   - Neon-Connection-String: malformed 400; wrong user or password 400 "password authentication
 *     failed" (code ""); wrong database 500 with Postgres' FATAL 3D000;
 *   - a response over 10 MiB (`maxResponseBytes`): 507, and a batch rolls back;
 *   - the client disconnecting cancels the running statement (pg backend) and a batch never commits;
 *   - errors: `{message, code, detail, hint, position, …, routine}`, every field present (null
 *     where absent; `code` and `severity` "" for errors that are not Postgres errors).
 * Where it differs: one fixed backend whatever the host; no pooler, JWT auth, CORS checks, rate
 * limits or compute wake-up; PGlite cannot cancel a running statement (it stops a batch between
 * statements); the size limit is checked per statement, not per row; without raw text output,
 * arrays of user-defined types stay text.
 * Test helpers: `GET /__stats` → counters, `POST /__stats/reset`.
 */
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ClientGoneError, pgBackend, type LocalNeonBackend } from './backends.js';
import { pgliteBackend } from './pglite.js';
import { toWire } from './json.js';
import { runIfEntryPoint, stopOnSignals } from '../shared/entry.js';
import {
  NEON_MAX_REQUEST_BYTES,
  NEON_MAX_RESPONSE_BYTES,
  NeonHttpError,
  authenticate,
  batchEcho,
  credentialsOf,
  errorBody,
  failure,
  parseBody,
  parseHeaders,
  readBody,
} from './wire.js';

export * from './backends.js';
export * from './pglite.js';
export { NEON_MAX_REQUEST_BYTES, NEON_MAX_RESPONSE_BYTES } from './wire.js';

/**
 * The connection string the dev and test set-ups give both the endpoint and the app (the
 * Worker's DATABASE_URL). Only its user, password and database are checked.
 */
export const LOCAL_NEON_CONNECTION_STRING = 'postgres://app:app@db.localtest:5432/laundry';

export interface LocalNeonStats {
  /** SQL POSTs received (not /__stats). */
  requests: number;
  /** Single-query POSTs (one round trip each). */
  queries: number;
  /** Batch POSTs, i.e. sql.transaction() / db.batch() (one round trip each). */
  batches: number;
  /** Statements inside those batches. */
  batchStatements: number;
  /** Requests answered with a 4xx/5xx, or dropped because the client went away. */
  errors: number;
  /** Bytes of SQL response bodies sent (what Neon's 10 MiB response limit applies to, per response). */
  responseBytes: number;
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
  /**
   * The connection string clients must send in `Neon-Connection-String`: a request whose user,
   * password or database differs is refused, as Neon refuses it. The host is not checked.
   */
  connectionString: string;
  /** Refuse a response larger than this with 507, as Neon does. Default 10 MiB (Neon's default). */
  maxResponseBytes?: number;
  /** Refuse a request body larger than this with 413. Default 10 MiB (Neon's default). */
  maxRequestBytes?: number;
  /** 0 (default) = ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Let the process exit while the server is still open (test runners that load it eagerly). */
  unref?: boolean;
}

const emptyStats = (): LocalNeonStats => ({ requests: 0, queries: 0, batches: 0, batchStatements: 0, errors: 0, responseBytes: 0 });

/** Sends JSON (a string with status 200 is sent as it is: already JSON); returns the body's size in bytes. */
function send(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): number {
  const text = typeof body === 'string' && status === 200 ? body : JSON.stringify(body);
  const bytes = Buffer.byteLength(text);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': bytes,
    'access-control-allow-origin': '*',
    ...headers,
  });
  res.end(text);
  return bytes;
}

export async function startLocalNeon(opts: StartLocalNeonOptions): Promise<LocalNeonServer> {
  const { backend } = opts;
  const expected = credentialsOf(opts.connectionString);
  const maxResponse = opts.maxResponseBytes ?? NEON_MAX_RESPONSE_BYTES;
  const maxRequest = opts.maxRequestBytes ?? NEON_MAX_REQUEST_BYTES;
  const host = opts.host ?? '127.0.0.1';
  let counters = emptyStats();

  async function handleSql(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    counters.requests++;
    // Neon cancels the running query when the client disconnects, and a batch never commits.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      // The same order as Neon: connection string, headers, then body and credentials.
      const connectionString = req.headers['neon-connection-string'];
      credentialsOf(Array.isArray(connectionString) ? connectionString[0] : connectionString);
      const headers = parseHeaders(req);
      const body = parseBody(await readBody(req, maxRequest));
      authenticate(req, expected);

      // Neon serializes rows as they arrive and stops past the limit (507); a batch then rolls back.
      const parts: string[] = [];
      let size = 0;
      const collect = (q: { arrayMode?: boolean }) => (r: Parameters<typeof toWire>[0]) => {
        const json = JSON.stringify(toWire(r, { arrayMode: q.arrayMode ?? headers.arrayMode, rawOutput: headers.rawOutput }));
        size += Buffer.byteLength(json) + 1;
        if (size > maxResponse) throw new NeonHttpError(507, `response is too large (max is ${maxResponse} bytes)`);
        parts.push(json);
      };
      if ('batch' in body) {
        counters.batches++;
        counters.batchStatements += body.batch.length;
        await backend.batch(body.batch, headers.batch, {
          signal: gone.signal,
          onResult: (r, i) => collect(body.batch[i] ?? {})(r),
        });
        counters.responseBytes += send(res, 200, `{"results":[${parts.join(',')}]}`, batchEcho(headers.batch));
      } else {
        counters.queries++;
        await backend.query(body.single, { signal: gone.signal, onResult: collect(body.single) });
        counters.responseBytes += send(res, 200, parts[0]);
      }
    } catch (e) {
      counters.errors++;
      if (gone.signal.aborted || e instanceof ClientGoneError) {
        res.destroy(); // nobody is listening
        return;
      }
      const { status, body } = failure(e);
      counters.responseBytes += send(res, status, body, status === 413 ? { connection: 'close' } : {});
    }
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/__stats' && req.method === 'GET') return void send(res, 200, JSON.stringify(counters));
    if (path === '/__stats/reset' && req.method === 'POST') {
      counters = emptyStats();
      return void send(res, 200, JSON.stringify(counters));
    }
    if (path === '/sql' && req.method === 'OPTIONS') {
      res.writeHead(200, { allow: 'OPTIONS, POST', 'access-control-allow-origin': '*' });
      return res.end();
    }
    // Neon serves only POST /sql; anything else is a 400 whose body is a JSON string.
    if (path !== '/sql' || req.method !== 'POST') {
      req.resume();
      return void send(res, 400, 'query is not supported');
    }
    handleSql(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody(`local-neon internal error: ${String(e)}`));
      else res.destroy();
    });
  });
  // Clients (workerd, undici) keep connections to the endpoint in a pool. With Node's 5 s
  // default, a request sent on a connection the server is just closing is lost ("Network
  // connection lost" in workerd) on a loaded machine; keep idle connections for 65 s instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

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
      'connection-string': { type: 'string', default: LOCAL_NEON_CONNECTION_STRING },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'Usage: tsx tools/local-neon/index.ts [--port 4444] [--host 127.0.0.1]\n' +
        '         [--database-url postgres://… | env DATABASE_URL] [--pool-size 10] [--data-dir .data/pglite]\n' +
        `         [--connection-string ${LOCAL_NEON_CONNECTION_STRING}]   (what clients must send)`,
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
    const { lockFolder } = await import('../../src/db/pglite-lock.js');
    lockFolder(dataDir);
    backend = pgliteBackend(await PGlite.create(dataDir), { closeDb: true });
    what = `PGlite at ${dataDir}`;
  }
  const connectionString = values['connection-string'];
  const server = await startLocalNeon({ backend, connectionString, port: Number(values.port), host: values.host });
  console.log(`local-neon: ${what}\nlocal-neon: listening on ${server.url} for ${connectionString}`);

  stopOnSignals('local-neon', () => server.close().then(() => backend.close()));
}

runIfEntryPoint(import.meta.url, main);
