/**
 * Shared pieces of the database fault suites (test/node/faults-*.test.ts): the skip-or-fail
 * rule, the Node server as a real child process, and the assertions every case makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { apiClient, expectProblem, type ApiClient, type ApiResponse } from './client.js';
import pg from 'pg';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { prepare } from '../setup/databases.js';
import { privateClusterUnavailable, type PrivateCluster } from './private-cluster.js';

/** The DATABASE_TIMEOUT_MS the servers under test get: short so the suite is quick, long enough that a loaded box (CI shares 2 cores) still connects in time. */
export const FAULT_TIMEOUT_MS = 3000;

/** Creates the database `laundry` on the cluster, migrated and seeded, as the app expects it. */
export async function createLaundryDatabase(cluster: PrivateCluster): Promise<void> {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE laundry');
  await admin.end();
  const database = createPostgresDatabase(cluster.url('laundry'), { max: 1 });
  try {
    await prepare(database);
  } finally {
    await database.close();
  }
}
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

/** One request against a broken database: 503 `database_unavailable` within ANSWER_BOUND_MS. Returns its ms. */
export async function unavailableInTime(request: () => Promise<ApiResponse>): Promise<number> {
  const { value, ms } = await timed(request);
  expectDatabaseUnavailable(value);
  expect(ms).toBeLessThan(ANSWER_BOUND_MS);
  return ms;
}

/** Runs `work` with the cluster frozen (SIGSTOP), thawing it whatever happens. */
export async function whileFrozen<T>(cluster: PrivateCluster, work: () => Promise<T>): Promise<T> {
  cluster.freeze();
  try {
    return await work();
  } finally {
    cluster.thaw();
  }
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

/**
 * Kills writes in flight: a burst of registrations (each hashes first, then writes the user and
 * its refresh token in one statement), the cluster stopped with `-m immediate` once the first is
 * acknowledged, then
 * started again. Every account must exist whole (user and token) or not at all, and every
 * acknowledged one must be there.
 */
export async function writeKilledInFlight(
  api: ApiClient,
  cluster: PrivateCluster,
  label: string,
  /** Resolves when the first write is on its way; default: when the first answer arrives. */
  writing?: () => Promise<void>,
): Promise<void> {
  const emails = Array.from({ length: 10 }, (_, i) => `inflight-${label}-${i}-${crypto.randomUUID().slice(0, 6)}@example.test`);
  // Stop as soon as the first account is acknowledged: the others are then hashing or writing.
  let firstAnswer!: () => void;
  const answered = new Promise<void>((r) => (firstAnswer = r));
  const sent = Promise.all(
    emails.map((email) => api.post('/v1/auth/register', { email, password: 'fault suite password' }).finally(() => firstAnswer())),
  );
  await Promise.race([writing ? writing() : answered, answered, new Promise((r) => setTimeout(r, 15_000))]);
  cluster.stop();
  const answers = await sent;
  for (const res of answers) if (res.status !== 201) expectDatabaseUnavailable(res);
  console.info(`faults (${label}, write killed): statuses ${answers.map((r) => r.status).join(',')}`);
  await cluster.start();

  const check = new pg.Client({ connectionString: cluster.url('laundry') });
  await check.connect();
  try {
    const { rows } = await check.query<{ email: string; tokens: number }>(
      `SELECT u.email, (SELECT count(*)::int FROM refresh_tokens t WHERE t.user_id = u.id) AS tokens FROM users u WHERE u.email = ANY($1)`,
      [emails],
    );
    const stored = new Map(rows.map((r) => [r.email, r.tokens]));
    emails.forEach((email, i) => {
      if (answers[i]!.status === 201) expect(stored.get(email), email).toBe(1); // acknowledged → durable
      if (stored.has(email)) expect(stored.get(email), email).toBe(1); // never a user without its token
    });
  } finally {
    await check.end();
  }
}
