/**
 * The request and error side of Neon's SQL-over-HTTP protocol for tools/local-neon/index.ts, as
 * Neon's proxy implements it (neondatabase/neon, proxy/src/serverless/sql_over_http.rs,
 * http_util.rs, error.rs; read 2026-11-29): limits, headers, the Neon-Connection-String check
 * and the error body.
 */
import type http from 'node:http';
import { ISOLATION_SQL, isPostgresError, type IsolationLevel, type LocalNeonBatchOptions, type LocalNeonQuery } from './backends.js';

/** Neon's default `sql_over_http_max_request_size_bytes` and `..._max_response_size_bytes`: 10 MiB each. */
export const NEON_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const NEON_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Every field of Neon's error body after `message`, in its order. */
const ERROR_FIELDS = [
  'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'severity', 'where', 'table',
  'column', 'schema', 'dataType', 'constraint', 'file', 'line', 'routine',
] as const;

/**
 * An error answered with Neon's error body. `pg` holds the Postgres error fields when the error
 * came from Postgres; without it `code` and `severity` are "" and every other field is null,
 * as Neon's proxy answers its own errors (size limits, headers, authentication).
 */
export class NeonHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly pg?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function errorBody(message: string, pg?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { message };
  for (const f of ERROR_FIELDS) {
    const v = pg?.[f];
    out[f] = v === undefined || v === null ? (f === 'code' || f === 'severity' ? '' : null) : String(v);
  }
  return out;
}

/** Body larger than the limit: 413 (Neon: ReadPayloadError::BodyTooLarge). */
export async function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  const tooLarge = () => new NeonHttpError(413, `request is too large (max is ${max} bytes)`);
  if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= max) chunks.push(chunk); // past the limit: keep draining, drop the data
  }
  if (size > max) throw tooLarge();
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

export interface WireQuery extends LocalNeonQuery {
  /** The body's per-query `arrayMode`, which overrides the Neon-Array-Mode header. */
  arrayMode?: boolean;
}

const unparsable = (why: string) => new NeonHttpError(400, `could not parse the HTTP request body: ${why}`);

function toQuery(v: unknown, where: string): WireQuery {
  const o = v as { query?: unknown; params?: unknown; arrayMode?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.query !== 'string') throw unparsable(`${where}: expected an object with a string "query"`);
  if (o.params !== undefined && o.params !== null && !Array.isArray(o.params)) throw unparsable(`${where}: "params" must be an array`);
  if (o.arrayMode !== undefined && o.arrayMode !== null && typeof o.arrayMode !== 'boolean') throw unparsable(`${where}: "arrayMode" must be a boolean`);
  const q: WireQuery = { query: o.query, params: ((o.params as unknown[] | null | undefined) ?? []).map(paramText) };
  if (typeof o.arrayMode === 'boolean') q.arrayMode = o.arrayMode;
  return q;
}

export function parseBody(text: string): { single: WireQuery } | { batch: WireQuery[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw unparsable((e as Error).message);
  }
  if (typeof body === 'object' && body !== null && 'queries' in body) {
    const { queries } = body as { queries: unknown };
    if (!Array.isArray(queries)) throw unparsable('"queries" must be an array');
    return { batch: queries.map((q, i) => toQuery(q, `queries[${i}]`)) };
  }
  return { single: toQuery(body, 'body') };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface NeonHeaders {
  rawOutput: boolean;
  arrayMode: boolean;
  batch: LocalNeonBatchOptions;
}

/**
 * Neon compares each flag with the exact bytes `true`: anything else (`TRUE`, `1`, ` true`,
 * empty) is false, never an error. An isolation level must be one of the four names exactly;
 * any other value, the empty string included, is a 400 "invalid isolation level".
 */
export function parseHeaders(req: http.IncomingMessage): NeonHeaders {
  const flag = (name: string) => header(req, name) === 'true';
  const batch: LocalNeonBatchOptions = {};
  const iso = header(req, 'neon-batch-isolation-level');
  if (iso !== undefined) {
    if (!Object.hasOwn(ISOLATION_SQL, iso)) throw new NeonHttpError(400, 'invalid isolation level');
    batch.isolationLevel = iso as IsolationLevel;
  }
  // Neon only adds READ ONLY / DEFERRABLE when the flag is true; otherwise the defaults apply.
  if (flag('neon-batch-read-only')) batch.readOnly = true;
  if (flag('neon-batch-deferrable')) batch.deferrable = true;
  return { rawOutput: flag('neon-raw-text-output'), arrayMode: flag('neon-array-mode'), batch };
}

export interface NeonCredentials {
  user: string;
  password: string;
  database: string;
}

/**
 * Reads user, password and database from a postgres:// URL the way Neon's `get_conn_info`
 * does, with its messages (a 400 each). The host is not checked here: Neon routes by it to
 * an endpoint, while this stand-in serves one database.
 */
export function credentialsOf(connectionString: string | undefined): NeonCredentials {
  if (connectionString === undefined) throw new NeonHttpError(400, 'invalid header: neon-connection-string');
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch (e) {
    throw new NeonHttpError(400, `invalid connection string: ${(e as Error).message}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new NeonHttpError(400, 'incorrect scheme');
  const database = decodeURIComponent(url.pathname.replace(/^\//, '').split('/')[0] ?? '');
  if (!database) throw new NeonHttpError(400, 'missing database name');
  const user = decodeURIComponent(url.username);
  if (!user) throw new NeonHttpError(400, 'missing username');
  if (!url.password) throw new NeonHttpError(400, 'missing authentication credentials: required password');
  return { user, password: decodeURIComponent(url.password), database };
}

/**
 * The request's credentials against the endpoint's. A wrong user or password fails as Neon's
 * proxy fails it (it authenticates before reaching Postgres): 400, `code` "". A wrong database
 * is refused by Postgres itself when Neon connects, which Neon answers with 500 and the
 * Postgres error (FATAL 3D000).
 */
export function authenticate(req: http.IncomingMessage, expected: NeonCredentials): void {
  const got = credentialsOf(header(req, 'neon-connection-string'));
  if (got.user !== expected.user || got.password !== expected.password) {
    throw new NeonHttpError(400, `password authentication failed for user '${got.user}'`);
  }
  if (got.database !== expected.database) {
    throw new NeonHttpError(500, `database "${got.database}" does not exist`, {
      code: '3D000',
      severity: 'FATAL',
      file: 'postinit.c',
      routine: 'InitPostgres',
    });
  }
}

/** A failure as Neon's proxy answers it: its status, and the error body with every field. */
export function failure(e: unknown): { status: number; body: Record<string, unknown> } {
  if (e instanceof NeonHttpError) return { status: e.status, body: errorBody(e.message, e.pg) };
  if (isPostgresError(e)) return { status: 400, body: errorBody(e.message, e) };
  // Neon: the compute could not be reached or answered nonsense (500, code "").
  return { status: 500, body: errorBody(`local-neon: ${e instanceof Error ? e.message : String(e)}`) };
}

/** Neon echoes the batch's transaction headers on a 200. */
export function batchEcho(o: { isolationLevel?: string; readOnly?: boolean; deferrable?: boolean }): http.OutgoingHttpHeaders {
  const h: http.OutgoingHttpHeaders = {};
  if (o.readOnly) h['neon-batch-read-only'] = 'true';
  if (o.deferrable) h['neon-batch-deferrable'] = 'true';
  if (o.isolationLevel) h['neon-batch-isolation-level'] = o.isolationLevel;
  return h;
}
