import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/http/context.js';
import { allowedMethods } from '../../src/http/allowed-methods.js';
import { bodyLimitFor, responseHeaders } from '../../src/http/middleware.js';

function app(corsOrigins: string[]) {
  const a = new Hono<AppEnv>();
  a.use(
    '*',
    responseHeaders({
      corsOrigins,
      allowedMethods: allowedMethods(() => a.routes),
      allowHeaders: ['Authorization', 'Idempotency-Key'],
      exposeHeaders: ['X-Request-Id'],
      maxAgeSeconds: 600,
    }),
  );
  a.use('*', bodyLimitFor(bodyLimit({ maxSize: 8, onError: (c) => c.text('too large', 413) })));
  a.get('/thing', (c) => c.json({ ok: true }, 200, { 'X-Frame-Options': 'SAMEORIGIN' }));
  a.post('/thing', async (c) => c.text(await c.req.text()));
  return a;
}

describe('responseHeaders', () => {
  it('sets the security headers on every answer, and lets a handler override one', async () => {
    const res = await app(['*']).request('/thing');
    expect(res.status).toBe(200);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(await res.json()).toEqual({ ok: true });
    const missing = await app(['*']).request('/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('with any origin allowed: * and no Vary', async () => {
    const res = await app(['*']).request('/thing', { headers: { origin: 'https://elsewhere.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toBe('X-Request-Id');
    expect(res.headers.get('vary')).toBeNull();
  });

  it('with a list: echoes a listed origin, never an unlisted one, and varies on Origin', async () => {
    const a = app(['https://app.example', 'https://admin.example']);
    const listed = await a.request('/thing', { headers: { origin: 'https://admin.example' } });
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(listed.headers.get('vary')).toBe('Origin');
    const unlisted = await a.request('/thing', { headers: { origin: 'https://evil.example' } });
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
    expect(unlisted.headers.get('vary')).toBe('Origin');
    const none = await a.request('/thing');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight with 204, the methods, headers and max age, without running the route', async () => {
    const res = await app(['https://app.example']).request('/thing', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST,OPTIONS');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization,Idempotency-Key');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(await res.text()).toBe('');
  });

  it('answers no preflight on a path that does not exist: the request goes on to the 404', async () => {
    const res = await app(['*']).request('/nope', { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('bodyLimitFor', () => {
  it('still limits a POST body and lets a small one through', async () => {
    expect((await app(['*']).request('/thing', { method: 'POST', body: 'x'.repeat(9) })).status).toBe(413);
    const small = await app(['*']).request('/thing', { method: 'POST', body: 'x'.repeat(8) });
    expect(small.status).toBe(200);
    expect(await small.text()).toBe('xxxxxxxx');
  });
});
