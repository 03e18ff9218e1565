import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import type { Harness } from '../support/harness.js';

/** Health, docs, request ids, headers and unknown routes; runs on Node and inside workerd. */
export function platformJourney(harness: () => Harness) {
  describe('platform', () => {
    it('liveness touches nothing; readiness checks the database', async () => {
      const { api } = harness();
      const live = await api.get('/healthz');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok' });
      const ready = await api.get('/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', checks: { database: { status: 'ok' } } });
    });

    it('serves an OpenAPI 3.1 document generated from the routes, and the docs page', async () => {
      const { api } = harness();
      const doc = await api.get('/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toBe('3.1.0');
      for (const path of ['/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/me', '/v1/services', '/v1/admin/services', '/v1/admin/services/{id}', '/healthz', '/readyz']) {
        expect(doc.body.paths, path).toHaveProperty([path]);
      }
      expect(doc.body.paths['/v1/admin/services'].post.responses).toHaveProperty(['403']);
      const createOrder = doc.body.paths['/v1/orders'].post;
      expect(createOrder.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'idempotency-key', in: 'header', required: true })]));
      expect(Object.keys(createOrder.responses).sort()).toEqual(['201', '400', '401', '404', '409', '413', '415', '422', '500', '503']);
      expect(doc.body.components.schemas).toHaveProperty(['Problem']);
      // The finished document (src/http/openapi-document.ts) on this runtime too: nullable refs
      // admit null, every response names X-Request-Id, problems list their codes.
      expect(doc.body.components.schemas.Order.properties.final.anyOf).toEqual([{ $ref: '#/components/schemas/PriceBreakdown' }, { type: 'null' }]);
      expect(createOrder.responses['201'].headers['X-Request-Id']).toEqual({ $ref: '#/components/headers/X-Request-Id' });
      expect(createOrder.responses['503']['x-problem-codes']).toEqual(expect.arrayContaining(['database_unavailable']));
      const docs = await api.get('/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toContain('text/html');
      expect(docs.text).toContain('/openapi.json');
    });

    it('echoes a sane X-Request-Id, replaces an unsafe one, and sets security headers', async () => {
      const { api } = harness();
      const mine = await api.get('/healthz', { headers: { 'x-request-id': 'client-abc-12345' } });
      expect(mine.headers.get('x-request-id')).toBe('client-abc-12345');
      const unsafe = await api.get('/healthz', { headers: { 'x-request-id': 'bad id\twith spaces' } });
      expect(unsafe.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{16}$/);
      expect(mine.headers.get('x-content-type-options')).toBe('nosniff');
      expect(mine.headers.get('x-frame-options')).toBe('DENY');
      expect(mine.headers.get('strict-transport-security')).toMatch(/^max-age=\d+; includeSubDomains$/);
      expect(mine.headers.get('vary')).toBeNull(); // CORS_ORIGINS=* here: the answer does not depend on Origin
      expect(mine.headers.get('x-app-version')).toBeTruthy();
    });

    it('answers unknown routes with a 404 problem, and a wrong method on a real path with 405 and Allow', async () => {
      const { api } = harness();
      expectProblem(await api.get('/v1/nope'), 404, 'route_not_found');
      expectProblem(await api.send('OPTIONS', '/v1/nope', undefined, { headers: { 'access-control-request-method': 'GET' } }), 404, 'route_not_found');
      const wrong = await api.send('DELETE', '/v1/services');
      expectProblem(wrong, 405, 'method_not_allowed');
      expect(wrong.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      const head = await api.send('HEAD', '/v1/services');
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
    });

    it('answers CORS preflight from the configured origins', async () => {
      const { api } = harness();
      const res = await api.send('OPTIONS', '/v1/services', undefined, {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,OPTIONS');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    });

    it('lets a browser send every request header the document declares and read every response header it declares', async () => {
      const { api } = harness();
      const doc = (await api.get('/openapi.json')).body as {
        paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
      };
      const requestHeaders = new Set<string>();
      const responseHeaders = new Set<string>();
      for (const ops of Object.values(doc.paths)) {
        for (const op of Object.values(ops)) {
          for (const p of op.parameters ?? []) if (p.in === 'header') requestHeaders.add(p.name.toLowerCase());
          for (const r of Object.values(op.responses)) for (const h of Object.keys(r.headers ?? {})) responseHeaders.add(h.toLowerCase());
        }
      }
      const preflight = await api.send('OPTIONS', '/v1/services', undefined, {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });
      const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      // Stripe-Signature comes from Stripe's servers, never from a browser.
      expect([...requestHeaders].filter((h) => h !== 'stripe-signature' && !allowed.includes(h))).toEqual([]);
      const res = await api.get('/v1/services', { headers: { origin: 'https://app.example' } });
      const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      // CORS-safelisted response headers (Fetch standard) are readable without being exposed.
      const safelisted = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'];
      expect([...responseHeaders].filter((h) => !safelisted.includes(h) && !exposed.includes(h))).toEqual([]);
    });
  });
}
