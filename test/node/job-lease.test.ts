/**
 * Issue 15: one scheduler at a time for the payments job. The Worker's cron, the Node timer, the
 * Kubernetes CronJob and the CLI all go through runPaymentJobsExclusive, which takes the
 * `payments-job` lease (src/modules/jobs/lease.ts) in one statement. On the PostgreSQL server
 * (TEST_DATABASE_URL) the concurrent runners below are real concurrent transactions on separate
 * connections; without it they run on PGlite, which serialises them (the statement still decides).
 * The same statement over Neon's HTTP driver: test/workers/job-lease.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import type { Deps } from '../../src/deps.js';
import { acquireLease, releaseLease, renewLease } from '../../src/modules/jobs/lease.js';
import { PAYMENTS_JOB_LEASE, runPaymentJobsExclusive, type ExclusiveJobRun } from '../../src/modules/payments/exclusive.js';
import { runPaymentJobs, type JobReport } from '../../src/modules/payments/jobs.js';
import { startStripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { recreateServerDatabase } from '../setup/databases.js';
import type { Harness } from '../support/harness.js';
import type { TestApp } from '../support/node-app.js';
import { isolatedApp } from '../support/own-database.js';

let t: TestApp;
let h: Harness;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ t, h, close } = await isolatedApp('laundry_test_job_lease'));
});
afterAll(async () => {
  await close?.();
});

const leaseRows = () =>
  h.sql<{ name: string; holder: string; live: boolean }>(`SELECT name, holder, expires_at > now() AS live FROM job_leases ORDER BY name`);

const emptyReport = (): JobReport => ({ expiringHolds: [], lostHolds: [], unpaidDeliveriesFlagged: 0, reconciliation: null, staleRefunds: null, outstanding: [] });

/** Resolves when `check` holds, polling; fails after `bound` ms (a generous bound, not a timing assertion). */
async function until(check: () => Promise<boolean>, what: string, bound = 20_000): Promise<void> {
  const end = Date.now() + bound;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The app's deps with a database that counts the statements sent (rows, batch and query calls). */
function counted(deps: Deps): { deps: Deps; statements: () => number } {
  let n = 0;
  const db = deps.database;
  const database: Database = {
    kind: db.kind,
    db: db.db,
    rows: (schema, query) => (n++, db.rows(schema, query)),
    batch: (build) => (n++, db.batch(build)),
    ...(db.query ? { query: (build: Parameters<NonNullable<Database['query']>>[0]) => (n++, db.query!(build)) } : {}),
    ping: (ms) => db.ping(ms),
    close: () => db.close(),
  } as Database;
  return { deps: { ...deps, database }, statements: () => n };
}

describe('job lease statements', () => {
  it('takes a free lease, refuses a live one naming its holder and expiry, and takes over an expired one', async () => {
    const name = 'lease-basics';
    const a = await acquireLease(t.deps, name, 'runner-a', 60_000);
    expect(a).toMatchObject({ name, held: true, holder: 'runner-a' });
    expect(a.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    // TTL from the database clock: expires_at - acquired_at is exactly the TTL.
    expect(Date.parse(a.expiresAt) - Date.parse(a.acquiredAt)).toBe(60_000);

    const b = await acquireLease(t.deps, name, 'runner-b', 60_000);
    expect(b).toEqual({ name, held: false, holder: 'runner-a', acquiredAt: a.acquiredAt, expiresAt: a.expiresAt });
    // The holder asking again (the same run) is told it holds it; nothing moves.
    expect(await acquireLease(t.deps, name, 'runner-a', 60_000)).toEqual({ ...a, held: true });

    // A crashed holder: its lease ran out (database clock) and the next runner takes it.
    await h.sql(`UPDATE job_leases SET expires_at = now() - interval '1 second' WHERE name = $1`, [name]);
    const c = await acquireLease(t.deps, name, 'runner-c', 60_000);
    expect(c).toMatchObject({ held: true, holder: 'runner-c' });
    expect(Date.parse(c.acquiredAt)).toBeGreaterThan(Date.parse(a.acquiredAt));
    expect(await releaseLease(t.deps, name, 'runner-c')).toBe(true);
  });

  it('a release or a renewal by a runner that does not hold the lease changes nothing', async () => {
    const name = 'lease-release';
    const a = await acquireLease(t.deps, name, 'holder-a', 60_000);
    expect(await releaseLease(t.deps, name, 'not-the-holder')).toBe(false);
    expect(await renewLease(t.deps, name, 'not-the-holder', 600_000)).toBeUndefined();
    const [row] = await h.sql<{ holder: string; expires_at: string }>(
      `SELECT holder, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS expires_at FROM job_leases WHERE name = $1`,
      [name],
    );
    expect(row).toEqual({ holder: 'holder-a', expires_at: a.expiresAt });

    const renewed = await renewLease(t.deps, name, 'holder-a', 600_000);
    expect(Date.parse(renewed!)).toBeGreaterThan(Date.parse(a.expiresAt));
    expect(await releaseLease(t.deps, name, 'holder-a')).toBe(true);
    expect(await releaseLease(t.deps, name, 'holder-a')).toBe(false);
    expect((await leaseRows()).filter((r) => r.name === name)).toEqual([]);
  });

  it('ten runners at once, on a free lease and on an expired one: exactly one holds it and the nine others name that one', async () => {
    const name = 'lease-race';
    for (let round = 0; round < 4; round++) {
      // Even rounds start with no row (ten INSERTs race), odd ones with an expired row (ten takeovers race).
      if (round % 2) await h.sql(`INSERT INTO job_leases VALUES ($1, 'crashed', now() - interval '1 hour', now() - interval '1 second')`, [name]);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireLease(t.deps, name, `racer-${round}-${i}`, 60_000)));
      const winners = results.filter((r) => r.held);
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      for (const r of results) expect(r).toMatchObject({ holder: winners[0]!.holder, expiresAt: winners[0]!.expiresAt });
      expect(await releaseLease(t.deps, name, winners[0]!.holder)).toBe(true);
    }
  });
});

