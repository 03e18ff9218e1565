/**
 * The embedded database takes one process at a time (src/db/pglite-lock.ts): the README's
 * steps in the order a newcomer runs them, a second server on the same folder, the CLI next
 * to a running server, and the stale lock a SIGKILLed process leaves.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderLockedError, lockFolder } from '../../src/db/pglite-lock.js';
import { spawnServer, startServer, stopServer, type ServerProcess } from '../support/server-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'laundry-lock-'));
const servers: ServerProcess[] = [];
afterAll(() => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** `npm run cli -- …args` on `dir`, to completion. */
function cli(dir: string, ...args: string[]): { code: number | null; output: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, PGLITE_DIR: dir },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

const ADMIN = ['create-user', '--role', 'admin', '--email', 'admin@example.com', '--password', 'a long admin password'];

async function login(url: string, email: string, password: string) {
  const res = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return { status: res.status, body: (await res.json()) as { user?: { role: string } } };
}

describe('the embedded database lock, in-process', () => {
  it('refuses a folder a live process holds, naming it; takes over one whose holder is gone', async () => {
    const dir = join(tmp, 'unit');
    const sleeper = spawn('sleep', ['60']);
    try {
      const held = { pid: sleeper.pid, command: 'scripts/other.ts', startedAt: '2026-11-29T00:00:00.000Z', hostname: hostname() };
      writeFileSync(`${dir}.lock`, JSON.stringify(held));
      let error: unknown;
      try {
        lockFolder(dir);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(FolderLockedError);
      expect((error as Error).message).toContain(dir);
      expect((error as Error).message).toContain(`process ${sleeper.pid} (scripts/other.ts`);
      // The same pid, now a different process than the one that wrote the lock (pid reuse).
      writeFileSync(`${dir}.lock`, JSON.stringify({ ...held, startTicks: '1' }));
      lockFolder(dir)();
    } finally {
      sleeper.kill('SIGKILL');
    }
    // The holder is gone: its lock is stale.
    writeFileSync(`${dir}.lock`, JSON.stringify({ pid: sleeper.pid, command: 'x', startedAt: 'x', hostname: hostname() }));
    if (sleeper.exitCode === null && sleeper.signalCode === null) await new Promise((r) => sleeper.once('exit', r));
    const release = lockFolder(dir);
    expect(() => lockFolder(dir)).toThrow(FolderLockedError); // held by this process now
    release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});

describe('the embedded database lock, across processes', () => {
  it('the CLI refuses next to a running server; a second server fails at once; the README order works; a SIGKILLed holder does not block', async () => {
    const dir = join(tmp, 'pglite');
    const first = await startServer({ PGLITE_DIR: dir, SHUTDOWN_GRACE_MS: '1000' });
    servers.push(first);
    const pid = first.child.pid!;

    // The CLI next to the server: a refusal that says what to do, never "created".
    const refused = cli(dir, ...ADMIN);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain(`${dir} is in use by process ${pid} (src/node.ts`);
    expect(refused.output).toMatch(/stop the server \(Ctrl-C\)/);
    expect(refused.output).not.toContain('created');
    expect(refused.output).not.toContain('a long admin password');

    // A second server on the same folder exits non-zero without listening.
    const second = spawnServer({ PGLITE_DIR: dir });
    servers.push(second);
    const { code, output } = await second.exited;
    expect(code).not.toBe(0);
    expect(output).toContain(`${dir} is in use by process ${pid}`);
    expect(output).not.toMatch(/listening on/);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    // Stopped, the server frees the folder; the CLI then writes what the next start serves.
    expect(await stopServer(first)).toBe(0);
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const created = cli(dir, ...ADMIN);
    expect(created.code, created.output).toBe(0);
    expect(created.output).toMatch(/created admin admin@example\.com/);
    const again = await startServer({ PGLITE_DIR: dir, SHUTDOWN_GRACE_MS: '1000' });
    servers.push(again);
    const ok = await login(again.url, 'admin@example.com', 'a long admin password');
    expect(ok.status).toBe(200);
    expect(ok.body.user?.role).toBe('admin');

    // SIGKILL leaves the lock file behind; the next process finds its holder gone and goes on.
    again.child.kill('SIGKILL');
    await again.exited;
    expect(existsSync(`${dir}.lock`)).toBe(true);
    const afterKill = cli(dir, 'set-role', '--email', 'admin@example.com', '--role', 'staff');
    expect(afterKill.code, afterKill.output).toBe(0);
    expect(afterKill.output).toContain('admin@example.com is now staff');
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 300_000);
});
