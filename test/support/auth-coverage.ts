/**
 * Auth coverage generated from /openapi.json (issue 12 item 6): `authViolations` reads the
 * document the app serves and, for every operation, checks that what the document promises
 * about authentication is what the app does, so a route that declares `security` but forgets
 * `requireAuth` (or names the wrong roles) cannot ship. Used by test/node/auth-coverage.test.ts
 * and test/workers/auth-coverage.test.ts; it needs only a Harness, so it runs on both runtimes.
 *
 * Levels come from the document itself: an operation under `/v1/admin/` or tagged `Admin…` is
 * admin-only, one under `/v1/staff/` or tagged `Staff…` is for staff and admins (except the few
 * admin-only ones in ADMIN_ONLY_STAFF_OPERATIONS), any other operation with `security` is for
 * any signed-in user, and an operation without `security` must be on PUBLIC_OPERATIONS.
 */
import { DOCS_ASSET_FILES } from '../../src/http/docs-ui.js';
import { sign } from 'hono/jwt';
import { actor, type Actor } from './fixtures.js';
import { uniqueEmail, type ApiResponse, type RequestOptions } from './client.js';
import type { Harness } from './harness.js';
import { operations, sample, type Operation, type Schema } from './openapi-walk.js';

/** Every operation that answers without a token. Adding one here is a reviewed decision. */
export const PUBLIC_OPERATIONS: readonly string[] = [
  'GET /healthz',
  'GET /readyz',
  'POST /v1/auth/register',
  'POST /v1/auth/login',
  'POST /v1/auth/refresh',
  'POST /v1/auth/logout',
  'POST /v1/auth/oauth/apple',
  'POST /v1/auth/oauth/google',
  'POST /v1/auth/password-reset',
  'POST /v1/auth/password-reset/confirm',
  'POST /v1/auth/verify-email',
  'GET /v1/services',
  'GET /v1/coverage',
  'GET /v1/slots',
  'POST /v1/webhooks/stripe',
];

/** Staff-console operations only admins may call (`requireAuth('admin')`); the summary says "(admins)". */
export const ADMIN_ONLY_STAFF_OPERATIONS: readonly string[] = ['POST /v1/staff/orders/{id}/refunds', 'POST /v1/staff/orders/{id}/waive-balance'];

/**
 * Operations that end every session of the caller (log out everywhere): its access tokens are
 * refused from the next request on (src/db/role-check.ts), so the admitted caller is a new user
 * of the same role, and the actors' tokens outlive the walk.
 */
export const SESSION_ENDING_OPERATIONS: readonly string[] = ['DELETE /v1/me/sessions'];

/** Routes the app serves outside the document: the document itself, its viewer and the viewer's own files, and /metrics (own token). */
export const UNDOCUMENTED_ROUTES: readonly string[] = [
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/init.js',
  ...DOCS_ASSET_FILES.map((name) => `GET /docs/${name}`),
  'GET /metrics',
];

export type Level = 'public' | 'signed-in' | 'staff' | 'admin';

export interface AuthActors {
  customer: Actor;
  staff: Actor;
  admin: Actor;
  /** The customer's refresh token, to prove it is refused as an access token. */
  refreshToken: string;
}

export interface Violation {
  /** `METHOD /path/{template}` as in the document (or the router, for undocumented routes). */
  operation: string;
  problem: string;
}

export interface AuthReport {
  /** Operations in the document. */
  operations: number;
  /** Operations that declare `security` and were probed. */
  secured: number;
  /** HTTP requests sent. */
  requests: number;
  violations: Violation[];
}

/** One user of each role, made through the API (and `setRole`, as the CLI does). */
export async function authActors(h: Harness): Promise<AuthActors> {
  const email = uniqueEmail('authcov');
  const reg = await h.api.post('/v1/auth/register', { email, password: 'fixture password' });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const customer = { email, userId: reg.body.user.id as string, token: reg.body.accessToken as string };
  return { customer, staff: await actor(h, 'staff'), admin: await actor(h, 'admin'), refreshToken: reg.body.refreshToken as string };
}

const isAdmin = (o: Operation) =>
  o.path.startsWith('/v1/admin/') || ADMIN_ONLY_STAFF_OPERATIONS.includes(o.key) || (o.op.tags ?? []).some((t: string) => /^admin\b/i.test(t));
