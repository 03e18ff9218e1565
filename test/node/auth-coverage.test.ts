/**
 * Auth coverage that cannot be forgotten (issue 12 item 6). Generated from /openapi.json by
 * test/support/auth-coverage.ts: every operation that declares `security` answers 401 to no
 * token and to each bad one before any validation; staff and admin operations answer 403 to a
 * customer (admin ones to staff too); no operation is public unless allow-listed. The second
 * half proves the checker catches the mistakes it exists for, on copies of the app with one
 * faulty route added: each is reported, and nothing else is.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Handler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { problems } from '../../src/http/problem-docs.js';
import type { UserRole } from '../../src/db/schema.js';
import { createRouter, type AppEnv } from '../../src/http/context.js';
import { requireAuth } from '../../src/http/middleware.js';
import { authActors, authViolations, type AuthActors, type AuthReport } from '../support/auth-coverage.js';
import { apiClient } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
let actors: AuthActors;

beforeAll(async () => {
  t = await createTestApp();
  actors = await authActors(t);
});
afterAll(async () => {
  await t?.close();
});

const routesOf = (app: { routes: ReadonlyArray<{ method: string; path: string }> }) => app.routes.map(({ method, path }) => ({ method, path }));

describe('auth coverage from /openapi.json', () => {
  it('every secured operation refuses missing and bad tokens with 401, and lower roles with 403; nothing is public by accident', async () => {
    const report = await authViolations(t, actors, { routes: routesOf(t.app) });
    expect(report.violations).toEqual([]);
    // A broken walk must not pass by checking nothing: the document has ~46 operations, ~36 secured.
    expect(report.operations).toBeGreaterThanOrEqual(40);
    expect(report.secured).toBeGreaterThanOrEqual(30);
    expect(report.requests).toBeGreaterThanOrEqual(report.secured * 8);
  });
});

/* The mistakes the checker exists for, each on its own copy of the app. */
const bearer = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.uuid() });
// Documented as fully as real routes are, so the client's /openapi.json check passes and only
// the auth mistake each fixture carries is under test.
const ok = { 200: { description: 'Done.', content: { 'application/json': { schema: z.object({ ok: z.boolean() }) } } } };
const answerOk: Handler<AppEnv> = (c) => c.json({ ok: true }, 200);

const forgotMiddleware = createRouter().openapi(
  createRoute({ method: 'post', path: '/v1/orders/{id}/forgotten', tags: ['Orders'], security: bearer, request: { params: IdParam }, responses: ok }),
  answerOk,
);
/** A staff or admin route that documents 401/403 and checks a role, but the wrong ones. */
const wrongRoles = (method: 'get' | 'delete', path: string, tag: string, roles: UserRole[]) =>
  createRouter().openapi(
    createRoute({
      method,
      path,
      tags: [tag],
      security: bearer,
      middleware: [requireAuth(...roles)],
      request: { params: IdParam },
      responses: { ...ok, ...problems('auth_required', 'invalid_token', 'token_expired', 'forbidden') },
    }),
    answerOk,
  );
const staffLetsCustomersIn = wrongRoles('get', '/v1/staff/orders/{id}/wrong-roles', 'Staff', ['customer', 'staff']);
const adminLetsStaffIn = wrongRoles('delete', '/v1/admin/zones/{id}/wrong-roles', 'Admin: scheduling', ['staff', 'admin']);
const quietlyPublic = createRouter().openapi(createRoute({ method: 'get', path: '/v1/orders-export', tags: ['Orders'], responses: ok }), answerOk);
const staffWithoutSecurity = createRouter().openapi(
  createRoute({ method: 'get', path: '/v1/staff/stats', tags: ['Staff'], middleware: [requireAuth('staff', 'admin')], responses: ok }),
  answerOk,
);
const undocumented = createRouter();
undocumented.get('/v1/internal/dump', answerOk);

/** The real app built on the suite's deps, plus one extra router; the checker's report on it. */
async function reportWith(extra: ReturnType<typeof createRouter>): Promise<AuthReport> {
  const app = createApp(t.deps);
  app.route('/', extra);
  const h = { ...t, api: apiClient((request) => Promise.resolve(app.fetch(request))) };
  return authViolations(h, actors, { routes: routesOf(app) });
}

describe('the checker reports exactly the faulty route', () => {
  it.each([
    ['declares security but forgets requireAuth', forgotMiddleware, 'POST /v1/orders/{id}/forgotten', /^no token: 200 .*wanted 401 auth_required/],
    ['a staff route that admits customers', staffLetsCustomersIn, 'GET /v1/staff/orders/{id}/wrong-roles', /^customer token: 200 .*wanted 403 forbidden/],
    ['an admin route that admits staff', adminLetsStaffIn, 'DELETE /v1/admin/zones/{id}/wrong-roles', /^staff token: 200 .*wanted 403 forbidden/],
    ['a route without security, not on the public allow-list', quietlyPublic, 'GET /v1/orders-export', /not on PUBLIC_OPERATIONS/],
    ['a staff route without security', staffWithoutSecurity, 'GET /v1/staff/stats', /^staff operation declares no security/],
    ['a route left out of the document', undocumented, 'GET /v1/internal/dump', /served but not in \/openapi\.json/],
  ])('%s', async (_name, extra, key, problem) => {
    const { violations } = await reportWith(extra);
    expect(new Set(violations.map((v) => v.operation))).toEqual(new Set([key]));
    expect(violations.map((v) => v.problem)).toContainEqual(expect.stringMatching(problem));
  });

  // Its 401 is documented whatever the route declares: src/http/openapi-document.ts adds it to every
  // secured operation, so only the behaviour can be wrong.
  it('a route that forgets requireAuth is reported for every bad credential', async () => {
    const { violations } = await reportWith(forgotMiddleware);
    expect(violations.map((v) => v.problem.replace(/: \d{3} .*$/s, ''))).toEqual(
      expect.arrayContaining([
        'no token',
        'Basic scheme',
        'garbage token',
        'token signed with another secret',
        'expired token',
        'alg:none token',
        'refresh token as access token',
      ]),
    );
  });
});