describe('runPaymentJobsExclusive', () => {
  it('ten schedulers at once: exactly one runs the job body, nine report skipped (held by it until T) and log it; the lease is given back', async () => {
    let entered = 0;
    let settled = 0;
    let othersDone!: () => void;
    const allOthersDone = new Promise<void>((r) => (othersDone = r));
    const body = async () => {
      entered++;
      // Hold the lease until the nine others have answered: the runs overlap for certain.
      await allOthersDone;
      return emptyReport();
    };
    const before = t.logger.entries.length;
    const runs = Array.from({ length: 10 }, (_, i) =>
      runPaymentJobsExclusive(t.deps, { runner: `test:runner-${i}`, run: body }).finally(() => {
        if (++settled === 9) othersDone();
      }),
    );
    const results: ExclusiveJobRun[] = await Promise.all(runs);
    expect(entered).toBe(1);
    const ran = results.filter((r) => r.outcome === 'ran');
    const skipped = results.filter((r) => r.outcome === 'skipped');
    expect(ran).toHaveLength(1);
    expect(skipped).toHaveLength(9);
    expect(ran[0]!.holder).toMatch(/^test:runner-\d#[0-9a-f]{8}$/);
    for (const s of skipped) {
      expect(s).toMatchObject({ heldBy: ran[0]!.holder });
      expect(Date.parse(s.until)).toBeGreaterThan(Date.now());
    }
    const logs = t.logger.entries.slice(before);
    expect(logs.filter((e) => e.msg === 'payments job skipped: another runner holds the lease').map((e) => e.heldBy)).toEqual(Array(9).fill(ran[0]!.holder));
    expect(logs.filter((e) => e.msg === 'payments job').map((e) => e.holder)).toEqual([ran[0]!.holder]);
    expect((await leaseRows()).filter((r) => r.name === PAYMENTS_JOB_LEASE)).toEqual([]);
  });

  it('two real runs at once: one runs the payments job and reports, the other is skipped', async () => {
    let otherDone!: () => void;
    const otherAnswered = new Promise<void>((r) => (otherDone = r));
    // The real job, started once the other runner has answered, so the two surely overlap.
    const run = async (deps: Deps) => (await otherAnswered, runPaymentJobs(deps));
    const [a, b] = await Promise.all(
      ['test:real-a', 'test:real-b'].map((runner) => runPaymentJobsExclusive(t.deps, { runner, run }).finally(() => otherDone())),
    );
    const ran = [a!, b!].filter((r) => r.outcome === 'ran');
    const skipped = [a!, b!].filter((r) => r.outcome === 'skipped');
    expect(ran).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    expect(ran[0]).toMatchObject({ report: { unpaidDeliveriesFlagged: expect.any(Number), reconciliation: { checked: expect.any(Number) } } });
    expect(ran[0]).not.toHaveProperty('failure');
    expect(skipped[0]).toMatchObject({ heldBy: ran[0]!.holder });
    expect((await leaseRows()).filter((r) => r.name === PAYMENTS_JOB_LEASE)).toEqual([]);
  });

  it('a job that throws still gives the lease back, and the error reaches the caller', async () => {
    const boom = new Error('job body failed');
    await expect(runPaymentJobsExclusive(t.deps, { runner: 'test:thrower', run: () => Promise.reject(boom) })).rejects.toBe(boom);
    expect((await leaseRows()).filter((r) => r.name === PAYMENTS_JOB_LEASE)).toEqual([]);
    expect(t.logger.entries.filter((e) => e.msg === 'payments job failed' && String(e.holder).startsWith('test:thrower#'))).toHaveLength(1);
    const next = await runPaymentJobsExclusive(t.deps, { runner: 'test:after-thrower', run: async () => emptyReport() });
    expect(next.outcome).toBe('ran');
  });

  it('a lease that cannot be asked (database down) is logged as a failed run, and the error reaches the caller', async () => {
    // The Worker's cron and the Node timer drop the rejection (`.catch(() => undefined)`) because
    // the entry logs every failure: this one must be logged too, or the run is lost without a trace.
    const down = new Error('database unreachable');
    const deps = { ...t.deps, database: { ...t.deps.database, rows: () => Promise.reject(down) } as Database };
    const before = t.logger.entries.length;
    await expect(runPaymentJobsExclusive(deps, { runner: 'test:db-down', run: async () => emptyReport() })).rejects.toBe(down);
    const failed = t.logger.entries.slice(before).filter((e) => e.msg === 'payments job failed' && String(e.holder).startsWith('test:db-down#'));
    expect(failed, JSON.stringify(t.logger.entries.slice(before))).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'error', phase: 'lease' });
  });

  it('a crashed holder blocks until its lease expires, then the next runner takes over', async () => {
    await h.sql(`INSERT INTO job_leases VALUES ($1, 'node:dead-pod:job#deadbeef', now(), now() + interval '10 minutes')`, [PAYMENTS_JOB_LEASE]);
    const [{ until: expected } = { until: '' }] = await h.sql<{ until: string }>(
      `SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS until FROM job_leases WHERE name = $1`,
      [PAYMENTS_JOB_LEASE],
    );
    let entered = 0;
    const body = async () => (entered++, emptyReport());
    const blocked = await runPaymentJobsExclusive(t.deps, { runner: 'test:next', run: body });
    expect(blocked).toMatchObject({ outcome: 'skipped', heldBy: 'node:dead-pod:job#deadbeef', until: expected });
    expect(entered).toBe(0);
    await h.sql(`UPDATE job_leases SET expires_at = now() - interval '1 millisecond' WHERE name = $1`, [PAYMENTS_JOB_LEASE]);
    expect((await runPaymentJobsExclusive(t.deps, { runner: 'test:next', run: body })).outcome).toBe('ran');
    expect(entered).toBe(1);
    expect((await leaseRows()).filter((r) => r.name === PAYMENTS_JOB_LEASE)).toEqual([]);
  });

  it('costs exactly two statements beyond the job body when it runs (take, give back), one when skipped', async () => {
    const c = counted(t.deps);
    await runPaymentJobsExclusive(c.deps, { runner: 'test:count', run: async () => emptyReport() });
    expect(c.statements()).toBe(2);
    const held = await acquireLease(t.deps, PAYMENTS_JOB_LEASE, 'test:other', 60_000);
    const skip = counted(t.deps);
    expect((await runPaymentJobsExclusive(skip.deps, { runner: 'test:count', run: async () => emptyReport() })).outcome).toBe('skipped');
    expect(skip.statements()).toBe(1);
    await releaseLease(t.deps, PAYMENTS_JOB_LEASE, held.holder);
  });

  it('a long run renews its lease; one that finds it cleared says it lost it', async () => {
    const expiry = async () =>
      (await h.sql<{ ms: number }>(`SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS ms FROM job_leases WHERE name = $1`, [PAYMENTS_JOB_LEASE]))[0]?.ms;
    let first: number | undefined;
    const renewed = await runPaymentJobsExclusive(t.deps, {
      runner: 'test:long',
      ttlMs: 600_000,
      renewEveryMs: 50,
      run: async () => {
        first = await expiry();
        await until(async () => ((await expiry()) ?? 0) > first!, 'the lease renewed');
        return emptyReport();
      },
    });
    expect(renewed).toMatchObject({ outcome: 'ran' });
    expect(renewed).not.toHaveProperty('leaseLost');

    const lost = await runPaymentJobsExclusive(t.deps, {
      runner: 'test:cleared',
      ttlMs: 600_000,
      renewEveryMs: 50,
      run: async () => {
        // An operator clears the lease by hand (docs/runbook.md, "One runner at a time").
        await h.sql(`DELETE FROM job_leases WHERE name = $1`, [PAYMENTS_JOB_LEASE]);
        await until(async () => t.logger.entries.some((e) => e.msg === 'payments job lease lost while running: another runner may overlap'), 'the loss noticed');
        return emptyReport();
      },
    });
    expect(lost).toMatchObject({ outcome: 'ran', leaseLost: true });
  });
});

