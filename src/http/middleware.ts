import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import { verifyAccessToken } from '../auth/tokens.js';
import { classifyDatabaseError, databaseFaultProblem } from '../db/errors.js';
import { roleCheckedDatabase } from '../db/role-check.js';
import { userRole, type UserRole } from '../db/schema.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';
import { ApiError, PROBLEM_CONTENT_TYPE, asApiError, problemOf } from '../errors.js';
import { methodLabel } from '../metrics/index.js';
import type { AllowedMethods } from './allowed-methods.js';
import type { AppEnv, Principal } from './context.js';

/** An incoming X-Request-Id kept as the request id (else a fresh one). */
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
// Random bytes are drawn 512 at a time (never at global scope: Workers forbid it there);
// one getRandomValues call per request was a measurable share of a cheap request on Node.
let randomPool = new Uint8Array(0);
let randomAt = 0;

/** A fresh request id, `req_` and 16 hex digits. */
export function newRequestId(): string {
  if (randomAt + 8 > randomPool.length) {
    randomPool = crypto.getRandomValues(new Uint8Array(512));
    randomAt = 0;
  }
  let id = 'req_';
  for (const end = randomAt + 8; randomAt < end; randomAt++) id += HEX[randomPool[randomAt]!];
  return id;
}

export interface ResponseHeaderOptions {
  /** Allowed origins; `*` allows any. */
  corsOrigins: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  maxAgeSeconds: number;
  /** The methods a path takes (src/http/allowed-methods.ts): a preflight on a path with none is a 404. */
  allowedMethods: AllowedMethods;
}

/**
 * The response headers OWASP's REST Security Cheat Sheet asks of a JSON API. The rest of
 * Helmet's set (X-XSS-Protection, X-Download-Options, Origin-Agent-Cluster, COOP, …) governs
 * how browsers treat HTML documents; this API serves none but /docs, which needs none of them.
 */
const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

/**
 * Where the headers every answer carries can go without a Fetch `Headers` object: the Node
 * server's response (src/platform/node/server-response.ts), reached as `c.env.outgoing`
 * (@hono/node-server's bindings). The app's own response may override any of them, and its
 * `Vary` is added to theirs.
 */
export interface BaseHeaderSink {
  setBaseHeader(name: string, value: string): void;
}

/** The Node server's response when it takes base headers; undefined elsewhere (Workers, `app.request`, tests). */
function baseHeaderSink(c: Context): BaseHeaderSink | undefined {
  const outgoing = (c.env as { outgoing?: Partial<BaseHeaderSink> } | undefined)?.outgoing;
  return typeof outgoing?.setBaseHeader === 'function' ? (outgoing as BaseHeaderSink) : undefined;
}

/**
 * Sets a header of the response being made: on Node straight onto the socket's response (no
 * Fetch `Headers` object, which Hono's `c.header` creates per request), elsewhere through
 * `c.header`. A header set this way stays on whatever the request answers, an error included,
 * so a handler sets its own (ETag, Cache-Control) only once nothing can fail before it returns.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const sink = baseHeaderSink(c);
  if (sink) sink.setBaseHeader(name, value);
  else c.header(name, value);
}

/** The headers every answer carries: the same list for every request, and the CORS origin echoed when listed. */
export interface BaseHeaders {
  /** Security headers, then CORS (Allow-Origin `*` or Vary: Origin, Expose-Headers), in the order they were always set. */
  fixed: ReadonlyArray<readonly [string, string]>;
  /** The `Access-Control-Allow-Origin` to send for this `Origin` header, if any (never with `*`, which is in `fixed`). */
  allowOrigin(origin: string | undefined): string | undefined;
  /** Whether the request's Origin header is read at all (false with `*`). */
  readsOrigin: boolean;
}

/** Built once per app: responseHeaders below and the Node server's cached-catalog path (src/http/fast-catalog.ts) share it. */
export function baseHeaders(opts: Pick<ResponseHeaderOptions, 'corsOrigins' | 'exposeHeaders'>): BaseHeaders {
  const anyOrigin = opts.corsOrigins.includes('*');
  const origins = new Set(opts.corsOrigins);
  const fixed: Array<readonly [string, string]> = [...SECURITY_HEADERS];
  if (anyOrigin) fixed.push(['Access-Control-Allow-Origin', '*']);
  fixed.push(['Access-Control-Expose-Headers', opts.exposeHeaders.join(',')]);
  if (!anyOrigin) fixed.push(['Vary', 'Origin']);
  return { fixed, readsOrigin: !anyOrigin, allowOrigin: (origin) => (!anyOrigin && origin !== undefined && origins.has(origin) ? origin : undefined) };
}

