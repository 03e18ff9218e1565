/**
 * /openapi.json is exact (issue 14): walks the served document and fails on the next instance of
 * each class of defect it once had. No composition whose null branch rejects null; every response
 * documents X-Request-Id (and X-App-Version), every 429 and 503 Retry-After; every error response
 * lists its problem codes (`x-problem-codes`, each a code of ERROR_STATUS with that status, also in
 * the description); every /v1 operation answers 503 `database_unavailable`, every method but GET
 * under /v1 413, every secured one 401, every staff/admin one 403, every JSON body 400/415/422;
 * the webhook declares Stripe-Signature and its body; Idempotency-Key states its rule.
 * The second half adds faulty routes to a copy of the app and shows the finishing pass
 * (src/http/openapi-document.ts) covers them without their authors doing anything.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Handler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { DomainError } from '../../src/domain/errors.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_MIN_LENGTH, validateIdempotencyKey } from '../../src/domain/idempotency.js';
import { ERROR_STATUS, type ErrorCode } from '../../src/errors.js';
import { createRouter, type AppEnv } from '../../src/http/context.js';
import { requireAuth } from '../../src/http/middleware.js';
import { NO_DATABASE } from '../../src/http/openapi-document.js';
import { jsonBody } from '../../src/http/validation.js';
import { apiClient } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { operations, type Schema } from '../support/openapi-walk.js';

let t: TestApp;
let doc: Schema;

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.api.get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as Schema;
});
afterAll(async () => {
  await t?.close();
});

/** Non-problem error answers, each with why (the readiness probe answers its own JSON). */
const NOT_PROBLEMS: Record<string, string> = {
  'GET /readyz 503': 'a ReadinessSchema body: load balancers read `status` and `checks`, not a problem',
};

function deref(d: Schema, node: Schema): Schema {
  let s = node;
  for (let i = 0; s && typeof s.$ref === 'string'; i++) {
    if (i > 20) throw new Error(`$ref loop at ${node.$ref}`);
    s = s.$ref.slice(2).split('/').reduce((n: Schema | undefined, k: string) => n?.[k], d) as Schema;
    if (!s) throw new Error(`unresolvable ${node.$ref}`);
  }
  return s;
}

/**
 * Whether a JSON Schema (the keywords the generator emits) admits `null`. Written here, not
 * imported from the pass it checks, so a bug there is not a bug here too.
 */
function admitsNull(d: Schema, s: Schema | boolean): boolean {
  if (typeof s === 'boolean') return s;
  if (s.$ref && !admitsNull(d, deref(d, { $ref: s.$ref }))) return false;
  if (s.type !== undefined && !([] as unknown[]).concat(s.type).includes('null')) return false;
  if (Array.isArray(s.enum) && !s.enum.includes(null)) return false;
  if ('const' in s && s.const !== null) return false;
  if (s.allOf && !s.allOf.every((b: Schema) => admitsNull(d, b))) return false;
  if (s.anyOf && !s.anyOf.some((b: Schema) => admitsNull(d, b))) return false;
  if (s.oneOf && s.oneOf.filter((b: Schema) => admitsNull(d, b)).length !== 1) return false;
  return true;
}

/** A schema that says null is meant: `type` lists null, or a branch of a composition does. */
function meansNull(s: Schema): boolean {
  if (([] as unknown[]).concat(s.type ?? []).includes('null')) return true;
  return ['allOf', 'anyOf', 'oneOf'].some((k) => (s[k] ?? []).some((b: Schema) => meansNull(b)));
}

