import { expect } from 'vitest';
import { OpenApiValidator, type Violation } from './openapi-validator.js';

/**
 * A tiny HTTP client over any fetch-like function, so the same journeys run against
 * `app.request` on Node and `SELF.fetch` inside workerd.
 */
export type Fetcher = (request: Request) => Promise<Response>;

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** Sent as-is (not JSON-encoded): for malformed-body tests. */
  rawBody?: string;
  /**
   * Skips the OpenAPI check of this one response; the reason says why the test needs an
   * undocumented answer. Only for a test that exercises something the document cannot describe.
   */
  undocumented?: string;
}

/**
 * How the client checks responses against the API's own /openapi.json:
 * `strict` (the default) throws, so the test that made the response fails; `report` collects
 * violations without failing (see `report`); `off` checks nothing.
 * Set by `OPENAPI_VALIDATION` (Node: the environment; workerd: the binding of the same name).
 */
export type ValidationMode = 'strict' | 'report' | 'off';

export interface ClientOptions {
  validation?: ValidationMode;
  /** Where report mode sends each violation (default: one `OPENAPI_VIOLATION {json}` line on stdout). */
  report?: (violation: ReportedViolation) => void;
}

export interface ReportedViolation extends Violation {
  method: string;
  path: string;
  test: string | undefined;
}

/** The prefix of a violation printed in report mode (workerd has no file to append to). */
export const VIOLATION_PREFIX = 'OPENAPI_VIOLATION ';

function modeFrom(value: string | undefined): ValidationMode {
  if (value === undefined || value === '' || value === 'strict') return 'strict';
  if (value === 'report' || value === 'off') return value;
  throw new Error(`OPENAPI_VALIDATION must be strict, report or off, not ${JSON.stringify(value)}`);
}

/** Node: OPENAPI_VIOLATIONS_FILE gets one JSON line per violation; elsewhere a prefixed line on stdout. */
function defaultReport(): (v: ReportedViolation) => void {
  const file = globalThis.process?.env?.OPENAPI_VIOLATIONS_FILE;
  const isNode = globalThis.navigator?.userAgent !== 'Cloudflare-Workers' && !!globalThis.process?.versions?.node;
  if (file && isNode) {
    // Synchronous, so no line is lost when the test worker exits (Node ≥ 20.16).
    const fs = globalThis.process.getBuiltinModule('node:fs') as typeof import('node:fs');
    return (v) => fs.appendFileSync(file, `${JSON.stringify(v)}\n`);
  }
  return (v) => console.log(`${VIOLATION_PREFIX}${JSON.stringify(v)}`);
}

function describe(method: string, path: string, violations: Violation[]): string {
  const lines = violations.map((v) => `  ${v.operation} → ${v.status} at ${v.pointer || '(body)'}: ${v.message}`);
  return `response to ${method} ${path} does not match /openapi.json:\n${lines.join('\n')}`;
}

export interface ApiClient {
  get<T = any>(path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
  send<T = any>(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
}

/** Checks one response against /openapi.json by the client's mode (see ValidationMode). */
type ResponseCheck = (method: string, url: URL, res: { status: number; headers: Headers; text: string }, undocumented?: string) => Promise<void>;

/** The document is fetched once per checker, through the same fetcher the responses come from. */
function responseChecker(fetcher: Fetcher, base: string, options: ClientOptions): ResponseCheck {
  const mode = options.validation ?? modeFrom(globalThis.process?.env?.OPENAPI_VALIDATION);
  const report = options.report ?? (mode === 'report' ? defaultReport() : undefined);
  let validator: Promise<OpenApiValidator> | undefined;
  const loadValidator = () =>
    (validator ??= (async () => {
      const res = await fetcher(new Request(new URL('/openapi.json', base)));
      if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
      return new OpenApiValidator((await res.json()) as Record<string, unknown>);
    })());
  return async (method, url, res, undocumented) => {
    if (mode === 'off') return;
    if (undocumented !== undefined) {
      if (undocumented.trim() === '') throw new Error('RequestOptions.undocumented needs a reason');
      return;
    }
    const violations = (await loadValidator()).check(method, url.pathname, res);
    if (violations.length === 0) return;
    if (mode === 'strict') throw new Error(describe(method, url.pathname, violations));
    const test = expect.getState().currentTestName;
    for (const v of violations) report!({ ...v, method, path: url.pathname, test });
  };
}

/**
 * `fetcher`, with every response checked against /openapi.json exactly as `apiClient` checks
 * its own: for clients that bring their own fetch (the generated openapi-fetch client). The
 * response is returned unread (the check reads a clone).
 */
export function checkedFetcher(fetcher: Fetcher, base = 'http://laundry.test', options: ClientOptions = {}): Fetcher {
  const check = responseChecker(fetcher, base, options);
  return async (request) => {
    const res = await fetcher(request);
    await check(request.method, new URL(request.url), { status: res.status, headers: res.headers, text: await res.clone().text() });
    return res;
  };
}

/**
 * Every response is checked against the API's own document (fetched once per client through
 * the same fetcher), whatever the request was: even a deliberately malformed request must get
 * a documented answer.
 */
export function apiClient(fetcher: Fetcher, base = 'http://laundry.test', options: ClientOptions = {}): ApiClient {
  const check = responseChecker(fetcher, base, options);

  const send = async (method: string, path: string, body?: unknown, opts: RequestOptions = {}) => {
    const headers = new Headers(opts.headers);
    if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const url = new URL(path, base);
    const res = await fetcher(new Request(url, { method, headers, body: payload }));
    const text = await res.text();
    await check(method, url, { status: res.status, headers: res.headers, text }, opts.undocumented);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as any, text };
  };
  return {
    send,
    get: (path, opts) => send('GET', path, undefined, opts),
    post: (path, body, opts) => send('POST', path, body, opts),
    patch: (path, body, opts) => send('PATCH', path, body, opts),
  };
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

/** Asserts the RFC 9457 shape every error must have, and returns the body for more checks. */
export function expectProblem(res: ApiResponse, status: number, code: string): Record<string, any> {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ type: `urn:laundry:problem:${code}`, status, code });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
  return res.body;
}
