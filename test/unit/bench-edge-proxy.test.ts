/**
 * The bench's delaying proxy (tools/bench/delay-proxy.ts): it forwards requests unchanged, holds each
 * for at least the delay, and counts only POST /sql, recording when each arrived, how long it
 * was held and how long upstream took.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy, type DelayProxy } from '../../tools/bench/delay-proxy.js';
import { DISPATCH_MARK } from '../../src/notifications/dispatch-sql.js';

describe('bench delay proxy', () => {
  let upstream: http.Server;
  let proxy: DelayProxy;
  const seen: Array<{ method?: string; url?: string; body: string; header?: string }> = [];

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, header: req.headers['neon-connection-string'] as string | undefined });
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
        res.end(JSON.stringify({ echoed: body }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    proxy = await startDelayProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, 40);
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  });

  it('holds a POST /sql for at least the delay and forwards it unchanged, both ways', async () => {
    proxy.reset();
    const t = performance.now();
    const res = await fetch(`${proxy.url}/sql`, { method: 'POST', headers: { 'neon-connection-string': 'postgres://a:b@h/db' }, body: '{"query":"SELECT 1"}' });
    const body = await res.json();
    const elapsed = performance.now() - t;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(body).toEqual({ echoed: '{"query":"SELECT 1"}' });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/sql', body: '{"query":"SELECT 1"}', header: 'postgres://a:b@h/db' });
    expect(elapsed).toBeGreaterThanOrEqual(39);
    await proxy.settle(20);
    expect(proxy.arrivals).toHaveLength(1);
    expect(proxy.arrivals[0]!.heldMs).toBeGreaterThanOrEqual(39);
    expect(proxy.arrivals[0]!.upstreamMs).toBeGreaterThanOrEqual(0);
  });

  it('counts only POST /sql, passes other answers through, and the delay can change between requests', async () => {
    proxy.reset();
    proxy.delayMs = 0;
    const res = await fetch(`${proxy.url}/missing`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    await (await fetch(`${proxy.url}/sql`, { method: 'POST', body: '{}' })).arrayBuffer();
    await (await fetch(`${proxy.url}/sql`, { method: 'POST', body: '{}' })).arrayBuffer();
    await proxy.settle(20);
    expect(proxy.arrivals).toHaveLength(2);
    expect(proxy.inFlight).toBe(0);
    proxy.delayMs = 40;
  });

  it("tells the notification dispatcher's statements (its tag) from a request's own, even one that writes an outbox row", async () => {
    proxy.reset();
    proxy.delayMs = 0;
    const send = async (query: string) => (await fetch(`${proxy.url}/sql`, { method: 'POST', body: JSON.stringify({ query }) })).arrayBuffer();
    await send(`${DISPATCH_MARK} WITH due AS (SELECT x.id FROM notification_deliveries x) SELECT 1`);
    await send('WITH u AS (INSERT INTO users DEFAULT VALUES RETURNING id) INSERT INTO notification_outbox (user_id) SELECT id FROM u');
    await proxy.settle(20);
    expect(proxy.arrivals.map((a) => a.notification)).toEqual([true, false]);
    proxy.delayMs = 40;
  });
});
