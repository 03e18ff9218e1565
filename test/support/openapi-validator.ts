import { dereference, validate, type OutputUnit, type Schema } from '@cfworker/json-schema';

/**
 * Checks an HTTP response against an OpenAPI 3.1 document: the status is documented for the
 * operation (or a `default`), the Content-Type is one of its media types, its required headers
 * are there (and every declared header that is present matches its schema), the body is valid
 * against the schema (JSON Schema 2020-12, formats asserted), and a problem's `code` is one of
 * the response's `x-problem-codes` when the document lists them.
 *
 * Runs unchanged on Node and inside workerd: @cfworker/json-schema interprets schemas (no
 * `new Function`/eval, which workerd forbids), so both runtimes judge the same way.
 * The document's `$ref`s (`#/components/...`) resolve within the document itself.
 */

export interface Violation {
  /** `GET /v1/orders/{id}`, or `GET /metrics (undocumented)` for a path outside the document. */
  operation: string;
  status: number;
  /** JSON pointer into the body (`/items/0/price`, `` for the body itself), or `header:x-request-id`, `content-type`, `status`, `body`. */
  pointer: string;
  message: string;
}

export interface CheckedResponse {
  status: number;
  headers: Headers;
  /** The raw body text. */
  text: string;
}

type Doc = Record<string, any>;

/**
 * Paths the app serves that are not operations in the document, on purpose. Their responses
 * are still checked: a problem body must be a valid `Problem`, and X-Request-Id is present.
 */
export const UNDOCUMENTED_PATHS: ReadonlyArray<{ path: string; prefix?: boolean; reason: string }> = [
  { path: '/openapi.json', reason: 'the document itself (an OpenAPI document does not describe its own URL)' },
  { path: '/docs', reason: 'the Swagger UI page for humans (HTML)' },
  { path: '/docs/', prefix: true, reason: 'the Swagger UI page’s own scripts and styles (served offline, with ETag/304)' },
  { path: '/metrics', reason: 'Prometheus text exposition for the scraper, not part of the client API' },
];

/** The problem codes the router answers itself for a request that is not an operation. */
const ROUTER_PROBLEMS: Record<number, string> = { 404: 'route_not_found', 405: 'method_not_allowed' };

const BASE = 'https://laundry.test/openapi.json';

interface CompiledPath {
  template: string;
  pattern: RegExp;
  /** Literal segments win over templated ones (`/v1/orders/mine` before `/v1/orders/{id}`). */
  literals: number;
}

/**
 * Headers a client acts on (when to retry, what to revalidate, whether a write was replayed):
 * a response that sends one must declare it, or generated clients never learn it exists.
 */
export const CONTRACT_HEADERS: readonly string[] = ['retry-after', 'etag', 'idempotent-replayed', 'allow', 'location'];

export class OpenApiValidator {
  private readonly lookup: Record<string, Schema | boolean>;
  private readonly paths: CompiledPath[];

