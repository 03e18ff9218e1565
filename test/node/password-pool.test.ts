/**
 * Argon2id on worker threads (src/auth/hash-pool.ts): the same PHC strings as inline hashing,
 * a bounded queue that answers 503 busy with Retry-After, and an event loop that stays free
 * for /healthz while logins hash.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPooledPasswordHasher, defaultHashThreads } from '../../src/auth/hash-pool.js';
import { createPasswordHasher, OWASP_ARGON2ID, parsePhc, type PasswordHasher } from '../../src/auth/password.js';
import { ApiError } from '../../src/errors.js';
import { HASH_THREAD_NICE, loadArgon2idKernel } from '../../src/auth/argon2-node.mjs';
import { expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp } from '../support/node-app.js';
import { startServer, stopServer } from '../support/server-process.js';

const cheap = { memoryKiB: 64, passes: 1, parallelism: 1 };
const tmp = mkdtempSync(join(tmpdir(), 'laundry-hash-'));
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
  rmSync(tmp, { recursive: true, force: true });
});
function pooled(...args: Parameters<typeof createPooledPasswordHasher>): PasswordHasher {
  const hasher = createPooledPasswordHasher(...args);
  closers.push(() => hasher.close!());
  return hasher;
}

describe('the hashing pool', () => {
  it('sizes itself from the CPU count, leaving one to the event loop, 1 to 4 threads', () => {
    expect([1, 2, 3, 8, 64].map((cpus) => defaultHashThreads(cpus))).toEqual([1, 1, 2, 4, 4]);
  });

  it.runIf(process.platform === 'linux')('hashes at a lower scheduling priority than the event loop: its threads only (Linux nice is per thread)', async () => {
    const pool = pooled(cheap, { threads: 1 });
    await pool.hash('correct horse battery');
    // /proc/self/task/<tid>/stat: field 19 is the nice value; the main thread's tid is the pid.
    const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
    const tasks = readdirSync('/proc/self/task');
    expect(nice(String(process.pid))).toBe(0);
    expect(getPriority()).toBe(0);
    expect(tasks.map(nice)).toContain(HASH_THREAD_NICE);
    expect(HASH_THREAD_NICE).toBeGreaterThan(0);
  });

  it('writes and checks the same PHC strings as inline hashing, with the parameters it is given', async () => {
    const pool = pooled(cheap, { threads: 2 });
    const inline = createPasswordHasher(loadArgon2idKernel, cheap);
    const fromPool = await pool.hash('correct horse battery');
    expect(parsePhc(fromPool)?.params).toEqual(cheap);
    expect(fromPool).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(await inline.verify('correct horse battery', fromPool)).toBe(true);
    const fromInline = await inline.hash('another long one');
    expect(await pool.verify('another long one', fromInline)).toBe(true);
    expect(await pool.verify('another long two', fromInline)).toBe(false);
    expect(await pool.verify('anything', null)).toBe(false);
    expect(await pool.verify('anything', 'not a phc string')).toBe(false);
    // OWASP parameters (the default) go through the pool too.
    const owasp = pooled(undefined, { threads: 1 });
    const strong = await owasp.hash('correct horse battery');
    expect(parsePhc(strong)?.params).toEqual({ memoryKiB: 19456, passes: 2, parallelism: 1 });
    expect(await inline.verify('correct horse battery', strong)).toBe(true);
  });

  it('lets an idle thread exit (its memory with it) and starts one again for the next derivation', async () => {
    const pool = createPooledPasswordHasher(cheap, { threads: 1, idleMs: 200 });
    closers.push(() => pool.close!());
    expect(pool.threadCount()).toBe(0);
    const phc = await pool.hash('correct horse battery');
    expect(pool.threadCount()).toBe(1);
    await expect.poll(() => pool.threadCount(), { timeout: 10_000, interval: 50 }).toBe(0);
    expect(await pool.verify('correct horse battery', phc)).toBe(true);
    expect(await pool.verify('correct horse batterx', phc)).toBe(false);
    expect(pool.threadCount()).toBe(1);
  });

  it('refuses work beyond its queue with 503 busy and a Retry-After, and keeps serving afterwards', async () => {
    const pool = pooled(undefined, { threads: 1, maxQueue: 2 });
    const phc = await pool.hash('correct horse battery');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => pool.verify('correct horse battery', phc)));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
    const passed = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<boolean>).value);
    expect(refused.length).toBeGreaterThan(0);
    expect(passed.length).toBeGreaterThan(0);
    expect(passed.every(Boolean)).toBe(true);
    for (const err of refused) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe('busy');
      expect((err as ApiError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(await pool.verify('correct horse battery', phc)).toBe(true);
  });
});

describe('logins through the pool', () => {
  it('a full queue answers login and register with 503 busy and Retry-After, never a hang or a 500', async () => {
    // OWASP's cost (not the test apps' lowest one): the queue fills only while derivations take time.
    const t = await createTestApp({ hashPool: { threads: 1, maxQueue: 1 }, argon2Params: OWASP_ARGON2ID });
    closers.push(() => t.close());
    const logins = Array.from({ length: 8 }, () => t.api.post('/v1/auth/login', { email: uniqueEmail('busy'), password: 'some password 123' }));
    const registers = Array.from({ length: 8 }, () => t.api.post('/v1/auth/register', { email: uniqueEmail('busyreg'), password: 'some password 123' }));
    const [loginRes, registerRes] = [await Promise.all(logins), await Promise.all(registers)];
    for (const [name, responses, ok] of [['login', loginRes, 401], ['register', registerRes, 201]] as const) {
      const statuses = responses.map((r) => r.status);
      expect(statuses.every((s) => s === ok || s === 503), `${name}: ${statuses.join(',')}`).toBe(true);
      expect(statuses, name).toContain(503);
      for (const res of responses.filter((r) => r.status === 503)) {
        expectProblem(res, 503, 'busy');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('/healthz answers while 20 logins are hashing (the server process, as `npm start` runs it)', async () => {
    const server = await startServer({ PGLITE_DIR: join(tmp, 'burst'), SHUTDOWN_GRACE_MS: '1000' });
    closers.push(async () => void (await stopServer(server)));
    const login = () =>
      fetch(`${server.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: uniqueEmail('burst'), password: 'some password 123' }),
      });
    await login(); // the hashing thread is up
    const logins = Array.from({ length: 20 }, () => login().then((r) => r.status));
    let inFlight = true;
    const burst = Promise.all(logins).finally(() => (inFlight = false));
    // Probe /healthz back to back for as long as the burst lasts. Hashing on the main thread,
    // every probe waited behind the hashes queued before its socket was read: about one probe
    // per login got through. On the pool a probe costs what it costs when idle.
    let probes = 0;
    while (inFlight) {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      if (inFlight) probes++;
    }
    expect(await burst).toEqual(Array(20).fill(401));
    expect(probes, `/healthz answers during 20 logins: ${probes}`).toBeGreaterThanOrEqual(60);
  }, 120_000);
});
