/**
 * Every path in /openapi.json answers a method it does not declare with 405 and an `Allow`
 * listing exactly what it declares (+ HEAD with GET, + OPTIONS), answers a preflight, and a
 * path that does not exist gets 404 for every method, OPTIONS included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** `/v1/orders/{id}` → a concrete path (any id: 405 is decided before the handler runs). */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '0b3c1f4e-8a2d-4c6b-9e7f-1a2b3c4d5e6f');

describe('methods per path, from the OpenAPI document', () => {
  it('a method a path does not declare is 405 with Allow; OPTIONS is a preflight with the same list', async () => {
    const doc = (await t.api.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(doc.paths);
    expect(paths.length).toBeGreaterThan(20);
    for (const [path, item] of paths) {
      const declared = METHODS.filter((m) => m.toLowerCase() in item);
      expect(declared.length, path).toBeGreaterThan(0);
      const expected = [...declared, ...(declared.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].sort();
      const url = concrete(path);
      for (const method of METHODS.filter((m) => !declared.includes(m))) {
        const res = await t.api.send(method, url);
        expectProblem(res, 405, 'method_not_allowed');
        expect(res.headers.get('allow')?.split(', ').sort(), `${method} ${path}`).toEqual(expected);
      }
      const preflight = await t.api.send('OPTIONS', url, undefined, { headers: { origin: 'https://app.example', 'access-control-request-method': declared[0]! } });
      expect(preflight.status, `OPTIONS ${path}`).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')?.split(',').sort(), path).toEqual(expected);
    }
  });

  it('a path that does not exist is 404 for every method, OPTIONS included', async () => {
    for (const path of ['/v1/nope', '/v1/orders/x/nope', '/nope', '/v1', '/v1/orders/', '/healthz/']) { // a trailing slash is another path, as the router sees it
      for (const method of [...METHODS, 'OPTIONS']) expectProblem(await t.api.send(method, path), 404, 'route_not_found');
    }
  });

  it('HEAD answers wherever GET does, with no body', async () => {
    for (const path of ['/healthz', '/v1/services', '/openapi.json']) {
      const res = await t.api.send('HEAD', path);
      expect(res.status, path).toBe(200);
      expect(res.text).toBe('');
    }
  });
});
