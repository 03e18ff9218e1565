/**
 * GET /v1/services answered from the cached catalog ahead of the router: the Node server's
 * cheapest answer (src/platform/node/catalog-first.ts wires it), which through the router paid
 * for a Fetch Request, Hono's context, routing and the middleware chain (issue 16: the app's
 * catalog at 60% of the hand-wired node:http ceiling; the budget is 70%).
 *
 * It answers exactly what the router path answers for the same request — the same status, body,
 * headers (security, CORS, X-Request-Id, X-App-Version, ETag, Cache-Control, Content-Type), the
 * same access line through the request's logger and the same HTTP metric (recordRequest) —
 * and only when that answer cannot be anything else: a GET of exactly `/v1/services` (no query),
 * a plain Host, an If-None-Match the route's schema accepts (else the router's 422), and a fresh
 * cache entry (a miss reads the database: the router does that, with its error handling).
 * Otherwise it returns undefined before any side effect, and the router takes the request.
 * test/node/fast-catalog.test.ts compares both paths on the same requests.
 */
import type { Deps } from '../deps.js';
import { CATALOG_CACHE_CONTROL, catalogHit } from '../modules/catalog/cache.js';
import { ServicesConditionalHeaders } from '../modules/catalog/schemas.js';
import { ifNoneMatchHits } from './conditional.js';
import { recordRequest, requestIdOf, type BaseHeaders } from './middleware.js';

export const CATALOG_PATH = '/v1/services';

/** The parts of a request the fast path reads (headers by lower-case name, duplicates joined by `, ` as Fetch does). */
export interface CatalogRequest {
  method: string | undefined;
  /** The request target as sent (`/v1/services`, `/v1/services?x=1`). */
  target: string | undefined;
  header(name: 'host' | 'x-request-id' | 'origin' | 'if-none-match'): string | undefined;
}

export interface CatalogAnswer {
  status: 200 | 304;
  /** Every header of the answer but those the socket adds (Date, Connection, Keep-Alive). */
  headers: Record<string, string>;
  /** Undefined with 304. */
  body: string | undefined;
}

/** A Host @hono/node-server takes into the URL as it is (its own check), so the cache key's origin is the router's. */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/**
 * The fast path for one app: `answer(req)` resolves to the answer, already logged and counted,
 * or to undefined when the router must answer. One cache lookup; no database round trip.
 */
export function cachedCatalogAnswer(deps: Deps, base: BaseHeaders): (req: CatalogRequest) => Promise<CatalogAnswer | undefined> {
  const appVersion = deps.config.appVersion;
  return async (req) => {
    const started = performance.now();
    const host = req.header('host');
    if (req.method !== 'GET' || req.target !== CATALOG_PATH || host === undefined || !PLAIN_HOST.test(host)) return undefined;
    const ifNoneMatch = req.header('if-none-match');
    if (ifNoneMatch !== undefined && !ServicesConditionalHeaders.safeParse({ 'if-none-match': ifNoneMatch }).success) return undefined;
    const hit = await catalogHit(deps, `http://${host}${CATALOG_PATH}`);
    if (!hit) return undefined;
    const requestId = requestIdOf(req.header('x-request-id'));
    const headers: Record<string, string> = { 'X-Request-Id': requestId, 'X-App-Version': appVersion };
    for (const [name, value] of base.fixed) headers[name] = value;
    const listed = base.readsOrigin ? base.allowOrigin(req.header('origin')) : undefined;
    if (listed) headers['Access-Control-Allow-Origin'] = listed;
    headers.ETag = hit.etag;
    headers['Cache-Control'] = CATALOG_CACHE_CONTROL;
    const notModified = ifNoneMatchHits(ifNoneMatch, hit.etag);
    if (!notModified) headers['Content-Type'] = 'application/json';
    const status = notModified ? 304 : 200;
    const logger = deps.logger.child({ requestId });
    recordRequest(deps, logger, { method: 'GET', route: CATALOG_PATH, status, durationMs: performance.now() - started, userId: undefined });
    return { status, headers, body: notModified ? undefined : hit.json };
  };
}
