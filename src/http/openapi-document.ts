/**
 * The OpenAPI 3.1 document served at /openapi.json: what @hono/zod-openapi generates from the
 * routes, finished in one pass so that each class of defect is fixed once, for every operation
 * and every schema, including those added later:
 *
 * - Nullable compositions. zod-to-openapi emits a nullable registered schema as
 *   `allOf: [{$ref: X}, {type: [object, null]}]`, which no `null` satisfies (allOf needs both).
 *   Every composition whose null branch cannot accept null becomes `anyOf: [{$ref: X}, {type: 'null'}]`
 *   (openapi-typescript: `X | null`).
 * - Response headers. Every response carries `X-Request-Id` and `X-App-Version`
 *   (src/http/middleware.ts requestContext); every 429 and 503, and any response listing a code
 *   in RETRY_AFTER_CODES, `Retry-After`; every 401, `WWW-Authenticate`. Reused from `components.headers` by `$ref`.
 * - The problems every operation of a kind can answer (RFC 9457, `x-problem-codes` on each error
 *   response, the codes also in its description), merged with the ones the route declares with
 *   `problems(...)` (src/errors.ts):
 *   - a JSON body the app validates: 400 `malformed_json`, 415 `unsupported_media_type`, 422 `validation_failed`;
 *   - any method but GET/HEAD under /v1: 413 `payload_too_large` (src/app.ts body limit, with or without a body);
 *   - validated path, query or header parameters: 422 `validation_failed`;
 *   - `security`: 401 `auth_required`, `invalid_token`, `token_expired` (requireAuth);
 *   - `security` on /v1/admin/* or /v1/staff/* (role-restricted, the rule test/support/auth-coverage.ts
 *     enforces): 403 `forbidden`, also when the role was revoked since the token was issued (src/db/role-check.ts);
 *   - /v1 (the database): 503 `database_unavailable` (and `service_unavailable`: the Worker while its
 *     settings are invalid, src/worker.ts), and 422 `validation_failed` when it takes input
 *     (a value the database refuses: src/db/errors.ts);
 *   - every operation: 500 `internal_error`.
 *   404 `route_not_found` and 405 `method_not_allowed` (with `Allow`) answer requests that match
 *   no operation, so they are described in `info.description`, not on operations.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HeaderObject, OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { ERROR_STATUS, PROBLEM_CONTENT_TYPE, type ErrorCode } from '../errors.js';
import { RETRY_AFTER_CODES, problemDescription } from './problem-docs.js';

type Schema = SchemaObject | ReferenceObject | boolean;
/** A JSON value: the document is walked as plain JSON wherever schemas may nest. */
type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRef = (s: Schema): s is ReferenceObject => typeof s === 'object' && typeof (s as ReferenceObject).$ref === 'string';
const typesOf = (s: SchemaObject): string[] => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);

