import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

/*
 * Access tokens carry the role for up to 15 minutes; staff and admin routes re-check it, and the
 * token's session, in the database on every request (src/db/role-check.ts). Generated from
 * /openapi.json: EVERY staff or admin operation, called with a token issued before the user was
 * demoted or disabled, is 403; with a token of an ended session (log out everywhere), 401. A
 * route added later that reads the database around the check fails here. Runs on Node and
 * inside workerd.
 */

type JsonSchema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  body: unknown;
  /** Required header parameters (an Idempotency-Key), sampled like the body. */
  headers: Record<string, string>;
}

const isPrivileged = (path: string, tags: string[] = []) =>
  /^\/v1\/(staff|admin)\//.test(path) || tags.some((t) => /^(staff|admin)\b/i.test(t));

/** A minimal value that passes the schema: examples first, else required fields only (or the first). */
function sample(schema: JsonSchema, doc: JsonSchema): unknown {
  if (schema.$ref) return sample(doc.components.schemas[String(schema.$ref).split('/').pop()!], doc);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      // An update with nothing to change is refused: send at least its first field.
      const keys: string[] = schema.required?.length ? schema.required : Object.keys(schema.properties ?? {}).slice(0, 1);
      return Object.fromEntries(keys.map((k) => [k, sample(schema.properties[k], doc)]));
    }
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => sample(schema.items, doc));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'uuid') return crypto.randomUUID();
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      return 'x'.repeat(Math.max(3, schema.minLength ?? 0));
    default:
      return null;
  }
}

async function privilegedOperations(h: Harness): Promise<Operation[]> {
  const doc = (await h.api.get('/openapi.json')).body as JsonSchema;
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries<Record<string, JsonSchema>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!isPrivileged(template, op.tags)) continue;
      const params = (op.parameters ?? []) as JsonSchema[];
      let path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
        const p = params.find((x) => x.in === 'path' && x.name === name);
        return encodeURIComponent(String(p ? sample(p.schema, doc) : crypto.randomUUID()));
      });
      const query = params.filter((p) => p.in === 'query' && p.required);
      if (query.length > 0) path += `?${new URLSearchParams(query.map((p) => [p.name, String(sample(p.schema, doc))]))}`;
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const headers = Object.fromEntries(params.filter((p) => p.in === 'header' && p.required).map((p) => [p.name, `${'k'.repeat(p.schema?.minLength ?? 8)}`]));
      ops.push({ method: method.toUpperCase(), path, body: bodySchema ? sample(bodySchema, doc) : undefined, headers });
    }
  }
  return ops;
}

export function rolesJourney(harness: () => Harness) {
  describe('role changes and disabled accounts take effect on the next request', () => {
    it('every staff and admin operation in /openapi.json refuses a demoted admin and a disabled one (403)', async () => {
      const h = harness();
      const ops = await privilegedOperations(h);
      // The document lists them all (a broken filter must not pass with nothing checked).
      expect(ops.length).toBeGreaterThanOrEqual(20);
      expect(ops.some((o) => o.path.startsWith('/v1/staff/'))).toBe(true);
      expect(ops.some((o) => o.path.startsWith('/v1/admin/'))).toBe(true);

      const demoted = await actor(h, 'admin');
      const disabled = await actor(h, 'admin');
      await h.setRole(demoted.email, 'customer');
      await h.sql(`UPDATE users SET disabled_at = now() WHERE email = $1`, [disabled.email]);
      const wrong: unknown[] = [];
      for (const [who, user] of [['demoted', demoted], ['disabled', disabled]] as const) {
        for (const op of ops) {
          const res = await h.api.send(op.method, op.path, op.body, { token: user.token, headers: op.headers });
          if (res.status !== 403 || res.body?.code !== 'forbidden') wrong.push({ who, op: `${op.method} ${op.path}`, status: res.status, body: res.body });
          else expectProblem(res, 403, 'forbidden');
        }
      }
      expect(wrong).toEqual([]);
    });

    it('every staff and admin operation in /openapi.json refuses an admin token whose session was ended (401 invalid_token)', async () => {
      const h = harness();
      const ops = await privilegedOperations(h);
      expect(ops.length).toBeGreaterThanOrEqual(20);
      const ended = await actor(h, 'admin');
      expect((await h.api.send('DELETE', '/v1/me/sessions', undefined, { token: ended.token })).status).toBe(200);
      const wrong: unknown[] = [];
      for (const op of ops) {
        const res = await h.api.send(op.method, op.path, op.body, { token: ended.token, headers: op.headers });
        if (res.status !== 401 || res.body?.code !== 'invalid_token') wrong.push({ op: `${op.method} ${op.path}`, status: res.status, body: res.body });
      }
      expect(wrong).toEqual([]);
    });

    it('a demoted staff member is refused at once: 403 on staff routes, 401 elsewhere (the role change ended the session); a new login is a customer', async () => {
      const h = harness();
      const staff = await actor(h, 'staff');
      expect((await h.api.get('/v1/staff/orders', { token: staff.token })).status).toBe(200);
      await h.setRole(staff.email, 'customer');
      expectProblem(await h.api.get('/v1/staff/orders', { token: staff.token }), 403, 'forbidden');
      expectProblem(await h.api.get('/v1/orders', { token: staff.token }), 401, 'invalid_token');
      const customer = await h.api.post('/v1/auth/login', { email: staff.email, password: 'fixture password' });
      expect((await h.api.get('/v1/orders', { token: customer.body.accessToken })).status).toBe(200);
      // Promoted again: the old token's claim says staff and the database agrees, but its session stays ended.
      await h.setRole(staff.email, 'staff');
      expectProblem(await h.api.get('/v1/staff/orders', { token: staff.token }), 401, 'invalid_token');
      const promoted = await h.api.post('/v1/auth/login', { email: staff.email, password: 'fixture password' });
      expect((await h.api.get('/v1/staff/orders', { token: promoted.body.accessToken })).status).toBe(200);
    });

    it('a role change or disabling revokes refresh tokens; a disabled user cannot log in or refresh', async () => {
      const h = harness();
      const password = 'fixture password';
      const user = await actor(h, 'staff');
      const login = await h.api.post('/v1/auth/login', { email: user.email, password });
      expect(login.status).toBe(200);
      await h.setRole(user.email, 'customer');
      expectProblem(await h.api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken }), 401, 'refresh_token_revoked');

      const again = await h.api.post('/v1/auth/login', { email: user.email, password });
      expect(again.body.user.role).toBe('customer');
      // Disabled by hand without revoking: refresh itself must refuse the account.
      await h.sql(`UPDATE users SET disabled_at = now() WHERE email = $1`, [user.email]);
      expectProblem(await h.api.post('/v1/auth/refresh', { refreshToken: again.body.refreshToken }), 401, 'refresh_token_revoked');
      expectProblem(await h.api.post('/v1/auth/login', { email: user.email, password }), 401, 'invalid_credentials');
      await h.sql(`UPDATE users SET disabled_at = NULL WHERE email = $1`, [user.email]);
      expect((await h.api.post('/v1/auth/login', { email: user.email, password })).status).toBe(200);
    });
  });
}