/** Every schema object in the document, with where it is. */
function* schemas(node: unknown, at: string): Generator<[string, Schema]> {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) yield* schemas(n, `${at}/${i}`);
    return;
  }
  const s = node as Schema;
  if ('type' in s || 'allOf' in s || 'anyOf' in s || 'oneOf' in s || '$ref' in s) yield [at, s];
  for (const [k, v] of Object.entries(s)) if (k !== 'example' && k !== 'examples') yield* schemas(v, `${at}/${k}`);
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** Every way `d` breaks the rules of this file, one line each. */
function documentViolations(d: Schema): string[] {
  const out: string[] = [];
  for (const [at, s] of schemas(d, '#')) {
    // A composition that means null (some branch allows it) must admit it as a whole.
    if ((s.allOf || s.anyOf || s.oneOf) && meansNull(s) && !admitsNull(d, s)) out.push(`${at}: a null branch that rejects null: ${JSON.stringify(s).slice(0, 160)}`);
    // …and keep a non-null branch, so `X | null` does not collapse to `null`.
    for (const k of ['anyOf', 'oneOf'] as const) {
      if (s[k] && s[k].every((b: Schema) => b.type === 'null')) out.push(`${at}: ${k} with only null`);
    }
  }
  for (const o of operations(d)) {
    const { key, op, method, path } = o;
    if (!METHODS.has(method.toLowerCase())) continue;
    const codesAt = (status: number): ErrorCode[] => op.responses?.[status]?.['x-problem-codes'] ?? [];
    const needs = (status: number, ...codes: ErrorCode[]) => {
      for (const code of codes) if (!codesAt(status).includes(code)) out.push(`${key}: ${status} does not list ${code}`);
    };
    for (const [status, response] of Object.entries<Schema>(op.responses ?? {})) {
      const r = deref(d, response);
      const where = `${key} ${status}`;
      const headers: Record<string, Schema> = Object.fromEntries(Object.entries<Schema>(r.headers ?? {}).map(([n, h]) => [n.toLowerCase(), deref(d, h)]));
      for (const name of ['x-request-id', 'x-app-version']) {
        if (!headers[name]?.required || headers[name]?.schema?.type !== 'string') out.push(`${where}: no required ${name} header`);
      }
      const n = Number(status);
      if ((n === 429 || n === 503) && deref(d, headers['retry-after']?.schema ?? {}).type !== 'integer') out.push(`${where}: no integer Retry-After header`);
      if (n < 400) continue;
      if (!r.content?.['application/problem+json']) {
        if (!(where in NOT_PROBLEMS)) out.push(`${where}: an error response that is not application/problem+json`);
        continue;
      }
      const codes: unknown = r['x-problem-codes'];
      if (!Array.isArray(codes) || codes.length === 0) {
        out.push(`${where}: no x-problem-codes`);
        continue;
      }
      for (const code of codes as string[]) {
        if (ERROR_STATUS[code as ErrorCode] !== n) out.push(`${where}: ${code} is not a ${n} code of ERROR_STATUS`);
        if (!String(r.description).includes(`\`${code}\``)) out.push(`${where}: the description does not name ${code}`);
      }
      if (codes.some((c) => ['too_many_attempts', 'busy', 'database_unavailable', 'payment_in_progress'].includes(c as string)) && !headers['retry-after']) {
        out.push(`${where}: a code that sends Retry-After, but no Retry-After header`);
      }
    }
    const api = path.startsWith('/v1/');
    if (api && !(key in NO_DATABASE)) needs(503, 'database_unavailable');
    if (api && method !== 'GET') needs(413, 'payload_too_large');
    if ((op.security ?? []).length > 0) needs(401, 'auth_required', 'invalid_token', 'token_expired');
    if ((op.security ?? []).length > 0 && /^\/v1\/(admin|staff)\//.test(path)) needs(403, 'forbidden');
    if (o.body) {
      needs(400, 'malformed_json');
      needs(415, 'unsupported_media_type');
      needs(422, 'validation_failed');
    }
    if (o.parameters.length > 0) needs(422, 'validation_failed');
  }
  return out;
}

describe('/openapi.json', () => {
  it('has no defect of any class this file knows', () => {
    expect(documentViolations(doc)).toEqual([]);
    // A walk that found nothing to check must not pass.
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(35);
    expect(ops.filter((o) => o.op.responses?.['503']).length).toBeGreaterThanOrEqual(30);
  });

  it('the checks fail on the defects they exist for', () => {
    const broken = structuredClone(doc);
    broken.components.schemas.Order.properties.final = {
      allOf: [{ $ref: '#/components/schemas/PriceBreakdown' }, { type: ['object', 'null'], description: 'as zod-to-openapi emitted it' }],
    };
    const create = broken.paths['/v1/orders'].post;
    delete create.responses['201'].headers['X-Request-Id'];
    delete create.responses['503'].headers['Retry-After'];
    create.responses['409']['x-problem-codes'].push('validation_failed');
    delete create.responses['413'];
    expect(documentViolations(broken)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^#\/components\/schemas\/Order\/properties\/final: a null branch that rejects null/),
        'POST /v1/orders 201: no required x-request-id header',
        'POST /v1/orders 503: no integer Retry-After header',
        'POST /v1/orders 409: validation_failed is not a 409 code of ERROR_STATUS',
        'POST /v1/orders: 413 does not list payload_too_large',
      ]),
    );
  });

  it('nullable references admit null and keep their object: Order.final is PriceBreakdown or null', () => {
    const final = doc.components.schemas.Order.properties.final;
    expect(admitsNull(doc, final)).toBe(true);
    expect(final.anyOf).toContainEqual({ $ref: '#/components/schemas/PriceBreakdown' });
    expect(final.description).toMatch(/weigh-in/);
    // Every property that means null admits it (enums list null, refs are anyOf'd).
    const failures: string[] = [];
    for (const [at, s] of schemas(doc, '#')) if (meansNull(s) && !admitsNull(doc, s)) failures.push(at);
    expect(failures).toEqual([]);
  });

  it('every problem code an operation lists is reachable as its status, and the 400 says more than "bad JSON"', () => {
    const create = doc.paths['/v1/orders'].post;
    expect(create.responses['400']['x-problem-codes']).toEqual(expect.arrayContaining(['malformed_json', 'idempotency_key_missing', 'idempotency_key_invalid']));
    expect(create.responses['201'].headers['Idempotent-Replayed']).toEqual({ $ref: '#/components/headers/Idempotent-Replayed' });
    const webhook = doc.paths['/v1/webhooks/stripe'].post;
    expect(webhook.responses['400']['x-problem-codes']).toEqual(['invalid_signature']);
    expect(doc.paths['/v1/auth/login'].post.responses['503']['x-problem-codes']).toEqual(expect.arrayContaining(['busy', 'database_unavailable']));
    expect(doc.paths['/v1/auth/login'].post.responses['429'].headers['Retry-After']).toEqual({ $ref: '#/components/headers/Retry-After' });
  });

  it('the webhook declares Stripe-Signature (required) and the Stripe Event it receives', () => {
    const webhook = doc.paths['/v1/webhooks/stripe'].post;
    const signature = webhook.parameters.find((p: Schema) => p.in === 'header' && p.name.toLowerCase() === 'stripe-signature');
    expect(signature).toMatchObject({ required: true, schema: { type: 'string' } });
    const body = webhook.requestBody;
    expect(body.required).toBe(true);
    const event = body.content['application/json'].schema;
    expect(event.required).toEqual(expect.arrayContaining(['id', 'type', 'created', 'data']));
    expect(event.properties.data.properties.object.type).toBe('object');
    expect(event.additionalProperties).toBe(true);
  });

  it('Idempotency-Key states the rule the handler enforces', () => {
    const key = doc.paths['/v1/orders'].post.parameters.find((p: Schema) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
    expect(key).toMatchObject({ required: true, schema: { minLength: IDEMPOTENCY_KEY_MIN_LENGTH, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH } });
    const pattern = new RegExp(key.schema.pattern as string, 'u');
    const fits = (v: string) => v.length >= key.schema.minLength && v.length <= key.schema.maxLength && pattern.test(v);
    const accepted = (v: string) => {
      try {
        validateIdempotencyKey(v);
        return true;
      } catch (err) {
        if (err instanceof DomainError) return false;
        throw err;
      }
    };
    for (const v of ['order-2026-11-28-7f3a9c', 'a:b.c_d-e', 'k'.repeat(8), 'k'.repeat(7), 'k'.repeat(255), 'k'.repeat(256), 'has space1', 'ümlaut-key', 'slash/key/1']) {
      expect([v.slice(0, 12), fits(v)]).toEqual([v.slice(0, 12), accepted(v)]);
    }
  });

  it('deprecated fields are marked', () => {
    expect(doc.components.schemas.Order.properties.flaggedReason.deprecated).toBe(true);
    expect(doc.components.schemas.PaymentSheet.properties.ephemeralKey.deprecated).toBe(true);
  });

  it('is built once and served the same each time, cacheable', async () => {
    const a = await t.api.get('/openapi.json');
    const b = await t.api.get('/openapi.json');
    expect(a.text).toBe(b.text);
    expect(a.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

/* A new route gets the implied problems and headers without its author doing anything. */
const answerOk: Handler<AppEnv> = (c) => c.json({ ok: true }, 200);
const Thing = z.object({ name: z.string().max(10) }).openapi('TestThing');
const newRoutes = createRouter().openapi(
  createRoute({
    method: 'post',
    path: '/v1/admin/things/{id}',
    tags: ['Admin: catalog'],
    security: [{ bearerAuth: [] }],
    middleware: [requireAuth('admin')],
    request: { params: z.object({ id: z.uuid() }), body: jsonBody(z.object({ name: z.string().max(10) })) },
    responses: {
      200: { description: 'Done.', content: { 'application/json': { schema: z.object({ thing: Thing.nullable(), other: Thing.nullable().optional() }) } } },
    },
  }),
  answerOk,
);

describe('the finishing pass covers routes added later', () => {
  it('a route that declares no errors and a nullable reference passes every check', async () => {
    const app = createApp(t.deps);
    app.route('/', newRoutes);
    const res = await apiClient((request) => Promise.resolve(app.fetch(request))).get('/openapi.json');
    const d = res.body as Schema;
    expect(documentViolations(d)).toEqual([]);
    const op = d.paths['/v1/admin/things/{id}'].post;
    for (const [status, code] of [
      [400, 'malformed_json'],
      [401, 'auth_required'],
      [403, 'forbidden'],
      [413, 'payload_too_large'],
      [415, 'unsupported_media_type'],
      [422, 'validation_failed'],
      [500, 'internal_error'],
      [503, 'database_unavailable'],
    ] as const) {
      expect(op.responses[status]['x-problem-codes']).toContain(code);
    }
    const shape = op.responses['200'].content['application/json'].schema;
    expect(admitsNull(d, shape.properties.thing)).toBe(true);
  });
});
