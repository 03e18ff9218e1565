import { describe, expect, it } from 'vitest';
import { apiClient, checkedFetcher } from '../support/client.js';
import { OpenApiValidator, type CheckedResponse } from '../support/openapi-validator.js';

/** A tiny document in the shape the app's is: a problem schema, a nullable composition, headers, codes. */
const doc = {
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/v1/things/{id}': {
      get: {
        responses: {
          '200': {
            description: 'ok',
            headers: {
              'X-Request-Id': { required: true, schema: { type: 'string', minLength: 1 } },
              ETag: { required: true, schema: { type: 'string' } },
              'Retry-After': { schema: { type: 'integer', minimum: 0 } },
            },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
          '404': {
            description: 'no such thing',
            headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } },
            'x-problem-codes': ['not_found'],
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      },
    },
    '/v1/things/mine': {
      get: { responses: { '204': { description: 'nothing', headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } } } } },
    },
  },
  components: {
    headers: { RequestId: { required: true, schema: { type: 'string' } } },
    schemas: {
      Thing: {
        type: 'object',
        required: ['id', 'at', 'price'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid' },
          at: { type: 'string', format: 'date-time' },
          price: { $ref: '#/components/schemas/Price' },
          final: { anyOf: [{ $ref: '#/components/schemas/Price' }, { type: 'null' }] },
        },
      },
      Price: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer', minimum: 0 } } },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string' } },
      },
    },
  },
};

const ID = '0b6f2a0e-5f0e-4a8e-9b1c-2f3a4b5c6d7e';
const thing = { id: ID, at: '2030-01-07T09:00:00Z', price: { amount: 100 }, final: null };
const problem = (code: string) => ({ type: `urn:laundry:problem:${code}`, title: 'Not found', status: 404, code });

function res(status: number, body: unknown, headers: Record<string, string> = {}): CheckedResponse {
  // Only the 200 of /v1/things/{id} declares ETag (required there).
  const h = new Headers({ 'x-request-id': 'r1', ...(status === 200 ? { etag: '"1"' } : {}), ...headers });
  if (body !== undefined && !h.has('content-type')) h.set('content-type', status >= 400 ? 'application/problem+json' : 'application/json; charset=UTF-8');
  return { status, headers: h, text: body === undefined ? '' : JSON.stringify(body) };
}

const v = () => new OpenApiValidator(structuredClone(doc));

