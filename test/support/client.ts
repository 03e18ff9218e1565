import { expect } from 'vitest';

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
}

export interface ApiClient {
  get<T = any>(path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
  send<T = any>(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
}

export function apiClient(fetcher: Fetcher, base = 'http://laundry.test'): ApiClient {
  const send = async (method: string, path: string, body?: unknown, opts: RequestOptions = {}) => {
    const headers = new Headers(opts.headers);
    if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const res = await fetcher(new Request(new URL(path, base), { method, headers, body: payload }));
    const text = await res.text();
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