const serverDb = process.env.TEST_DATABASE_URL;
it('runs the process tests below whenever CI requires the PostgreSQL server', () => {
  if (process.env.REQUIRE_SERVER_DB === '1') expect(serverDb).toBeTruthy();
});
describe.runIf(serverDb)('the other schedulers, as processes: the CronJob command, the Node timer, the CLI', () => {
  /** Runs `node --import tsx <args>`; `onLine` sees each output line (and may stop the child). */
  function runNode(args: string[], env: Record<string, string>, onLine?: (line: string, child: ChildProcess) => void): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (c: Buffer) => {
      const text = c.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) onLine?.(line, child);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
  }

  const GHOST = 'workerd:v1:cron@2026-11-30T06:00:00.000Z#0123abcd';
  let url = '';
  let admin: pg.Client;
  let stripe: Awaited<ReturnType<typeof startStripeStandIn>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    url = await recreateServerDatabase(serverDb!, 'laundry_test_job_lease_cmd');
    stripe = await startStripeStandIn();
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    env = {
      APP_ENV: 'development',
      DATABASE_URL: url,
      JWT_SECRET: 'job-lease-test-jwt-secret-0123456789abcdef',
      STRIPE_SECRET_KEY: 'sk_test_job_lease_0123456789',
      STRIPE_WEBHOOK_SECRET: 'whsec_job_lease_0123456789',
      STRIPE_API_URL: stripe.url,
    };
  });
  afterAll(async () => {
    await admin?.end();
    await stripe?.close();
  });
  const holdAsGhost = () =>
    admin.query(
      `INSERT INTO job_leases VALUES ('payments-job', $1, now(), now() + interval '10 minutes')
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
      [GHOST],
    );
  const clear = () => admin.query(`DELETE FROM job_leases WHERE name = 'payments-job'`);
  const leaseCount = async () => (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_leases`)).rows[0]!.n;

  it('the CronJob command exits 0 and logs who holds the lease when another runner has it; runs (exit 0) once it is free', { timeout: 120_000 }, async () => {
    await holdAsGhost();
    const skipped = await runNode(['src/node.ts', 'payments-job'], env);
    expect(skipped.code, skipped.output).toBe(0);
    expect(skipped.output).toMatch(new RegExp(`"msg":"payments job skipped: another runner holds the lease".*"heldBy":"${GHOST.replace(/[.]/g, '\\.')}"`));
    expect(skipped.output).not.toMatch(/"msg":"payments job"/);

    await clear();
    const ran = await runNode(['src/node.ts', 'payments-job'], env);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toMatch(/"msg":"payments job".*"holder":"node:[^"]+:job#[0-9a-f]{8}"/);
    expect(await leaseCount()).toBe(0);
  });

  it('the Node timer (PAYMENTS_JOB_INTERVAL_MS) skips while another runner holds the lease, and runs once it is free', { timeout: 120_000 }, async () => {
    await holdAsGhost();
    let skips = 0;
    const exited = runNode(['src/node.ts'], { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', PAYMENTS_JOB_INTERVAL_MS: '200', SHUTDOWN_DELAY_MS: '0' }, (line, child) => {
      if (line.includes('"msg":"payments job skipped: another runner holds the lease"') && line.includes(GHOST) && ++skips === 1) void clear();
      if (/"msg":"payments job".*"holder":"node:[^"]+:\d+:timer#[0-9a-f]{8}"/.test(line)) child.kill('SIGTERM');
    });
    const { code, output } = await exited;
    expect(code, output).toBe(0);
    expect(skips).toBeGreaterThanOrEqual(1);
    expect(output).toMatch(/"msg":"payments job".*:timer#/);
    // SIGTERM waited for the run in flight, which gave its lease back before the database closed.
    expect(await leaseCount()).toBe(0);
  });

  it('npm run cli -- payments-job prints the skip (holder and expiry) while another runner holds the lease', { timeout: 120_000 }, async () => {
    await holdAsGhost();
    const skipped = await runNode(['scripts/cli.ts', 'payments-job'], env);
    expect(skipped.code, skipped.output).toBe(0);
    // The pretty-printed outcome, among the one-line JSON log entries.
    const printedJson = (output: string) => JSON.parse(/^\{\n[\s\S]*?\n\}$/m.exec(output)?.[0] ?? 'null') as ExclusiveJobRun;
    const printed = printedJson(skipped.output);
    expect(printed).toMatchObject({ outcome: 'skipped', heldBy: GHOST, until: expect.stringMatching(/^\d{4}-.+Z$/), holder: expect.stringMatching(/^cli:[^:]+:\d+#[0-9a-f]{8}$/) });
    await clear();
    const ran = await runNode(['scripts/cli.ts', 'payments-job'], env);
    expect(printedJson(ran.output), ran.output).toMatchObject({ outcome: 'ran', report: { unpaidDeliveriesFlagged: 0 } });
    expect(await leaseCount()).toBe(0);
  });
});