  constructor(private readonly doc: Doc) {
    if (typeof doc?.openapi !== 'string' || !doc.openapi.startsWith('3.1')) {
      throw new Error(`not an OpenAPI 3.1 document (openapi: ${JSON.stringify(doc?.openapi)})`);
    }
    // Every subschema gets its absolute URI (BASE#/components/schemas/X, …), so `$ref`s resolve.
    this.lookup = dereference(doc as Schema, Object.create(null), new URL(BASE));
    this.paths = Object.keys(doc.paths ?? {})
      .map((template) => {
        const segments = template.split('/');
        const source = segments
          .map((seg) => (/^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')))
          .join('/');
        return { template, pattern: new RegExp(`^${source}$`), literals: segments.filter((s) => !s.startsWith('{')).length };
      })
      .sort((a, b) => b.literals - a.literals);
  }

  /** The path template a concrete path matches, if any. */
  matchPath(pathname: string): string | undefined {
    return this.paths.find((p) => p.pattern.test(pathname))?.template;
  }

  /** All violations of one response to `method pathname` (an empty list when it conforms). */
  check(method: string, pathname: string, res: CheckedResponse): Violation[] {
    const out: Violation[] = [];
    const m = method.toUpperCase();
    const template = this.matchPath(pathname);
    // HEAD is answered by the GET handler without a body (RFC 9110 §9.3.2).
    const opMethod = m === 'HEAD' ? 'get' : m.toLowerCase();
    const operation = template ? this.doc.paths[template][opMethod] : undefined;
    if (!operation) {
      this.checkUndocumented(m, pathname, template, res, out);
      return out;
    }
    const name = `${m} ${template}`;
    const add = (pointer: string, message: string) => out.push({ operation: name, status: res.status, pointer, message });

    const responses: Record<string, any> = operation.responses ?? {};
    const key = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key) {
      add('status', `status ${res.status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
      this.checkProblemShape(res, add);
      return out;
    }
    const response = this.deref(responses[key]);
    this.checkHeaders(response, res, add);
    this.checkContent(response, res, m === 'HEAD', add);
    return out;
  }

  private checkUndocumented(m: string, pathname: string, template: string | undefined, res: CheckedResponse, out: Violation[]) {
    const listed = UNDOCUMENTED_PATHS.some((p) => (p.prefix ? pathname.startsWith(p.path) : p.path === pathname));
    const name = `${m} ${template ?? pathname} (undocumented)`;
    const add = (pointer: string, message: string) => out.push({ operation: name, status: res.status, pointer, message });
    if (!res.headers.get('x-request-id')) add('header:x-request-id', 'X-Request-Id is missing');
    if (m === 'OPTIONS') return; // a CORS preflight (Fetch standard), answered on every real path: no body
    const isProblem = mediaType(res) === 'application/problem+json';
    if (res.status >= 400 || isProblem) {
      this.checkProblemShape(res, add);
      if (!listed && ROUTER_PROBLEMS[res.status] === undefined && res.status < 500) {
        add('status', `a path outside the document answered ${res.status}; expected 404 route_not_found or 405 method_not_allowed`);
      }
      const expected = ROUTER_PROBLEMS[res.status];
      if (!listed && expected && isProblem && (parseJson(res.text) as { code?: unknown } | undefined)?.code !== expected) {
        add('/code', `expected code ${expected}`);
      }
      return;
    }
    if (!listed) add('status', `${m} ${pathname} is not an operation in the document and not a listed undocumented path, yet answered ${res.status}`);
  }

  /** Any error response must at least be an RFC 9457 problem with the document's `Problem` schema. */
  private checkProblemShape(res: CheckedResponse, add: (pointer: string, message: string) => void) {
    if (res.status < 400) return;
    if (mediaType(res) !== 'application/problem+json') {
      add('content-type', `an error response must be application/problem+json, got ${JSON.stringify(res.headers.get('content-type'))}`);
      return;
    }
    const schema = this.doc.components?.schemas?.Problem;
    if (!schema) {
      add('#/components/schemas/Problem', 'the document has no Problem schema');
      return;
    }
    this.checkBody(schema, res.text, add);
  }

  private checkHeaders(response: Doc, res: CheckedResponse, add: (pointer: string, message: string) => void) {
    if (!res.headers.get('x-request-id')) add('header:x-request-id', 'X-Request-Id is missing');
    const declared = new Set(Object.keys(response.headers ?? {}).map((h) => h.toLowerCase()));
    for (const name of CONTRACT_HEADERS) {
      if (res.headers.has(name) && !declared.has(name)) add(`header:${name}`, `${name} is sent but not declared on this response`);
    }
    for (const [headerName, raw] of Object.entries<Doc>(response.headers ?? {})) {
      const header = this.deref(raw);
      const value = res.headers.get(headerName);
      if (value === null) {
        if (header.required) add(`header:${headerName.toLowerCase()}`, `required header ${headerName} is missing`);
        continue;
      }
      if (!header.schema) continue;
      const schema = this.resolveSchema(header.schema);
      const types = ([] as string[]).concat(schema.type ?? []);
      const instance = (types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      for (const e of this.validate(header.schema, instance)) add(`header:${headerName.toLowerCase()}`, `${JSON.stringify(value)}: ${e.error}`);
    }
  }

  private checkContent(response: Doc, res: CheckedResponse, head: boolean, add: (pointer: string, message: string) => void) {
    const content: Record<string, Doc> | undefined = response.content;
    if (!content || Object.keys(content).length === 0) {
      if (res.text !== '') add('body', `no content is documented for ${res.status}, but the body is not empty`);
      return;
    }
    if (head) return;
    const type = mediaType(res);
    const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === type) ?? Object.keys(content).find((k) => matchesRange(k, type));
    if (!mediaKey) {
      add('content-type', `Content-Type ${JSON.stringify(res.headers.get('content-type'))} is not documented (documented: ${Object.keys(content).join(', ')})`);
      return;
    }
    const media = content[mediaKey]!;
    if (!media.schema) return;
    if (!/[/+]json$/.test(mediaKey)) {
      const schema = this.resolveSchema(media.schema);
      if (schema.type === 'string' || schema.type === undefined) {
        for (const e of this.validate(media.schema, res.text)) add(pointerOf(e), e.error);
      }
      return;
    }
    const body = this.checkBody(media.schema, res.text, add);
    const codes: unknown = response['x-problem-codes'];
    if (Array.isArray(codes) && body && typeof body === 'object' && 'code' in body && !codes.includes((body as { code: unknown }).code)) {
      add('/code', `problem code ${JSON.stringify((body as { code: unknown }).code)} is not in x-problem-codes [${codes.join(', ')}]`);
    }
  }

  private checkBody(schema: Schema, text: string, add: (pointer: string, message: string) => void): unknown {
    const body = parseJson(text);
    if (body === undefined) {
      add('body', `the body is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
      return undefined;
    }
    for (const e of this.validate(schema, body)) add(pointerOf(e), e.error);
    return body;
  }

  /** The leaf errors (those that say what is wrong, not just "a subschema failed"). */
  private validate(schema: Schema, instance: unknown): OutputUnit[] {
    if (!(schema as { __absolute_uri__?: string }).__absolute_uri__) {
      // A schema outside the document (a header's inline schema is inside it; this is for tests).
      dereference(schema, this.lookup, new URL(BASE));
    }
    const result = validate(instance, schema, '2020-12', this.lookup, false);
    if (result.valid) return [];
    return leafErrors(result.errors);
  }

  private deref(obj: Doc): Doc {
    let o = obj;
    for (let i = 0; o && typeof o.$ref === 'string' && i < 20; i++) {
      const target = pointerGet(this.doc, o.$ref);
      if (!target) throw new Error(`unresolvable ${o.$ref}`);
      o = target;
    }
    return o;
  }

  private resolveSchema(schema: Schema): Doc {
    return this.deref(schema as Doc);
  }
}

function mediaType(res: CheckedResponse): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** `text/*` or `*\/*` media ranges in `content` (OpenAPI 3.1 §4.8.14). */
function matchesRange(range: string, type: string): boolean {
  if (range === '*/*') return type !== '';
  const [r, sub] = range.toLowerCase().split('/');
  return sub === '*' && type.startsWith(`${r}/`);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Keywords whose error only says "a subschema failed"; the subschema's own error says what. */
const SUMMARY = new Set(['properties', 'patternProperties', 'items', 'prefixItems', '$ref', 'allOf', 'dependentSchemas', 'then', 'else', 'contains']);

/**
 * One line per thing wrong: summaries dropped, and an `anyOf`/`oneOf` failure folded with its
 * branches' reasons (`[A, null]`: "format date-time; type null") into one line at its location.
 */
function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inUnion = (e: OutputUnit) => unions.some((u) => u !== e && e.keywordLocation.startsWith(`${u.keywordLocation}/`));
  const out: OutputUnit[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (SUMMARY.has(e.keyword) || inUnion(e)) continue;
    let error = e.error;
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const reasons = errors.filter((c) => c !== e && !SUMMARY.has(c.keyword) && c.keywordLocation.startsWith(`${e.keywordLocation}/`)).map((c) => `${pointerOf(c) || '(body)'}: ${c.error}`);
      error = `${e.error} (${[...new Set(reasons)].join('; ')})`;
    }
    const k = `${e.instanceLocation}|${error}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ ...e, error });
  }
  return out.length > 0 ? out : errors;
}

/** `#/properties/a` → the value at that JSON pointer in the document (RFC 6901). */
function pointerGet(doc: Doc, ref: string): Doc | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let cur: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur?.[key];
  }
  return cur as Doc | undefined;
}

/** cfworker reports `#/items/0`; a JSON pointer is `/items/0` (the body itself is ``). */
function pointerOf(e: OutputUnit): string {
  return e.instanceLocation.replace(/^#/, '');
}