const isStaff = (o: Operation) => o.path.startsWith('/v1/staff/') || (o.op.tags ?? []).some((t: string) => /^staff\b/i.test(t));

/** Who may call the operation, by the document: path prefix and tags for staff and admin. */
export function levelOf(o: Operation): Level {
  if (isAdmin(o)) return 'admin';
  if (isStaff(o)) return 'staff';
  return (o.op.security ?? []).length > 0 ? 'signed-in' : 'public';
}

const b64url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

interface BadCredential {
  name: string;
  opts: RequestOptions;
  code: 'auth_required' | 'invalid_token' | 'token_expired';
}

/**
 * Credentials every secured operation must refuse with 401. The forged ones carry an admin's
 * real id and role, so a route that decoded a token without verifying it would let them in.
 */
async function badCredentials(h: Harness, a: AuthActors): Promise<BadCredential[]> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: a.admin.userId, role: 'admin', iss: 'laundry-api' };
  const otherSecret = await sign({ ...claims, iat: now, exp: now + 600 }, 'another-secret-0123456789abcdef0123456789', 'HS256');
  const expired = await sign({ ...claims, iat: now - 3600, exp: now - 60 }, h.jwtSecret, 'HS256');
  const unsigned = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ ...claims, iat: now, exp: now + 600 }))}.`;
  return [
    { name: 'no token', opts: {}, code: 'auth_required' },
    { name: 'Basic scheme', opts: { headers: { authorization: `Basic ${btoa(`${a.admin.email}:fixture password`)}` } }, code: 'invalid_token' },
    { name: 'garbage token', opts: { token: 'not-a-jwt' }, code: 'invalid_token' },
    { name: 'token signed with another secret', opts: { token: otherSecret }, code: 'invalid_token' },
    { name: 'expired token', opts: { token: expired }, code: 'token_expired' },
    { name: 'alg:none token', opts: { token: unsigned }, code: 'invalid_token' },
    { name: 'refresh token as access token', opts: { token: a.refreshToken }, code: 'invalid_token' },
  ];
}

/** The operation's path with syntactically valid path parameters; no query, no body. */
function urlOf(doc: Schema, o: Operation): string {
  return o.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const p = o.parameters.find((x) => x.in === 'path' && x.name === name);
    return encodeURIComponent(String(p ? sample(doc, p.schema) : crypto.randomUUID()));
  });
}

/** Why `res` is not the 401 problem a bad credential must get, if it is not. */
function not401(res: ApiResponse, code: string): string | undefined {
  const b = res.body;
  if (res.status !== 401 || b?.code !== code) return `${res.status} ${b?.code ?? res.text.slice(0, 120)} (wanted 401 ${code})`;
  if (!res.headers.get('content-type')?.includes('application/problem+json')) return '401 without application/problem+json';
  if (b.status !== 401 || b.type !== `urn:laundry:problem:${code}`) return `401 body is not the ${code} problem: ${res.text.slice(0, 200)}`;
  // RFC 9110 §15.5.2: every 401 sends a challenge; RFC 6750 §3: a refused access token says invalid_token.
  const challenge = res.headers.get('www-authenticate');
  if (challenge === null) return '401 without WWW-Authenticate';
  if (!/^Bearer realm="laundry"/.test(challenge)) return `WWW-Authenticate is not our Bearer challenge: ${challenge}`;
  if (code !== 'auth_required' && !/error="invalid_token"/.test(challenge)) return `WWW-Authenticate for ${code} lacks error="invalid_token": ${challenge}`;
  return undefined;
}

function not403(res: ApiResponse): string | undefined {
  if (res.status !== 403 || res.body?.code !== 'forbidden') return `${res.status} ${res.body?.code ?? res.text.slice(0, 120)} (wanted 403 forbidden)`;
  if (!res.headers.get('content-type')?.includes('application/problem+json')) return '403 without application/problem+json';
  return undefined;
}

/** A caller the operation admits must get past authentication: neither 401/403 nor a crash. */
function refused(res: ApiResponse): string | undefined {
  if (res.status === 401 || res.status === 403 || res.status >= 500) return `${res.status} ${res.body?.code ?? res.text.slice(0, 120)} (wanted past authentication)`;
  return undefined;
}

/** Hono's `/a/:id` (optionally `:id{regex}`) as the document's `/a/{id}`. */
const templateOf = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');

/**
 * Every way the app's authentication departs from its document. Empty when all is well.
 *
 * Per operation with `security`: the document lists 401 (and 403 for staff/admin); each bad
 * credential answers 401 problem+json with its code (`auth_required`, `invalid_token`,
 * `token_expired`) before any validation, lookup or method check; callers of a lower role get
 * 403 `forbidden`; callers of the right role get past authentication. Requests carry valid path
 * parameters (random ids, so nothing real is touched) and no query or body.
 * Per document: every operation without `security` is on PUBLIC_OPERATIONS and not staff or
 * admin; every security requirement names a declared scheme; every allow-list entry still
 * exists. With `routes` (the router's table, e.g. `app.routes`), every served route is
 * documented or on UNDOCUMENTED_ROUTES.
 */
export async function authViolations(
  h: Harness,
  a: AuthActors,
  opts: { routes?: ReadonlyArray<{ method: string; path: string }> } = {},
): Promise<AuthReport> {
  const doc = (await h.api.get('/openapi.json')).body as Schema;
  const ops = operations(doc);
  const violations: Violation[] = [];
  const flag = (operation: string, problem: string | undefined) => {
    if (problem) violations.push({ operation, problem });
  };
  const schemes = Object.keys(doc.components?.securitySchemes ?? {});
  const keys = new Set(ops.map((o) => o.key));
  for (const key of [...PUBLIC_OPERATIONS, ...ADMIN_ONLY_STAFF_OPERATIONS, ...SESSION_ENDING_OPERATIONS]) {
    if (!keys.has(key)) flag(key, 'on an allow-list but not in /openapi.json: remove it from test/support/auth-coverage.ts');
  }
  for (const r of opts.routes ?? []) {
    const key = `${r.method} ${templateOf(r.path)}`;
    if (r.method !== 'ALL' && !keys.has(key) && !UNDOCUMENTED_ROUTES.includes(key)) {
      flag(key, 'served but not in /openapi.json: register it with createRoute/.openapi so its security is declared');
    }
  }

  const bad = await badCredentials(h, a);
  let requests = 0;
  const call = async (o: Operation, options: RequestOptions) => {
    requests++;
    return h.api.send(o.method, urlOf(doc, o), undefined, options);
  };
  const secured = ops.filter((o) => (o.op.security ?? []).length > 0);
  for (const o of ops) {
    const level = levelOf(o);
    const security: Array<Record<string, unknown>> = o.op.security ?? [];
    if (security.length === 0) {
      if (level !== 'public') flag(o.key, `${level} operation declares no security`);
      else if (!PUBLIC_OPERATIONS.includes(o.key)) flag(o.key, 'declares no security and is not on PUBLIC_OPERATIONS');
      continue;
    }
    if (PUBLIC_OPERATIONS.includes(o.key)) flag(o.key, 'on PUBLIC_OPERATIONS but declares security');
    for (const name of security.flatMap((s) => Object.keys(s))) {
      if (!schemes.includes(name)) flag(o.key, `security names an undeclared scheme ${name}`);
    }
    if (!o.op.responses?.['401']) flag(o.key, 'declares security but documents no 401');
    if ((level === 'staff' || level === 'admin') && !o.op.responses?.['403']) flag(o.key, `${level} operation documents no 403`);

    const checks: Array<Promise<void>> = bad.map(async (c) => flag(o.key, prefixed(c.name, not401(await call(o, c.opts), c.code))));
    const tokenOf = async (who: keyof Omit<AuthActors, 'refreshToken'>) => (SESSION_ENDING_OPERATIONS.includes(o.key) ? (await actor(h, who)).token : a[who].token);
    const as = (who: keyof Omit<AuthActors, 'refreshToken'>, check: (res: ApiResponse) => string | undefined) =>
      checks.push(tokenOf(who).then((token) => call(o, { token })).then((res) => flag(o.key, prefixed(`${who} token`, check(res)))));
    as('customer', level === 'signed-in' ? refused : not403);
    if (level !== 'signed-in') as('staff', level === 'admin' ? not403 : refused);
    if (level !== 'signed-in') as('admin', refused);
    await Promise.all(checks);
  }
  return { operations: ops.length, secured: secured.length, requests, violations };
}

const prefixed = (name: string, problem: string | undefined) => (problem ? `${name}: ${problem}` : undefined);
