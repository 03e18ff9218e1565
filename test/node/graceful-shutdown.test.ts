/**
 * SIGTERM as Kubernetes sends it: readiness turns 503 at once while the process keeps
 * serving for SHUTDOWN_DELAY_MS (endpoints take a moment to drop the pod), then the listener
 * closes, in-flight requests finish, and the process exits 0 within SHUTDOWN_GRACE_MS.
 * An in-flight request is a raw connection whose body is only half sent when SIGTERM lands.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'laundry-shutdown-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function startServer(env: Record<string, string>) {
  // The suite's PostgreSQL database when there is one (starts fast), else a PGlite folder.
  const serverDb = inject('nodeDatabaseUrl');
  const database: Record<string, string> = serverDb ? { DATABASE_URL: serverDb } : { PGLITE_DIR: join(tmp, 'pglite') };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: tmp, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...database, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exitedAt = 0;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitedAt = performance.now();
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!.replace('localhost', '127.0.0.1'));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`exited ${code} before listening:\n${output}`)));
  });
  // The signal handlers go in right after the "listening" line: one request later they are there.
  expect((await fetch(`${url}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);
  return { child, url, exited, output: () => output, exitedAt: () => exitedAt };
}

/** A POST whose body is sent in two parts; the response arrives after `finish()`. */
async function halfSentPost(url: string, path: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  let response = '';
  socket.on('data', (c: Buffer) => (response += c.toString()));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const bytes = Buffer.from(body);
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\n\r\n`);
  socket.write(bytes.subarray(0, 10));
  return {
    /** Sends the rest (no half-close: Node aborts a request whose client sent FIN) and reads the response. */
    finish: async () => {
      socket.write(bytes.subarray(10));
      for (let i = 0; i < 300 && !/\r\n\r\n[\s\S]*\}$/.test(response); i++) await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      return response;
    },
    closed,
    response: () => response,
  };
}

function connectRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGTERM', () => {
  it('readiness 503 during SHUTDOWN_DELAY_MS while still serving; in-flight requests finish; a stuck one cannot hold it past SHUTDOWN_GRACE_MS; exit 0', async () => {
    const DELAY = 1500;
    const GRACE = 2500;
    const server = await startServer({ SHUTDOWN_DELAY_MS: String(DELAY), SHUTDOWN_GRACE_MS: String(GRACE) });
    const credentials = { email: `shutdown-${Date.now()}@example.test`, password: 'shutdown password' };
    const reg = await fetch(`${server.url}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify(credentials) });
    expect(reg.status).toBe(201);

    // Two requests in flight when SIGTERM lands: one completes after the delay, one never does.
    const inFlight = await halfSentPost(server.url, '/v1/auth/login', JSON.stringify(credentials));
    const stuck = await halfSentPost(server.url, '/v1/auth/login', JSON.stringify({ email: 'stuck@example.test', password: 'never finished' }));
    const sentAt = performance.now();
    server.child.kill('SIGTERM');
    await sleep(200);

    // During the delay: not ready, still alive, still serving new requests.
    const ready = await fetch(`${server.url}/readyz`, { headers: { connection: 'close' } });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { shutdown: { status: 'fail' } } });
    expect((await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/services`, { headers: { connection: 'close' } })).status).toBe(200);
    expect(performance.now() - sentAt).toBeLessThan(DELAY);
    expect(server.child.exitCode).toBeNull();

    // After the delay: the listener is closed; the half-sent request still completes.
    await sleep(DELAY - (performance.now() - sentAt) + 300);
    expect(await connectRefused(server.url)).toBe(true);
    expect(server.child.exitCode).toBeNull();
    const response = await inFlight.finish();
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain('"accessToken"');

    // The stuck request holds the drain until the grace period ends; then exit 0 anyway.
    expect(await server.exited).toBe(0);
    const took = server.exitedAt() - sentAt;
    expect(took).toBeGreaterThanOrEqual(DELAY + GRACE - 50);
    expect(took).toBeLessThan(DELAY + GRACE + 3000);
    await stuck.closed;
    const output = server.output();
    expect(output).toContain(`"msg":"shutting down"`);
    expect(output).toContain(`"delayMs":${DELAY}`);
    expect(output).toContain('grace period over');
    expect(output).toContain('"msg":"stopped"');
  }, 60_000);
});
