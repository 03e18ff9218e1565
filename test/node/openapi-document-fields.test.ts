/**
 * The field-level promises of /openapi.json (issue 14, "an exact document"), checked on the
 * document the app serves, so the next operation or field that breaks one fails here:
 * - every operation has a unique camelCase `operationId` that follows the naming rule
 *   (README, "Operation ids"): audience prefix from the path, then a verb from a fixed list;
 * - every request string (body, query, path, header) has `maxLength`, every request array
 *   `maxItems`, every request number `minimum` and `maximum`, every request integer a `format`
 *   (`int32` within PostgreSQL `integer`, what the app stores; `int64` only in Stripe's event);
 * - in responses, a string property named `…At` is `format: date-time`, one named `date`/`…Date`
 *   `format: date`, `id`/`…Id` `format: uuid` (but for the few ids other systems issue, and a
 *   notification's sequence id: decimal text with SEQUENCE_ID_PATTERN), `email`
 *   `format: email`, and every integer is `format: int32`.
 * The checks run first on a copy with one field broken of each kind, so none can pass vacuously.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { INT4_MAX, INT4_MIN } from '../../src/http/schemas.js';
import { openApiDocument } from '../../tools/openapi/document.js';
import { operations, type Schema } from '../support/openapi-walk.js';

/** Verbs an operationId may start with (after its audience prefix), by HTTP method. */
const VERBS: Record<string, readonly string[]> = {
  GET: ['get', 'list'],
  POST: ['create', 'cancel', 'approve', 'transition', 'weighIn', 'capture', 'record', 'waive', 'generate', 'handle', 'register', 'login', 'logout', 'refresh', 'mark', 'change', 'reschedule'],
  PUT: ['register'],
  PATCH: ['update'],
  DELETE: ['delete'],
};

/** Ids issued by other systems (Stripe) or by the request (X-Request-Id), not UUIDs. */
const FOREIGN_IDS = new Set(['paymentIntentId', 'customerId', 'requestId']);

/**
 * The one id that is not a UUID: an outbox row's (notification_outbox.id, a bigint identity),
 * answered as decimal text with exactly this pattern (src/modules/notifications/schemas.ts).
 */
const SEQUENCE_ID_PATTERN = '^[1-9][0-9]{0,17}$';

const CAMEL_CASE = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$/;

function audienceOf(path: string): 'admin' | 'staff' | '' {
  if (path.startsWith('/v1/admin/')) return 'admin';
  if (path.startsWith('/v1/staff/')) return 'staff';
  return '';
}

/** Why an operationId breaks the rule, or null. */
function operationIdProblem(method: string, path: string, id: unknown): string | null {
  if (typeof id !== 'string') return 'has no operationId';
  if (!CAMEL_CASE.test(id)) return `operationId ${id} is not camelCase`;
  const audience = audienceOf(path);
  if (audience && !id.startsWith(audience)) return `operationId ${id} must start with "${audience}" (the path is under /v1/${audience}/)`;
  if (!audience && /^(admin|staff)[A-Z]/.test(id)) return `operationId ${id} starts with an audience its path does not have`;
  const rest = audience ? id.slice(audience.length) : id;
  const verbs = VERBS[method] ?? [];
  const verb = verbs.find((v) => rest.toLowerCase().startsWith(v.toLowerCase()) && (rest.length === v.length || /[A-Z]/.test(rest[v.length]!)));
  if (!verb) return `operationId ${id} must start with one of the ${method} verbs: ${verbs.join(', ')}`;
  return null;
}

function resolve(doc: Schema, schema: Schema): Schema {
  let s = schema;
  while (s && typeof s.$ref === 'string') s = doc.components.schemas[s.$ref.replace('#/components/schemas/', '')];
  return s;
}

const typesOf = (s: Schema): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

/** Calls `visit` on every schema reachable from `schema` (compositions, items, properties), with the property name it sits under. */
function walk(doc: Schema, schema: Schema, where: string, visit: (s: Schema, where: string, name: string | undefined) => void, name?: string, seen = new Set<Schema>()): void {
  const s = resolve(doc, schema);
  if (!s || typeof s !== 'object' || seen.has(s)) return;
  const next = new Set(seen).add(s);
  visit(s, where, name);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) for (const b of s[key] ?? []) walk(doc, b, where, visit, name, next);
  if (s.items) walk(doc, s.items, `${where}[]`, visit, name, next);
  for (const [prop, sub] of Object.entries<Schema>(s.properties ?? {})) walk(doc, sub, `${where}.${prop}`, visit, prop, next);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(doc, s.additionalProperties, `${where}.*`, visit, undefined, next);
}

/** Every bound a request schema lacks. */
function requestProblems(doc: Schema, schema: Schema, where: string): string[] {
  const out: string[] = [];
  walk(doc, schema, where, (s, at) => {
    const types = typesOf(s);
    const closed = s.enum !== undefined || s.const !== undefined;
    if (types.includes('string') && !closed && typeof s.maxLength !== 'number') out.push(`${at}: string without maxLength`);
    if (types.includes('array') && typeof s.maxItems !== 'number') out.push(`${at}: array without maxItems`);
    if ((types.includes('integer') || types.includes('number')) && !closed) {
      if (typeof s.minimum !== 'number' || typeof s.maximum !== 'number') out.push(`${at}: number without minimum and maximum`);
    }
    if (types.includes('integer') && !closed) {
      if (s.format !== 'int32' && s.format !== 'int64') out.push(`${at}: integer without format int32 or int64`);
      if (s.format === 'int32' && (s.minimum < INT4_MIN || s.maximum > INT4_MAX)) out.push(`${at}: int32 bounds beyond PostgreSQL integer`);
    }
  });
  return out;
}