export const HEADER_COMPONENTS = {
  'X-Request-Id': {
    description:
      'The request’s id: the `X-Request-Id` the client sent when it is 8–128 of [A-Za-z0-9._:-], else a new one. Also the problem’s `requestId`; quote it when reporting a fault.',
    required: true,
    schema: { type: 'string', minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9._:-]{8,128}$', example: 'req_4b1e0c9f6a2d4c83' },
  },
  'X-App-Version': {
    description: 'The version of the server that answered (the release it was built from).',
    required: true,
    schema: { type: 'string', maxLength: 200, example: '2026.11.30-7b84198' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying (RFC 9110 §10.2.3), an integer of at least 1.',
    required: true,
    schema: { type: 'integer', format: 'int32', minimum: 1, example: 2 },
  },
  'WWW-Authenticate': {
    description:
      'The Bearer challenge every 401 carries (RFC 9110 §15.5.2, RFC 6750 §3): `Bearer realm="laundry"`, with `error="invalid_token"` when the access token sent was refused (malformed, bad signature, expired).',
    required: true,
    schema: { type: 'string', maxLength: 200, example: 'Bearer realm="laundry", error="invalid_token"' },
  },
  'Idempotent-Replayed': {
    description: '`true` when this answer is the stored answer to an earlier request with the same `Idempotency-Key` (nothing new was written); absent otherwise.',
    schema: { type: 'string', enum: ['true'] },
  },
} satisfies Record<string, HeaderObject>;

export type HeaderName = keyof typeof HEADER_COMPONENTS;

/** `$ref` to a header in `components.headers`. */
export function headerRef(name: HeaderName): { $ref: string } {
  return { $ref: `#/components/headers/${name}` };
}

/**
 * Operations under /v1 that never touch the database, with the reason, so they are not given
 * 503 `database_unavailable`. Empty today: every /v1 operation reads or writes it (the public
 * catalog on a cache miss, the webhook to apply each event once).
 */
export const NO_DATABASE: Readonly<Record<string, string>> = {};

/** What the registry knows about an operation that the generated document does not say: which parts the app validates. */
export interface OperationFacts {
  /** The JSON body is a zod schema, so the app parses and validates it (a raw body is not). */
  validatedBody: boolean;
  /** Path, query or header parameters are a zod schema, so the app validates them. */
  validatedParameters: boolean;
}

/** The codes every operation of its kind can answer (see the module comment). */
export function impliedProblems(method: string, path: string, op: OperationObject, facts: OperationFacts): ErrorCode[] {
  const codes: ErrorCode[] = ['internal_error'];
  const api = path.startsWith('/v1/');
  if (facts.validatedBody) codes.push('malformed_json', 'unsupported_media_type', 'validation_failed');
  if (api && !['get', 'head'].includes(method)) codes.push('payload_too_large');
  if (facts.validatedParameters) codes.push('validation_failed');
  const secured = Array.isArray(op.security) && op.security.length > 0;
  if (secured) codes.push('auth_required', 'invalid_token', 'token_expired');
  if (secured && /^\/v1\/(admin|staff)\//.test(path)) codes.push('forbidden');
  if (api && !(`${method.toUpperCase()} ${path}` in NO_DATABASE)) {
    // service_unavailable: the Worker answers so while its settings are invalid (src/worker.ts).
    codes.push('database_unavailable', 'service_unavailable');
    if (facts.validatedBody || facts.validatedParameters) codes.push('validation_failed');
  }
  return codes;
}

/** Whether `schema` accepts `null`, evaluating the keywords the generator emits ($ref, compositions, type, enum, const). */
export function acceptsNull(doc: OpenAPIObject, schema: Schema, seen: ReadonlySet<string> = new Set()): boolean {
  if (typeof schema === 'boolean') return schema;
  if (isRef(schema)) {
    if (seen.has(schema.$ref)) return false;
    return acceptsNull(doc, resolveRef(doc, schema.$ref), new Set([...seen, schema.$ref]));
  }
  if (schema.type !== undefined && !typesOf(schema).includes('null')) return false;
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) return false;
  if ('const' in schema && schema.const !== null) return false;
  if (schema.allOf && !schema.allOf.every((s) => acceptsNull(doc, s, seen))) return false;
  if (schema.anyOf && !schema.anyOf.some((s) => acceptsNull(doc, s, seen))) return false;
  if (schema.oneOf && schema.oneOf.filter((s) => acceptsNull(doc, s, seen)).length !== 1) return false;
  return true;
}

function resolveRef(doc: OpenAPIObject, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) node = isObject(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  if (!isObject(node) && typeof node !== 'boolean') throw new Error(`unresolvable $ref ${ref}`);
  return node;
}

const SCHEMA_META = new Set(['description', 'deprecated', 'example', 'examples', 'title', 'default', 'readOnly', 'writeOnly']);

/**
 * `allOf: [A, {type: [T, 'null'], …}]` → `anyOf: [A, {type: 'null'}]`: the branch meant to
 * allow null is the only one that does, so the intent ("A or null") is unambiguous. Metadata
 * (description, deprecated, example) moves to the outer schema; a branch that also constrains
 * (properties, …) keeps its constraints with its non-null types. Unchanged when not that shape.
 */
function fixNullableAllOf(doc: OpenAPIObject, node: JsonObject): JsonObject {
  const schema = node as SchemaObject;
  if (!Array.isArray(schema.allOf) || acceptsNull(doc, schema)) return node;
  const nullable = schema.allOf.filter((s) => typeof s === 'object' && !isRef(s) && typesOf(s).includes('null'));
  if (nullable.length === 0) return node;
  const meta: JsonObject = {};
  const rest: JsonValue[] = [];
  for (const branch of schema.allOf) {
    if (!nullable.includes(branch)) {
      rest.push(branch as JsonValue);
      continue;
    }
    const constraints: JsonObject = {};
    for (const [k, v] of Object.entries(branch as JsonObject)) {
      if (k === 'type') continue;
      if (SCHEMA_META.has(k)) meta[k] = v;
      else constraints[k] = v;
    }
    const types = typesOf(branch as SchemaObject).filter((t) => t !== 'null');
    if (Object.keys(constraints).length > 0) rest.push({ ...constraints, type: types.length === 1 ? types[0]! : types });
  }
  const { allOf: _allOf, ...outer } = node;
  const nonNull = rest.length === 1 ? rest[0]! : { allOf: rest };
  return { ...outer, ...meta, anyOf: [nonNull, { type: 'null' }] };
}

function fixSchemas(doc: OpenAPIObject, node: JsonValue): JsonValue {
  if (Array.isArray(node)) return node.map((n) => fixSchemas(doc, n));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = fixSchemas(doc, v);
  return fixNullableAllOf(doc, out);
}

type Responses = Record<string, ResponseObject>;

function mergeProblems(responses: Responses, codes: readonly ErrorCode[]): void {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of byStatus) {
    const existing = responses[status];
    // A hand-written error response without a body (`{ description }`) becomes the problem it is;
    // one with another body contradicts the problem the app sends.
    if (existing?.content && !existing.content[PROBLEM_CONTENT_TYPE]) {
      throw new Error(`status ${status} is declared as a non-problem response but the operation can also answer ${list.join(', ')}`);
    }
    const merged: ErrorCode[] = [...((existing?.['x-problem-codes'] as ErrorCode[] | undefined) ?? [])];
    for (const code of list) if (!merged.includes(code)) merged.push(code);
    responses[status] = {
      ...existing,
      content: existing?.content ?? { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
      description: problemDescription(status, merged),
      'x-problem-codes': merged,
    };
  }
}

function addHeaders(status: number, response: ResponseObject): void {
  const headers: NonNullable<ResponseObject['headers']> = { ...(response.headers ?? {}) };
  headers['X-Request-Id'] = headerRef('X-Request-Id');
  headers['X-App-Version'] = headerRef('X-App-Version');
  const codes = (response['x-problem-codes'] as ErrorCode[] | undefined) ?? [];
  if (status === 401) headers['WWW-Authenticate'] = headerRef('WWW-Authenticate');
  if (status === 429 || status === 503 || codes.some((c) => RETRY_AFTER_CODES.includes(c))) {
    const when = codes.filter((c) => RETRY_AFTER_CODES.includes(c));
    // Sent with every code of this response: the shared, required header; else say when.
    headers['Retry-After'] =
      when.length > 0 && when.length === codes.length
        ? headerRef('Retry-After')
        : {
            description: `Seconds to wait before retrying (RFC 9110 §10.2.3)${when.length > 0 ? `; sent with ${when.map((c) => `\`${c}\``).join(', ')}` : ', when known'}.`,
            required: false,
            schema: HEADER_COMPONENTS['Retry-After'].schema,
          };
  }
  response.headers = headers;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Finishes a generated document (see the module comment). `facts` is keyed `METHOD /path`
 * (OpenAPI path syntax); an operation missing from it is an error, so a route cannot slip past.
 */
export function finishDocument(generated: OpenAPIObject, facts: ReadonlyMap<string, OperationFacts>): OpenAPIObject {
  // The generator's output is JSON (no functions, no cycles): rewritten as such, read back typed.
  const doc = fixSchemas(generated, structuredClone(generated) as unknown as JsonValue) as unknown as OpenAPIObject;
  doc.components ??= {};
  doc.components.headers = { ...doc.components.headers, ...structuredClone(HEADER_COMPONENTS) };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const f = facts.get(key);
      if (!f) throw new Error(`no registry facts for ${key}`);
      // The generator inlines every response (no $ref), so each is a ResponseObject.
      const responses = (op.responses ?? {}) as Responses;
      mergeProblems(responses, impliedProblems(method, path, op, f));
      for (const [status, response] of Object.entries(responses)) addHeaders(Number(status), response);
      // Numeric order (200 before 400 before 503), as a reader scans them.
      op.responses = Object.fromEntries(Object.entries(responses).sort(([x], [y]) => Number(x) - Number(y)));
    }
  }
  return doc;
}

