/**
 * The headers every answer carries reach the client the same way on the Node server, where the
 * middleware hands them to the socket's response (src/platform/node/server-response.ts) instead of
 * a Fetch Headers object, as through `app.fetch` (Workers, tests), where `c.header` sets them.
 * Each request is made both ways and the header sets compared, except what only a socket adds
 * (Date, Connection, Keep-Alive, Content-Length, Transfer-Encoding).
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppServerResponse } from '../../src/platform/node/server-response.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { headersOf as headersExcept } from '../support/response-headers.js';

const SOCKET_ONLY = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

let t: TestApp;
let servers: ServerType[] = [];
let viaSink: string;
let viaPlainServer: string;

const listen = (withSink: boolean) =>
  new Promise<string>((ready) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', ...(withSink ? { serverOptions: { ServerResponse: AppServerResponse } } : {}) }, (info: AddressInfo) =>
      ready(`http://127.0.0.1:${info.port}`),
    );
    servers.push(s);
  });

beforeAll(async () => {
  t = await createTestApp({ env: { CORS_ORIGINS: 'https://app.example,https://admin.example', APP_VERSION: 'headers-test-1' } });
  viaSink = await listen(true);
  viaPlainServer = await listen(false);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  servers = [];
  await t.close();
});

const headersOf = (res: Response) => headersExcept(res, SOCKET_ONLY);

async function bothWays(path: string, init: RequestInit = {}) {
  const headers = { 'x-request-id': 'req-headers-test-0001', ...(init.headers as Record<string, string> | undefined) };
  const inProcess = await t.app.fetch(new Request(`http://local${path}`, { ...init, headers }));
  const server = await fetch(`${viaSink}${path}`, { ...init, headers });
  const plain = await fetch(`${viaPlainServer}${path}`, { ...init, headers });
  const [a, b, c] = [await inProcess.text(), await server.text(), await plain.text()];
  expect(server.status).toBe(inProcess.status);
  expect(b).toBe(a);
  expect(c).toBe(a);
  return { status: server.status, app: headersOf(inProcess), server: headersOf(server), plain: headersOf(plain) };
}

describe('response headers on the Node server', () => {
  const cases: Array<[string, string, RequestInit?]> = [
    ['the catalog', '/v1/services'],
    ['the catalog from a listed origin', '/v1/services', { headers: { origin: 'https://admin.example' } }],
    ['the catalog from an unlisted origin', '/v1/services', { headers: { origin: 'https://evil.example' } }],
    ['a route whose answer adds Vary: Authorization', '/v1/coverage?postcode=ZZ1%201ZZ', { headers: { origin: 'https://app.example' } }],
    ['health', '/healthz'],
    ['a problem (404)', '/v1/nothing-here'],
    ['a 405 with Allow', '/v1/services', { method: 'DELETE' }],
    ['a preflight', '/v1/orders', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } }],
    ['a request id that is not safe to echo', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } }],
  ];
  for (const [name, path, init] of cases) {
    it(`${name}: the same headers through the server's response as through app.fetch`, async () => {
      const r = await bothWays(path, init);
      if (init?.headers && 'x-request-id' in (init.headers as object)) {
        // A fresh id each time: only its shape can match.
        for (const h of [r.app, r.server, r.plain]) expect(h['x-request-id']).toMatch(/^req_[0-9a-f]{16}$/);
        for (const h of [r.app, r.server, r.plain]) delete h['x-request-id'];
      }
      expect(r.server).toEqual(r.app);
      expect(r.plain).toEqual(r.app);
      expect(r.server['x-app-version']).toBe('headers-test-1');
      expect(r.server['x-content-type-options']).toBe('nosniff');
    });
  }

  it('keeps both Vary values: the CORS one and the route’s own', async () => {
    const r = await bothWays('/v1/coverage?postcode=ZZ1%201ZZ');
    expect(r.server.vary).toBe('Origin, Authorization');
  });

  it('a 304 repeats the tag and the cache rule, with the same headers', async () => {
    const etag = (await bothWays('/v1/services')).server.etag!;
    const r = await bothWays('/v1/services', { headers: { 'if-none-match': etag } });
    expect(r.status).toBe(304);
    expect(r.server).toEqual(r.app);
    expect(r.server.etag).toBe(etag);
  });
});