/** Every format a response schema lacks, by the rules of the file comment. */
function responseProblems(doc: Schema, schema: Schema, where: string): string[] {
  const out: string[] = [];
  walk(doc, schema, where, (s, at, name) => {
    const types = typesOf(s);
    if (types.includes('integer') && s.format !== 'int32') out.push(`${at}: integer without format int32`);
    if (!types.includes('string') || !name || s.enum !== undefined || s.const !== undefined) return;
    const want = /At$/.test(name)
      ? 'date-time'
      : /^date$|Date$/.test(name)
        ? 'date'
        : (name === 'id' || /Id$/.test(name)) && !FOREIGN_IDS.has(name)
          ? 'uuid'
          : name === 'email'
            ? 'email'
            : undefined;
    if (want === 'uuid' && name === 'id' && s.format === undefined && s.pattern === SEQUENCE_ID_PATTERN) return;
    if (want && s.format !== want) out.push(`${at}: format ${s.format ?? '(none)'}, want ${want}`);
  });
  return out;
}

/** All violations of the document, one line each. */
function documentProblems(doc: Schema): string[] {
  const out: string[] = [];
  const ids = new Map<string, string>();
  for (const o of operations(doc)) {
    const idProblem = operationIdProblem(o.method, o.path, o.op.operationId);
    if (idProblem) out.push(`${o.key}: ${idProblem}`);
    const id: unknown = o.op.operationId;
    if (typeof id === 'string') {
      if (ids.has(id)) out.push(`${o.key}: operationId ${id} is also ${ids.get(id)}'s`);
      ids.set(id, o.key);
    }
    for (const p of o.parameters) out.push(...requestProblems(doc, p.schema, `${o.key} ${p.in}.${p.name}`));
    for (const [type, media] of Object.entries<Schema>(o.op.requestBody?.content ?? {})) {
      out.push(...requestProblems(doc, media.schema ?? {}, `${o.key} body(${type})`));
    }
    for (const [status, response] of Object.entries<Schema>(o.op.responses ?? {})) {
      for (const [type, media] of Object.entries<Schema>(resolve(doc, response).content ?? {})) {
        out.push(...responseProblems(doc, media.schema ?? {}, `${o.key} ${status}(${type})`));
      }
    }
  }
  return out;
}

let doc: Schema;
beforeAll(async () => {
  doc = await openApiDocument();
});

describe('the checks', () => {
  it('catch one broken field of each kind', () => {
    const broken = structuredClone(doc);
    const schemas = broken.components.schemas;
    const listOrders = broken.paths['/v1/orders'].get;
    listOrders.operationId = 'ordersList';
    broken.paths['/v1/orders/{id}'].get.operationId = 'createOrder';
    delete broken.paths['/v1/admin/zones'].get.operationId;
    delete schemas.CreateAddressRequest.properties.city.maxLength;
    delete schemas.CreateZoneRequest.properties.postcodePrefixes.maxItems;
    delete schemas.CreateSlotRequest.properties.capacity.maximum;
    schemas.RefundRequest.properties.amount.maximum = 2 ** 31;
    delete listOrders.parameters.find((p: Schema) => p.name === 'cursor').schema.maxLength;
    delete listOrders.parameters.find((p: Schema) => p.name === 'limit').schema.format;
    delete schemas.Address.properties.createdAt.format;
    delete schemas.Closure.properties.date.format;
    delete schemas.Address.properties.id.format;
    delete schemas.User.properties.email.format;
    delete schemas.Zone.properties.deliveryFee.format;
    delete schemas.Notification.properties.id.pattern;

    const problems = documentProblems(broken).join('\n');
    for (const expected of [
      'GET /v1/orders: operationId ordersList must start with one of the GET verbs',
      'GET /v1/orders/{id}: operationId createOrder must start with one of the GET verbs',
      "operationId createOrder is also POST /v1/orders's",
      'GET /v1/admin/zones: has no operationId',
      '.city: string without maxLength',
      '.postcodePrefixes: array without maxItems',
      '.capacity: number without minimum and maximum',
      '.amount: int32 bounds beyond PostgreSQL integer',
      'GET /v1/orders query.cursor: string without maxLength',
      'GET /v1/orders query.limit: integer without format int32 or int64',
      '.createdAt: format (none), want date-time',
      '.date: format (none), want date',
      '.id: format (none), want uuid',
      '.email: format (none), want email',
      '.deliveryFee: integer without format int32',
      'GET /v1/me/notifications 200(application/json).data[].id: format (none), want uuid',
    ]) {
      expect(problems).toContain(expected);
    }
  });

  it('follow the naming rule on paths with and without an audience', () => {
    expect(operationIdProblem('POST', '/v1/admin/zones', 'adminCreateZone')).toBeNull();
    expect(operationIdProblem('POST', '/v1/admin/zones', 'createZone')).toMatch(/must start with "admin"/);
    expect(operationIdProblem('GET', '/v1/orders', 'staffListOrders')).toMatch(/audience its path does not have/);
    expect(operationIdProblem('GET', '/v1/orders', 'list_orders')).toMatch(/not camelCase/);
    expect(operationIdProblem('PATCH', '/v1/addresses/{id}', 'updateAddress')).toBeNull();
    expect(operationIdProblem('PATCH', '/v1/addresses/{id}', 'getAddress')).toMatch(/PATCH verbs: update/);
    expect(operationIdProblem('GET', '/v1/orders', 'listingOrders')).toMatch(/GET verbs/);
  });
});

describe('/openapi.json', () => {
  it('has a unique camelCase operationId on every operation, bounds on every request field and formats in every response', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(44);
    const problems = documentProblems(doc);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