/** What the pass needs of the app: its route registry and the generator. */
export type DocumentSource = Pick<OpenAPIHono, 'openAPIRegistry' | 'getOpenAPI31Document'>;

function isZod(x: unknown): boolean {
  return !!x && typeof x === 'object' && '_zod' in x;
}

/** Which parts of each registered route the app validates, from the route definitions themselves. */
export function operationFacts(app: DocumentSource): Map<string, OperationFacts> {
  const facts = new Map<string, OperationFacts>();
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const { method, path, request } = def.route;
    const media = request?.body?.content?.['application/json'] as { schema?: unknown } | undefined;
    const schema = media?.schema;
    facts.set(`${method.toUpperCase()} ${path}`, {
      validatedBody: isZod(schema),
      validatedParameters: [request?.params, request?.query, request?.headers].some((p) => isZod(p)),
    });
  }
  return facts;
}

/**
 * The finished document's JSON text, built on first use and kept (the routes never change
 * after start-up), the same on Node and on the Worker.
 */
export function servedDocument(app: DocumentSource, config: Parameters<DocumentSource['getOpenAPI31Document']>[0]): () => string {
  let text: string | undefined;
  return () => (text ??= JSON.stringify(finishDocument(app.getOpenAPI31Document(config), operationFacts(app))));
}