/**
 * Security headers and CORS, set before the handler runs so the handler builds its response
 * once with them. (hono's cors and secureHeaders edit the response after it is built; on
 * Node that turns @hono/node-server's cached response into a full Fetch Response, which cost
 * a cheap GET about a quarter of its CPU.) OPTIONS on a real path is answered as a preflight
 * (with the path's own methods); on any other path it falls through to the 404.
 */
export function responseHeaders(opts: ResponseHeaderOptions): MiddlewareHandler<AppEnv> {
  const base = baseHeaders(opts);
  const preflight = {
    'Access-Control-Allow-Headers': opts.allowHeaders.join(','),
    'Access-Control-Max-Age': String(opts.maxAgeSeconds),
  };
  return async (c, next) => {
    const listed = base.readsOrigin ? base.allowOrigin(c.req.header('origin')) : undefined;
    for (const [name, value] of base.fixed) setResponseHeader(c, name, value);
    if (listed) setResponseHeader(c, 'Access-Control-Allow-Origin', listed);
    if (c.req.method === 'OPTIONS') {
      const allow = opts.allowedMethods(c.req.path);
      if (allow.length > 0) return c.body(null, 204, { ...preflight, 'Access-Control-Allow-Methods': allow.join(','), Allow: allow.join(', ') });
    }
    await next();
  };
}

/**
 * hono/body-limit for requests that can carry a body. It reads `c.req.raw.body`, which on
 * Node materialises a full Fetch Request: GET and HEAD (no body) skip it.
 */
export function bodyLimitFor(limit: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limit(c, next));
}

/** The request id: the client's X-Request-Id when it is SAFE_REQUEST_ID, else a fresh one. */
export const requestIdOf = (incoming: string | undefined): string => (incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : newRequestId());

/** What the access line and the HTTP metric say about one answered request. */
export interface AnsweredRequest {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  userId: string | undefined;
}

/** Writes the access line (on the request's logger) and the HTTP metric of one answered request. */
export function recordRequest(deps: Deps, logger: Logger, r: AnsweredRequest): void {
  logger.info('request', {
    method: r.method,
    route: r.route,
    status: r.status,
    durationMs: Math.round(r.durationMs * 100) / 100,
    userId: r.userId,
    version: deps.config.appVersion,
    runtime: deps.runtime,
  });
  deps.metrics.httpRequest({ method: methodLabel(r.method), route: r.route, status: r.status, durationMs: r.durationMs });
}

/** Puts deps, the request id and a request-scoped logger on the context; writes the access log and the HTTP metric. */
export function requestContext(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdOf(c.req.header('x-request-id'));
    const logger = deps.logger.child({ requestId });
    c.set('deps', deps);
    c.set('requestId', requestId);
    c.set('logger', logger);
    setResponseHeader(c, 'X-Request-Id', requestId);
    setResponseHeader(c, 'X-App-Version', deps.config.appVersion);
    await next();
    const durationMs = performance.now() - started;
    recordRequest(deps, logger, { method: c.req.method, route: routeLabel(c), status: c.res.status, durationMs, userId: c.get('principal')?.userId });
  };
}

/** The route pattern (`/v1/orders/:id`), never the raw path, so logs and metrics stay low-cardinality. */
export function routeLabel(c: Context): string {
  const handler = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
  return handler?.path ?? 'unmatched';
}

/**
 * The challenge every 401 carries (RFC 9110 §15.5.2: a 401 MUST send WWW-Authenticate), in the
 * Bearer scheme of RFC 6750 §3: `error="invalid_token"` when an access token was sent and refused
 * (malformed, bad signature, expired), none when credentials were missing or were not an access
 * token (a password, a refresh token: the problem's `code` says which).
 */
export function bearerChallenge(code: string): string {
  return code === 'invalid_token' || code === 'token_expired' ? 'Bearer realm="laundry", error="invalid_token"' : 'Bearer realm="laundry"';
}

