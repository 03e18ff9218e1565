/**
 * The Node server answers a cached GET /v1/services ahead of the router (src/http/fast-catalog.ts,
 * src/platform/node/catalog-first.ts). Each request here is sent to two servers over the same
 * deps: one with the fast path (as src/platform/node/server.ts wires it), one without (the
 * router's answer). Status, body, every header but what the socket adds, the access line and
 * the HTTP metric must be the same; and the fast path must really have answered (counted).
 */
import { serve, type ServerType } from '@hono/node-server';
import { createServer, type RequestListener, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_LISTS } from '../../src/app.js';
import { cachedCatalogAnswer, type CatalogRequest } from '../../src/http/fast-catalog.js';
import { SAFE_REQUEST_ID, baseHeaders } from '../../src/http/middleware.js';
import type { LogFields } from '../../src/logger.js';
import type { MemoryMetrics } from '../../src/metrics/memory.js';
import { catalogFirst } from '../../src/platform/node/catalog-first.js';
import { AppServerResponse } from '../../src/platform/node/server-response.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { headersOf as headersExcept } from '../support/response-headers.js';

const SOCKET_ONLY = new Set(['date', 'connection', 'keep-alive']);
const ORIGINS = 'https://app.example,https://admin.example';

let t: TestApp;
let servers: ServerType[] = [];
let fastUrl: string;
let routerUrl: string;
let fastAnswers = 0;

const listen = (fast: boolean) =>
  new Promise<string>((ready) => {
    const answer = cachedCatalogAnswer(t.deps, baseHeaders({ corsOrigins: ORIGINS.split(','), ...CORS_LISTS }));
    const counted = async (req: CatalogRequest) => {
      const a = await answer(req);
      if (a) fastAnswers++;
      return a;
    };
    const create = ((options: ServerOptions, listener: RequestListener) => createServer(options, catalogFirst(counted, listener))) as typeof createServer;
    const serverOptions = { ServerResponse: AppServerResponse };
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', serverOptions, ...(fast ? { createServer: create } : {}) }, (info: AddressInfo) =>
      ready(`http://127.0.0.1:${info.port}`),
    );
    servers.push(s);
  });

beforeAll(async () => {
  t = await createTestApp({ env: { CORS_ORIGINS: ORIGINS, APP_VERSION: 'fast-catalog-1' } });
  fastUrl = await listen(true);
  routerUrl = await listen(false);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => {
    s.close(done);
    (s as { closeAllConnections?: () => void }).closeAllConnections?.();
  })));
  servers = [];
  await t.close();
});

const headersOf = (res: Response) => headersExcept(res, SOCKET_ONLY);

/** The last access line and HTTP metric, without what differs by nature (time, duration; the request id when fresh). */
function lastRecord(sameId: boolean) {
  const line = { ...t.logger.entries.filter((e) => e.msg === 'request').at(-1)! } as LogFields;
  const keys = Object.keys(line);
  delete line.time;
  delete line.durationMs;
  if (!sameId) delete line.requestId;
  const metric = { ...(t.metrics as MemoryMetrics).events.filter((e) => e.name === 'http_request').at(-1)! } as Record<string, unknown>;
  delete metric.durationMs;
  return { line, keys, metric };
}

async function both(path: string, headers: Record<string, string> = {}) {
  const sameId = SAFE_REQUEST_ID.test(headers['x-request-id'] ?? '');
  const before = fastAnswers;
  const fast = await fetch(`${fastUrl}${path}`, { headers });
  const fastBody = await fast.text();
  const fastRecord = lastRecord(sameId);
  const answeredFast = fastAnswers > before;
  const router = await fetch(`${routerUrl}${path}`, { headers });
  const routerBody = await router.text();
  const routerRecord = lastRecord(sameId);
  const [f, r] = [headersOf(fast), headersOf(router)];
  if (!sameId) {
    expect(f['x-request-id']).toMatch(/^req_[0-9a-f]{16}$/);
    expect(r['x-request-id']).toMatch(/^req_[0-9a-f]{16}$/);
    delete f['x-request-id'];
    delete r['x-request-id'];
  }
  return { fast: { status: fast.status, body: fastBody, headers: f, ...fastRecord }, router: { status: router.status, body: routerBody, headers: r, ...routerRecord }, answeredFast };
}

describe('the cached catalog ahead of the router (Node)', () => {
  let etag = '';
  beforeAll(async () => {
    // The first read fills the cache (through the router: the fast path answers only hits).
    const first = await both('/v1/services');
    expect(first.answeredFast).toBe(false);
    expect(first.fast.status).toBe(200);
    etag = first.fast.headers.etag!;
  });

  const cases: Array<[string, string, Record<string, string>?, (200 | 304)?]> = [
    ['a plain GET', '/v1/services'],
    ['a GET with a safe request id', '/v1/services', { 'x-request-id': 'req-fast-catalog-0001' }],
    ['a GET with an unsafe request id', '/v1/services', { 'x-request-id': 'bad id' }],
    ['a listed origin', '/v1/services', { origin: 'https://admin.example' }],
    ['an unlisted origin', '/v1/services', { origin: 'https://evil.example' }],
    ['If-None-Match: the current tag (304)', '/v1/services', { 'if-none-match': 'ETAG' }, 304],
    ['If-None-Match: a weak form of it in a list (304)', '/v1/services', { 'if-none-match': '"nope", W/ETAG' }, 304],
    ['If-None-Match: *', '/v1/services', { 'if-none-match': '*' }, 304],
    ['If-None-Match: another tag', '/v1/services', { 'if-none-match': '"another"' }, 200],
  ];
  for (const [name, path, headers = {}, status = 200] of cases) {
    it(`${name}: the same answer, access line and metric as the router's, from the fast path`, async () => {
      const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('ETAG', etag)]));
      const r = await both(path, h);
      expect(r.answeredFast).toBe(true);
      expect(r.fast.status).toBe(status);
      expect(r.fast).toEqual(r.router);
      expect(r.fast.headers['x-app-version']).toBe('fast-catalog-1');
      expect(r.fast.headers.etag).toBe(etag);
      expect(r.fast.line).toMatchObject({ level: 'info', msg: 'request', method: 'GET', route: '/v1/services', status });
    });
  }

  const declined: Array<[string, string, Record<string, string>?]> = [
    ['a query string', '/v1/services?lang=en'],
    ['an If-None-Match the schema refuses (422)', '/v1/services', { 'if-none-match': 'x'.repeat(3000) }],
    ['another path', '/v1/services/'],
  ];
  for (const [name, path, headers] of declined) {
    it(`${name}: left to the router, with the same answer`, async () => {
      // A fixed request id: problems carry it in their body.
      const r = await both(path, { 'x-request-id': 'req-fast-catalog-0002', ...headers });
      expect(r.answeredFast).toBe(false);
      expect(r.fast).toEqual(r.router);
    });
  }

  it('a catalog edit is seen at once: the next read misses the cache and goes through the router', async () => {
    const { invalidateCatalog } = await import('../../src/modules/catalog/cache.js');
    await invalidateCatalog(t.deps, `${fastUrl}/v1/services`);
    const r = await both('/v1/services');
    expect(r.answeredFast).toBe(false);
    expect(r.fast.status).toBe(200);
    expect((await both('/v1/services')).answeredFast).toBe(true);
  });
});
