/**
 * Shared pieces of the database fault suites (test/node/faults-*.test.ts): the skip-or-fail
 * rule, the Node server as a real child process, and the assertions every case makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { apiClient, expectProblem, type ApiClient, type ApiResponse } from './client.js';
import { privateClusterUnavailable } from './private-cluster.js';

/** The DATABASE_TIMEOUT_MS the servers under test get: short so the suite is quick. */
export const FAULT_TIMEOUT_MS = 1500;
/** How long a 503 may take, measured from outside on a loaded box: generous on purpose. */
export const ANSWER_BOUND_MS = FAULT_TIMEOUT_MS + 10_000;

/**
 * `describe`, unless the private cluster cannot be made here: then a visible skip, or, when
 * REQUIRE_FAULT_SUITE=1 (CI), a failing test, so CI never passes without running the suite.
 */
export function describeFaults(name: string, body: () => void): void {
  const missing = privateClusterUnavailable();
  if (!missing) {
    describe(name, body);
    return;
  }
  if (process.env.REQUIRE_FAULT_SUITE === '1') {
    describe(name, () => {
      it('needs a private PostgreSQL cluster (REQUIRE_FAULT_SUITE=1)', () => {
        throw new Error(`fault suite required but cannot run: ${missing}`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPING the database fault suite "${name}": ${missing} ***\n`);
  describe.skip(name, body);
}

export interface NodeServerProcess {
  child: ChildProcess;
  url: string;
  api: ApiClient;
  output(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** `node --import tsx src/node.ts` as `npm start` runs it, on PORT=0; resolves once it listens. */
export async function spawnNodeServer(env: Record<string, string>): Promise<NodeServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', APP_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!.replace('localhost', '127.0.0.1'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then(() => reject(new Error(`server exited before listening:\n${output}`)));
  });
  return {
    child,
    url,
    api: apiClient((request) => fetch(request), url),
    output: () => output,
    alive: () => !exited && child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (exited) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
}

/** Runs `work` and returns its result with the wall time it took, in ms. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** 503 problem+json `database_unavailable` with a Retry-After of at least one second. */
export function expectDatabaseUnavailable(res: ApiResponse): void {
  expectProblem(res, 503, 'database_unavailable');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(res.body.detail).toMatch(/Idempotency-Key/);
}

/** Polls until `check` answers true, every 250 ms, for at most `limitMs`; returns the last answer. */
export async function eventually(check: () => Promise<boolean>, limitMs = 30_000): Promise<boolean> {
  const until = performance.now() + limitMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A customer with a token, to read a route that always asks the database (GET /v1/orders). */
export async function registerCustomer(api: ApiClient, prefix: string): Promise<{ email: string; token: string }> {
  const email = `${prefix}-${crypto.randomUUID().slice(0, 8)}@example.test`;
  const res = await api.post('/v1/auth/register', { email, password: 'fault suite password' });
  expect(res.status, res.text).toBe(201);
  return { email, token: res.body.accessToken as string };
}
