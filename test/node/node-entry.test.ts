/**
 * The Node entry as ops run it: readiness that names the failing check, refusal to start
 * with bad production config, and a clean SIGTERM drain.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { expectProblem } from '../support/client.js';
import { createTestApp } from '../support/node-app.js';

const tmp = mkdtempSync(join(tmpdir(), 'laundry-node-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(env: Record<string, string>, onLine?: (line: string, child: ReturnType<typeof spawn>) => void) {
  // As `npm start` runs it: one process, so SIGTERM reaches the app itself (the tsx CLI
  // wrapper would sit in between).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    for (const line of text.split('\n')) if (line.trim()) onLine?.(line, child);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
  return { child, exited };
}

describe('readiness', () => {
  it('answers 503 naming the database when it refuses connections', async () => {
    const t = await createTestApp({ database: createPostgresDatabase('postgres://nobody@127.0.0.1:1/none') });
    const res = await t.api.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', checks: { database: { status: 'fail', error: 'unreachable' } } });
    expect((await t.api.get('/healthz')).status).toBe(200);
    await t.close();
  });

  it('answers 503 with a timeout when the database hangs', async () => {
    const silent = net.createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const database = createPostgresDatabase(`postgres://nobody@127.0.0.1:${port}/none`);
    const t = await createTestApp({ database });
    const res = await t.api.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.database).toMatchObject({ status: 'fail', error: 'timeout' });
    silent.close();
    void database.close().catch(() => {}); // the pool waits out its connect timeout; no need to block on it
  });

  it('turns 503 while the process drains', async () => {
    const t = await createTestApp();
    t.deps.lifecycle.draining = true;
    const res = await t.api.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.shutdown).toMatchObject({ status: 'fail' });
    await t.close();
  });

  it('a request that hits a dead database is a 503 database_unavailable problem with Retry-After, without internals', async () => {
    const t = await createTestApp({ database: createPostgresDatabase('postgres://nobody@127.0.0.1:1/none') });
    const res = await t.api.get('/v1/services');
    const body = expectProblem(res, 503, 'database_unavailable');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres:/);
    expect(t.logger.entries.find((e) => e.msg === 'unhandled error')).toBeUndefined();
    expect(t.logger.entries.find((e) => e.msg === 'database unavailable')).toMatchObject({ level: 'warn', reason: 'ECONNREFUSED' });
    await t.close();
  });
});

// Each test starts the real entry (tsx, PGlite, Argon2 threads): seconds on a quiet machine, much more
// on a loaded 2-core CI runner. The bound only stops a hung process; no assertion is about speed.
describe('node entry process', { timeout: 120_000 }, () => {
  it('refuses to start in production with a placeholder secret, naming the variable', async () => {
    const { exited } = run({
      APP_ENV: 'production',
      DATABASE_URL: 'postgres://app@127.0.0.1:5432/app',
      JWT_SECRET: 'your_jwt_secret_key',
      STRIPE_SECRET_KEY: 'sk_live_realistic_value_1234567890',
      STRIPE_WEBHOOK_SECRET: 'whsec_realistic_value_1234567890',
    });
    const { code, output } = await exited;
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET');
    expect(output).toContain('placeholder');
    expect(output).not.toContain('your_jwt_secret_key');
  });

  it('refuses to start with a malformed Node server variable, naming it, before opening the database', async () => {
    const dir = join(tmp, 'never-opened');
    const { exited } = run({ PORT: '0', HOST: '127.0.0.1', PGLITE_DIR: dir, SHUTDOWN_GRACE_MS: 'ten seconds' });
    const { code, output } = await exited;
    expect(code).toBe(1);
    expect(output).toContain('SHUTDOWN_GRACE_MS: must be a number of milliseconds, 0 or more');
    expect(existsSync(dir)).toBe(false);
  });

  it('drains on SIGTERM: in-flight requests finish, then it exits 0', async () => {
    let url = '';
    let handle!: ReturnType<typeof run>;
    const ready = new Promise<void>((resolve, reject) => {
      handle = run({ PORT: '0', HOST: '127.0.0.1', PGLITE_DIR: join(tmp, 'db'), LOG_LEVEL: 'info' }, (line) => {
        const m = /listening on (http:\/\/\S+)/.exec(line);
        if (m) {
          url = m[1]!.replace('localhost', '127.0.0.1');
          resolve();
        }
      });
      void handle.exited.then(({ code, output }) => reject(new Error(`exited ${code} before listening:\n${output}`)));
    });
    await ready;
    const reg = await fetch(`${url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'drain@example.test', password: 'drain password' }),
    });
    expect(reg.status).toBe(201);
    // A login (Argon2id, ~100 ms) is in flight when SIGTERM arrives.
    const inFlight = fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'drain@example.test', password: 'drain password' }),
    });
    await new Promise((r) => setTimeout(r, 20));
    handle.child.kill('SIGTERM');
    const login = await inFlight;
    expect(login.status).toBe(200);
    const { code, output } = await handle.exited;
    expect(code).toBe(0);
    expect(output).toContain('"msg":"shutting down"');
    expect(output).toContain('"msg":"stopped"');
  });
});