describe('OpenApiValidator', () => {
  it('accepts a response that conforms, including null for a nullable composition', () => {
    expect(v().check('GET', `/v1/things/${ID}`, res(200, thing))).toEqual([]);
    expect(v().check('GET', `/v1/things/${ID}`, res(200, { ...thing, final: { amount: 5 } }, { 'retry-after': '3' }))).toEqual([]);
    expect(v().check('GET', `/v1/things/${ID}`, res(404, problem('not_found')))).toEqual([]);
  });

  it('matches a literal path segment before a template', () => {
    expect(v().matchPath('/v1/things/mine')).toBe('/v1/things/mine');
    expect(v().check('GET', '/v1/things/mine', res(204, undefined))).toEqual([]);
    expect(v().check('GET', '/v1/things/mine', res(204, thing))).toMatchObject([{ pointer: 'body' }]);
  });

  it('catches a status the operation does not document', () => {
    expect(v().check('GET', `/v1/things/${ID}`, res(409, problem('conflict')))).toMatchObject([
      { operation: 'GET /v1/things/{id}', status: 409, pointer: 'status', message: expect.stringContaining('409 is not documented') },
    ]);
  });

  it('catches a Content-Type the response does not document', () => {
    expect(v().check('GET', `/v1/things/${ID}`, res(200, thing, { 'content-type': 'text/plain' }))).toMatchObject([
      { pointer: 'content-type', message: expect.stringContaining('"text/plain" is not documented') },
    ]);
    expect(v().check('GET', `/v1/things/${ID}`, res(404, problem('not_found'), { 'content-type': 'application/json' }))).toMatchObject([
      { pointer: 'content-type' },
    ]);
  });

  it('catches a missing required header, directly declared or through a $ref, and a header against its schema', () => {
    const noEtag = res(200, thing);
    noEtag.headers.delete('etag');
    expect(v().check('GET', `/v1/things/${ID}`, noEtag)).toEqual([
      { operation: 'GET /v1/things/{id}', status: 200, pointer: 'header:etag', message: 'required header ETag is missing' },
    ]);
    const noId = res(404, problem('not_found'));
    noId.headers.delete('x-request-id');
    expect(v().check('GET', `/v1/things/${ID}`, noId).map((x) => x.pointer)).toContain('header:x-request-id');
    expect(v().check('GET', `/v1/things/${ID}`, res(200, thing, { 'retry-after': '-1' }))).toMatchObject([{ pointer: 'header:retry-after' }]);
  });

  it('catches a header a client acts on that is sent but not declared on that response', () => {
    // Retry-After is declared on the 200 here, not on the 404; Idempotent-Replayed on neither.
    expect(v().check('GET', `/v1/things/${ID}`, res(200, thing, { 'retry-after': '5' }))).toEqual([]);
    expect(v().check('GET', `/v1/things/${ID}`, res(404, problem('not_found'), { 'retry-after': '5' }))).toMatchObject([
      { pointer: 'header:retry-after', message: 'retry-after is sent but not declared on this response' },
    ]);
    expect(v().check('GET', `/v1/things/${ID}`, res(200, thing, { 'idempotent-replayed': 'true' }))).toMatchObject([{ pointer: 'header:idempotent-replayed' }]);
  });

  it('catches a body against its schema: null where forbidden, a bad date-time, a bad uuid, an extra field', () => {
    const check = (body: unknown) => v().check('GET', `/v1/things/${ID}`, res(200, body));
    expect(check({ ...thing, price: null })).toMatchObject([{ pointer: '/price', message: expect.stringContaining('"null" is invalid') }]);
    expect(check({ ...thing, at: '2030-01-07 09:00' })).toMatchObject([{ pointer: '/at', message: expect.stringContaining('date-time') }]);
    expect(check({ ...thing, id: 'nope' })).toMatchObject([{ pointer: '/id', message: expect.stringContaining('uuid') }]);
    expect(check({ ...thing, final: { amount: -1 } })).toMatchObject([{ pointer: '/final', message: expect.stringContaining('/final/amount') }]);
    expect(check({ ...thing, extra: 1 }).map((x) => x.pointer)).toContain('/extra');
    expect(v().check('GET', `/v1/things/${ID}`, { ...res(200, thing), text: '{not json' })).toMatchObject([{ pointer: 'body' }]);
  });

  it('catches a problem code that is not in x-problem-codes', () => {
    expect(v().check('GET', `/v1/things/${ID}`, res(404, problem('thing_gone')))).toMatchObject([
      { pointer: '/code', message: expect.stringContaining('"thing_gone" is not in x-problem-codes') },
    ]);
  });

  it('checks responses outside the document: problems against Problem, router codes, listed paths', () => {
    expect(v().check('GET', '/nowhere', res(404, problem('route_not_found')))).toEqual([]);
    expect(v().check('GET', '/nowhere', res(404, problem('not_found')))).toMatchObject([{ pointer: '/code' }]);
    expect(v().check('GET', '/nowhere', res(404, { code: 'route_not_found' }))).toContainEqual(
      expect.objectContaining({ pointer: '', message: 'Instance does not have required property "type".' }),
    );
    expect(v().check('DELETE', `/v1/things/${ID}`, res(405, { ...problem('method_not_allowed'), status: 405 }))).toEqual([]);
    expect(v().check('GET', '/metrics', { status: 200, headers: new Headers({ 'x-request-id': 'r', 'content-type': 'text/plain' }), text: 'up 1' })).toEqual([]);
    expect(v().check('GET', '/secret', { status: 200, headers: new Headers({ 'x-request-id': 'r' }), text: 'hi' })).toMatchObject([{ pointer: 'status' }]);
  });
});

describe('apiClient validation modes', () => {
  const fetcherAnswering = (status: number, body: unknown) => async (request: Request) => {
    if (new URL(request.url).pathname === '/openapi.json') return Response.json(doc);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'x-request-id': 'r', etag: '"1"' } });
  };

  it('strict throws naming the operation, status, pointer and message', async () => {
    const api = apiClient(fetcherAnswering(200, { ...thing, at: 'yesterday' }), undefined, { validation: 'strict' });
    await expect(api.get(`/v1/things/${ID}`)).rejects.toThrow(/GET \/v1\/things\/\{id\} → 200 at \/at: String does not match format "date-time"/);
  });

  it('report collects every violation without failing, and names the test', async () => {
    const seen: unknown[] = [];
    const api = apiClient(fetcherAnswering(200, { ...thing, price: null }), undefined, { validation: 'report', report: (x) => seen.push(x) });
    const r = await api.get(`/v1/things/${ID}`);
    expect(r.status).toBe(200);
    expect(seen).toMatchObject([{ operation: 'GET /v1/things/{id}', pointer: '/price', method: 'GET', path: `/v1/things/${ID}`, test: expect.stringContaining('report collects') }]);
  });

  it('an opt-out needs a reason', async () => {
    const api = apiClient(fetcherAnswering(418, {}), undefined, { validation: 'strict' });
    await expect(api.get(`/v1/things/${ID}`)).rejects.toThrow(/418 is not documented/);
    await expect(api.get(`/v1/things/${ID}`, { undocumented: ' ' })).rejects.toThrow(/needs a reason/);
    expect((await api.get(`/v1/things/${ID}`, { undocumented: 'a teapot on purpose' })).status).toBe(418);
  });

  it('checkedFetcher checks what a client with its own fetch receives, and returns the body unread', async () => {
    const strict = checkedFetcher(fetcherAnswering(200, { ...thing, at: 'yesterday' }), undefined, { validation: 'strict' });
    await expect(strict(new Request(`http://laundry.test/v1/things/${ID}`))).rejects.toThrow(/→ 200 at \/at: String does not match format "date-time"/);
    const ok = checkedFetcher(fetcherAnswering(200, thing), undefined, { validation: 'strict' });
    expect(await (await ok(new Request(`http://laundry.test/v1/things/${ID}`))).json()).toEqual(thing);
  });
});
