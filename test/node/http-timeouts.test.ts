/**
 * The Node server cuts off a client that trickles its request (REQUEST_TIMEOUT_MS,
 * HEADERS_TIMEOUT_MS), instead of holding the connection for Node's default 5 minutes.
 * Lowered to 1 s here; the assertions only need "well before the trickle would end".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeServerConfig } from '../../src/platform/node/config.js';
import { httpServerOptions } from '../../src/platform/node/server.js';
import { startServer, stopServer, type ServerProcess } from '../support/server-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'laundry-timeouts-'));
let server: ServerProcess & { url: string };
beforeAll(async () => {
  server = await startServer({ PGLITE_DIR: join(tmp, 'db'), REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000', SHUTDOWN_GRACE_MS: '1000' });
}, 120_000);
afterAll(async () => {
  if (server) await stopServer(server);
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Sends `head`, then one byte of `trickle` every 200 ms. Resolves when the server closes the
 * socket: what it answered, and whether the trickle had ended by then.
 */
function trickle(head: string, trickle: string): Promise<{ answer: string; finished: boolean }> {
  const { port, hostname } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < trickle.length && !socket.destroyed) socket.write(trickle[sent++]!);
      }, 200);
    });
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('error', () => {}); // a reset after the 408 is the server closing too
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, finished: sent >= trickle.length });
    });
    setTimeout(() => reject(new Error('still open after 100 s')), 100_000).unref();
  });
}

describe('slow clients', () => {
  it('a body trickled slower than the request timeout is cut off with 408', async () => {
    // 300 bytes at 5 a second would take a minute.
    const body = 'x'.repeat(300);
    const { answer, finished } = await trickle(
      `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    expect(finished).toBe(false);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 120_000);

  it('headers trickled slower than the headers timeout are cut off too', async () => {
    const { finished } = await trickle('GET /healthz HTTP/1.1\r\nHost: x\r\n', `X-Slow: ${'y'.repeat(300)}\r\n\r\n`);
    expect(finished).toBe(false);
  }, 120_000);

  it('a request sent at once is served as usual', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('defaults: 30 s for a request, 10 s for its headers, idle keep-alive longer than a load balancer’s 60 s', () => {
    const options = (env: Record<string, string>) => httpServerOptions(loadNodeServerConfig(env));
    expect(options({})).toMatchObject({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 });
    expect(options({ REQUEST_TIMEOUT_MS: '5000' }).headersTimeout).toBe(5000);
    expect(() => options({ REQUEST_TIMEOUT_MS: 'soon' })).toThrow(/REQUEST_TIMEOUT_MS/);
  });
});
