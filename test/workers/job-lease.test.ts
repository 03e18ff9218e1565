/**
 * Issue 15, on the edge: the `payments-job` lease statement (src/modules/jobs/lease.ts) through the
 * real neon-http driver inside workerd, and the Worker's cron entry (`scheduled()`) invoked twice
 * at once on the same database through the local Neon endpoint: one runs, the other logs that it
 * skipped. The Node side (ten runners, crash takeover, the CronJob command): test/node/job-lease.test.ts.
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNeonDatabase } from '../../src/db/neon.js';
import { acquireLease, releaseLease } from '../../src/modules/jobs/lease.js';
import worker from '../../src/worker.js';
import { sqlDirect, testEnv } from './support.js';

const neonDeps = () => ({ database: createNeonDatabase(testEnv.DATABASE_URL, { localEndpoint: testEnv.NEON_LOCAL_ENDPOINT }) });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('job lease over Neon HTTP', () => {
  it('ten runners at once, each on its own HTTP request: exactly one takes the lease, the nine others name it; a non-holder cannot release it', async () => {
    const name = 'workers-lease-race';
    const deps = neonDeps();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireLease(deps, name, `edge-${i}`, 60_000)));
    const winners = results.filter((r) => r.held);
    expect(winners, JSON.stringify(results)).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ holder: winners[0]!.holder, expiresAt: winners[0]!.expiresAt });
    expect(Date.parse(winners[0]!.expiresAt) - Date.parse(winners[0]!.acquiredAt)).toBe(60_000);

    expect(await releaseLease(deps, name, 'edge-not-the-holder')).toBe(false);
    expect(await sqlDirect().query(`SELECT holder FROM job_leases WHERE name = $1`, [name])).toEqual([{ holder: winners[0]!.holder }]);

    // Expired (a crashed holder): the next runner takes it over.
    await sqlDirect().query(`UPDATE job_leases SET expires_at = now() - interval '1 second' WHERE name = $1`, [name]);
    expect(await acquireLease(deps, name, 'edge-next', 60_000)).toMatchObject({ held: true, holder: 'edge-next' });
    expect(await releaseLease(deps, name, 'edge-next')).toBe(true);
    expect(await sqlDirect().query(`SELECT holder FROM job_leases WHERE name = $1`, [name])).toEqual([]);
  });
});

describe('scheduled(): the cron trigger', () => {
  it('invoked twice at once on one database: one run of the payments job, one logged skip naming it; the lease is given back', async () => {
    const lines: Array<Record<string, unknown>> = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      if (typeof line === 'string' && line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    // Two isolates' worth: each env object builds its own app and database client.
    const invoke = () => {
      const pending: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException: () => {}, props: {} };
      const envIn = { ...(env as Record<string, unknown>), LOG_LEVEL: 'info' };
      worker.scheduled({ scheduledTime: Date.parse('2026-11-30T06:15:00Z') }, envIn as never, ctx);
      return pending;
    };
    const pending = [...invoke(), ...invoke()];
    expect(pending).toHaveLength(2);
    await Promise.all(pending);

    const ran = lines.filter((l) => l.msg === 'payments job' || l.msg === 'payments job failed');
    const skipped = lines.filter((l) => l.msg === 'payments job skipped: another runner holds the lease');
    expect(ran, JSON.stringify(lines)).toHaveLength(1);
    expect(ran[0]).toMatchObject({ msg: 'payments job', holder: expect.stringMatching(/^workerd:.+:cron@2026-11-30T06:15:00\.000Z#[0-9a-f]{8}$/) });
    // The retention sweep's one statement (ctid batches, two DELETE CTEs) runs over Neon HTTP too.
    expect(ran[0]).toMatchObject({ report: { retention: { idempotencyKeys: expect.any(Number), refreshRows: expect.any(Number) } } });
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ heldBy: ran[0]!.holder, until: expect.stringMatching(/^\d{4}-.+Z$/) });
    expect(await sqlDirect().query(`SELECT holder FROM job_leases WHERE name = 'payments-job'`)).toEqual([]);
  });
});