export function problemResponse(c: Context<AppEnv>, err: ApiError): Response {
  const body = problemOf(err, c.get('requestId') ?? 'unknown', new URL(c.req.url).pathname);
  const headers: Record<string, string> = { 'Content-Type': PROBLEM_CONTENT_TYPE };
  if (err.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
  if (err.status === 401) headers['WWW-Authenticate'] = bearerChallenge(err.code);
  return c.body(JSON.stringify(body), err.status, headers);
}

/** Maps anything thrown to a problem. Unknown errors are logged with their stack, never sent. */
export function errorHandler(err: Error, c: Context<AppEnv>): Response {
  const known = asApiError(err);
  // A deliberate ApiError (e.g. 503 payments_not_configured) is the answer; a domain rule
  // failing with 5xx means corrupt data, which is logged as a crash below.
  if (known && (err instanceof ApiError || known.status < 500)) {
    if (known.status >= 500) (c.get('logger') ?? console).warn('request failed', { code: known.code, detail: known.message });
    return problemResponse(c, known);
  }
  // The database failing (503) or refusing a value the schemas let through (422) is a known
  // fault, logged as a warning with its SQLSTATE or cause, never as an unhandled error.
  const fault = classifyDatabaseError(err);
  if (fault) {
    const logger = c.get('logger') ?? console;
    const context = { reason: fault.reason, cause: fault.message, path: new URL(c.req.url).pathname };
    // A value the database refused got past the input schemas: the client gets a 422, but it is
    // our bug (a schema to tighten), so it is logged as an error, where alerts look.
    if (fault.kind === 'unavailable') logger.warn('database unavailable', context);
    else logger.error('database refused a value the input schemas let through', context);
    return problemResponse(c, databaseFaultProblem(fault));
  }
  if (err instanceof HTTPException) {
    const translated = translateHttpException(err);
    if (translated) return problemResponse(c, translated);
  }
  (c.get('logger') ?? console).error('unhandled error', { error: err, path: new URL(c.req.url).pathname });
  return problemResponse(c, new ApiError('internal_error', 'Something went wrong on our side; the request id helps us find it.'));
}

function translateHttpException(err: HTTPException): ApiError | undefined {
  if (err.status === 413) return new ApiError('payload_too_large');
  if (err.status === 400 && /malformed json/i.test(err.message)) {
    return new ApiError('malformed_json', 'The request body is not valid JSON.');
  }
  if (err.status === 415 || (err.status === 400 && /unsupported media type|content-type/i.test(err.message))) {
    return new ApiError('unsupported_media_type', 'Send the body as application/json.');
  }
  if (err.status >= 400 && err.status < 500) return new ApiError('bad_request', err.message || undefined);
  return undefined;
}

/**
 * No route matched: 405 with `Allow` when the path exists with other methods (RFC 9110
 * §15.5.6), else 404. Both are problems with a stable code.
 */
export function notFoundHandler(allowedMethods: AllowedMethods) {
  return (c: Context<AppEnv>): Response => {
    const path = c.req.path;
    const allow = allowedMethods(path);
    if (allow.length > 0) {
      const res = problemResponse(c, new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${path}; it takes ${allow.join(', ')}.`));
      res.headers.set('Allow', allow.join(', '));
      return res;
    }
    return problemResponse(c, new ApiError('route_not_found', `No route for ${c.req.method} ${path}.`));
  };
}

export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new ApiError('auth_required');
  return principal;
}

/**
 * Requires a valid access token; with roles, also one of those roles (else 403).
 * The token is verified without I/O. The role in the token is only a first filter: the route's
 * first database call also checks, in the same round trip, that the user still has the role (any
 * role when none is named) and is not disabled or erased, and that the token's session (`sid`) was
 * not ended (src/db/role-check.ts), so a demotion, a disabled or a deleted account, a logout, an
 * ended session or a password change takes effect on the next request, not when the token expires.
 */
export function requireAuth(...roles: UserRole[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new ApiError('auth_required', 'Send an access token as `Authorization: Bearer <token>`.');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!match) throw new ApiError('invalid_token', 'The Authorization header must be `Bearer <token>`.');
    const deps = c.get('deps');
    const claims = await verifyAccessToken(match[1]!, deps.config.jwtSecret, deps.clock.now());
    c.set('principal', claims.sid === undefined ? { userId: claims.sub, role: claims.role } : { userId: claims.sub, role: claims.role, sessionId: claims.sid });
    if (roles.length > 0 && !roles.includes(claims.role)) {
      throw new ApiError('forbidden', `This endpoint requires one of the roles: ${roles.join(', ')}.`);
    }
    // With no roles named, any role passes: the check then refuses a disabled or erased account (DELETE /v1/me) at once.
    const session = claims.sid === undefined ? undefined : { id: claims.sid, at: deps.clock.now() };
    c.set('deps', { ...deps, database: roleCheckedDatabase(deps.database, claims.sub, roles.length > 0 ? roles : userRole.enumValues, session) });
    await next();
  };
}
