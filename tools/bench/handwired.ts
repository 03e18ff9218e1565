/**
 * The Node section's second ceiling for GET /v1/services: the app's middleware written by hand on
 * `node:http`, serving the catalog bytes the app served (read at start from HANDWIRED_CATALOG, a
 * JSON file the bench writes). What a lean Node stack costs per request for the same answer:
 * - the same response headers (security, CORS with the same origin rule and Vary, X-Request-Id,
 *   X-App-Version, ETag, Cache-Control, Content-Type, Content-Length) and a 304 on a matching
 *   If-None-Match;
 * - the same request-id rules (src/http/middleware.ts: an incoming X-Request-Id kept when safe,
 *   else a fresh `req_` id);
 * - the same JSON access line (keys and order of src/logger.ts's, through the same buffered
 *   stdout sink), at `info`;
 * - the same prom-client counter and histogram (names, labels, buckets) in its own registry.
 * No router, no Fetch Request/Response, no Headers objects. Run as a child process:
 *   PORT=… HANDWIRED_CATALOG=bench/tmp/handwired-catalog.json node --import tsx tools/bench/handwired.ts
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { SAFE_REQUEST_ID, newRequestId } from '../../src/http/middleware.js';
import { HTTP_DURATION_BUCKETS } from '../../src/metrics/prometheus.js';
import { bufferedStdout } from '../../src/platform/node/log-sink.js';

/** What the bench read from the app's own GET /v1/services (tools/bench/node.ts). */
export interface HandwiredCatalog {
  body: string;
  etag: string;
  cacheControl: string;
  appVersion: string;
  corsOrigins: string[];
  exposeHeaders: string;
}

const catalog = JSON.parse(readFileSync(process.env.HANDWIRED_CATALOG ?? '', 'utf8')) as HandwiredCatalog;
const body = Buffer.from(catalog.body);
const route = '/v1/services';
const anyOrigin = catalog.corsOrigins.includes('*');
const origins = new Set(catalog.corsOrigins);

const fixed: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Access-Control-Expose-Headers': catalog.exposeHeaders,
  ...(anyOrigin ? { 'Access-Control-Allow-Origin': '*' } : { Vary: 'Origin' }),
  'X-App-Version': catalog.appVersion,
  ETag: catalog.etag,
  'Cache-Control': catalog.cacheControl,
};

const registry = new Registry();
const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered.', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from the request entering the app to the response being ready.',
  labelNames: ['method', 'route'] as const,
  buckets: HTTP_DURATION_BUCKETS,
  registers: [registry],
});
const counted = new Map<string, Counter.Internal>();
const timed = new Map<string, Histogram.Internal<'method' | 'route'>>();

const sink = bufferedStdout();
const base = `","level":"info","msg":"request","runtime":"node","version":${JSON.stringify(catalog.appVersion)},"requestId":`;

createServer((req, res) => {
  const started = performance.now();
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : newRequestId();
  const found = req.method === 'GET' && req.url?.split('?', 1)[0] === route;
  const status = !found ? 404 : req.headers['if-none-match'] === catalog.etag ? 304 : 200;
  const headers: Record<string, string | number> = { ...fixed, 'X-Request-Id': requestId };
  const origin = req.headers.origin;
  if (!anyOrigin && origin !== undefined && origins.has(origin)) headers['Access-Control-Allow-Origin'] = origin;
  if (status === 200) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = body.byteLength;
  }
  res.writeHead(status, headers);
  res.end(status === 200 ? body : undefined);
  const ms = performance.now() - started;
  const label = found ? route : 'unmatched';
  // The line as src/logger.ts writes it: time, level, msg, the base fields (runtime, version,
  // requestId), then the access fields (version and runtime again keep their first place;
  // userId is left out when anonymous).
  sink(
    `{"time":"${new Date().toISOString()}${base}${JSON.stringify(requestId)},"method":${JSON.stringify(req.method)},"route":${JSON.stringify(label)},"status":${status},"durationMs":${Math.round(ms * 100) / 100}}`,
  );
  const method = req.method ?? 'OTHER';
  const key = `${method} ${label} ${status}`;
  let c = counted.get(key);
  if (!c) counted.set(key, (c = requests.labels(method, label, String(status))));
  c.inc();
  let h = timed.get(`${method} ${label}`);
  if (!h) timed.set(`${method} ${label}`, (h = duration.labels(method, label)));
  h.observe(ms / 1000);
}).listen(Number(process.env.PORT), '127.0.0.1');
