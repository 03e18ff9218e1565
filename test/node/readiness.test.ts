/**
 * /readyz tells the truth about the dependencies that matter: the database decides whether
 * the pod takes traffic; Stripe, checked at most once a minute, only marks it degraded.
 * Whatever hangs, the answer comes within the timeouts.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createTestApp } from '../support/node-app.js';

const closers: Array<() => void> = [];
afterAll(() => closers.forEach((close) => close()));

/** A TCP server that accepts and never answers: a hung dependency. */
async function silentServer(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => void sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** An HTTP server that answers every request like a Stripe outage. */
async function failingStripe(): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { type: 'api_error', message: 'Stripe is having a bad day' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const timed = async <T,>(work: () => Promise<T>) => {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
};

describe('readiness with Stripe', () => {
  it('ready, with each check’s status and latency, when the database and Stripe answer', async () => {
    const t = await createTestApp();
    const res = await t.api.get('/readyz');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      checks: { database: { status: 'ok', durationMs: expect.any(Number) }, stripe: { status: 'ok', durationMs: expect.any(Number) } },
    });
    await t.close();
  });

  it('no Stripe check when card payments are not configured', async () => {
    const t = await createTestApp({ stripe: false });
    const res = await t.api.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { database: { status: 'ok', durationMs: expect.any(Number) } } });
    await t.close();
  });

  it('Stripe unreachable: 200 degraded (the pod stays in service), remembered for a minute, then asked again', async () => {
    const t = await createTestApp({ env: { STRIPE_API_URL: 'http://127.0.0.1:1' } });
    const first = await t.api.get('/readyz');
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({
      status: 'degraded',
      checks: { database: { status: 'ok' }, stripe: { status: 'fail', error: 'unreachable', durationMs: expect.any(Number) } },
    });
    expect(first.body.checks.stripe.cached).toBeUndefined();
    expect(t.logger.entries.filter((e) => e.msg === 'readiness: stripe check failed')).toHaveLength(1);

    // Probes every few seconds do not each call Stripe.
    const second = await t.api.get('/readyz');
    expect(second.body).toMatchObject({ status: 'degraded', checks: { stripe: { status: 'fail', error: 'unreachable', cached: true } } });
    expect(t.logger.entries.filter((e) => e.msg === 'readiness: stripe check failed')).toHaveLength(1);

    const realClock = t.deps.clock;
    t.deps.clock = { now: () => new Date(realClock.now().getTime() + 61_000) };
    const later = await t.api.get('/readyz');
    expect(later.body.checks.stripe).toMatchObject({ status: 'fail' });
    expect(later.body.checks.stripe.cached).toBeUndefined();
    expect(t.logger.entries.filter((e) => e.msg === 'readiness: stripe check failed')).toHaveLength(2);
    await t.close();
  });

  it('Stripe answering 5xx: degraded with server_error', async () => {
    const t = await createTestApp({ env: { STRIPE_API_URL: await failingStripe() } });
    const res = await t.api.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'degraded', checks: { stripe: { status: 'fail', error: 'server_error' } } });
    await t.close();
  });

  it('Stripe hanging: degraded with a timeout, answered within the 2 s Stripe timeout', async () => {
    const t = await createTestApp({ env: { STRIPE_API_URL: `http://${await silentServer()}` } });
    const { result: res, ms } = await timed(() => t.api.get('/readyz'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'degraded', checks: { database: { status: 'ok' }, stripe: { status: 'fail', error: 'timeout' } } });
    expect(ms).toBeLessThan(3000);
    await t.close();
  });

  it('database down and Stripe hanging: 503 not_ready within the timeouts, never a hang', async () => {
    const database = createPostgresDatabase(`postgres://nobody@${await silentServer()}/none`);
    const t = await createTestApp({ database, env: { STRIPE_API_URL: `http://${await silentServer()}` } });
    const { result: res, ms } = await timed(() => t.api.get('/readyz'));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      status: 'not_ready',
      checks: { database: { status: 'fail', error: 'timeout' }, stripe: { status: 'fail', error: 'timeout' } },
    });
    // Both checks run at once: bounded by the slower timeout, not their sum.
    expect(ms).toBeLessThan(3000);
    void database.close().catch(() => {});
  });

  it('database refusing connections with Stripe fine: 503, Stripe still reported', async () => {
    const t = await createTestApp({ database: createPostgresDatabase('postgres://nobody@127.0.0.1:1/none') });
    const res = await t.api.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', checks: { database: { status: 'fail', error: 'unreachable' }, stripe: { status: 'ok' } } });
    await t.close();
  });
});
