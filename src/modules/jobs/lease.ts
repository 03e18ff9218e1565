import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';

/**
 * Leases for scheduled jobs that must not overlap (table `job_leases`, migration 0011): the
 * Worker's cron trigger, a Node timer, the Kubernetes CronJob and the CLI may all start the same
 * job against one database; whoever takes the lease runs, the others skip.
 *
 * Why a lease row and not an advisory lock: Neon's HTTP driver has no session
 * (docs/runbook.md, "The local Neon endpoint"), so a `pg_advisory_lock` would be released when
 * the statement that took it ends, long before the job does. Every function here is ONE
 * statement, so it works on all three drivers (neon-http, node-postgres, PGlite).
 *
 * Time is the database's (`now()`), never the app's clock: the runners sit on different machines
 * (a Cloudflare data centre, a pod, an operator's laptop) and only the database's clock is
 * shared, so a skewed runner can neither take a live lease early nor hold one too long.
 */

/** What `acquireLease` found: held = this holder has the lease now. Instants are ISO UTC (µs). */
export interface LeaseState {
  name: string;
  held: boolean;
  /** Who holds it after the statement: this holder when `held`, else the other runner. */
  holder: string;
  acquiredAt: string;
  /** After this instant (database clock) anyone may take it. */
  expiresAt: string;
}

const LeaseRow = z.object({ holder: z.string(), acquired_at: z.string(), expires_at: z.string() });

type LeaseDeps = Pick<Deps, 'database'>;

/** An instant as ISO UTC text at the database's microsecond precision. */
const utcMicros = (column: SQL) => sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * A holder id for one run: `runner` (runtime and host, pod or invocation, e.g.
 * `node:laundry-api-payments-job-29391-abcde:job`) and a random suffix, so two runs from the same
 * place never pass for one another (`acquireLease` treats its own holder id as already holding).
 */
export function newHolderId(runner: string): string {
  return `${runner}#${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Takes the lease `name` for `holder` for `ttlMs` milliseconds (database clock), in ONE statement:
 * a new row, or the existing row taken over when it has expired (`expires_at <= now()`); a live
 * lease of another holder is left as it is, and its holder and expiry are returned.
 *
 * It is `INSERT … ON CONFLICT (name) DO UPDATE SET col = CASE WHEN expired THEN new ELSE old END`
 * rather than `DO UPDATE … WHERE expired`: with the WHERE form a runner that loses gets no row
 * back, and a read in the same statement sees the statement's snapshot, which misses (or shows the
 * stale expired version of) a row another runner committed while this one waited on its lock.
 * ON CONFLICT DO UPDATE locks the row and works on its latest committed version
 * (https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT), so the RETURNING row
 * is always the true holder, winner or not, in one round trip. The price: a skipped attempt
 * rewrites the row unchanged (one row version per skipped run).
 *
 * `holder` must be unique to the run (`newHolderId`): the same id again while the lease is live
 * answers held (it already holds it). Rejects with the driver's error when the database fails.
 */
export async function acquireLease(deps: LeaseDeps, name: string, holder: string, ttlMs: number): Promise<LeaseState> {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttlMs must be a positive integer, got ${ttlMs}`);
  const expired = sql`job_leases.expires_at <= now()`;
  const [row] = await deps.database.rows(LeaseRow, sql`
    INSERT INTO job_leases (name, holder, acquired_at, expires_at)
    VALUES (${name}, ${holder}, now(), now() + ${ttlMs}::bigint * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET
      holder = CASE WHEN ${expired} THEN excluded.holder ELSE job_leases.holder END,
      acquired_at = CASE WHEN ${expired} THEN excluded.acquired_at ELSE job_leases.acquired_at END,
      expires_at = CASE WHEN ${expired} THEN excluded.expires_at ELSE job_leases.expires_at END
    RETURNING holder, ${utcMicros(sql`acquired_at`)} AS acquired_at, ${utcMicros(sql`expires_at`)} AS expires_at`);
  if (!row) throw new Error(`taking the lease ${name} returned no row`);
  return { name, held: row.holder === holder, holder: row.holder, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
}

/**
 * Extends `holder`'s lease to `ttlMs` from now (database clock), for a run that lasts longer than
 * expected. Answers the new expiry (ISO UTC), or undefined when `holder` no longer holds it (it
 * expired and another runner took it, or an operator cleared it): the caller is then no longer
 * alone and should say so. One statement.
 */
export async function renewLease(deps: LeaseDeps, name: string, holder: string, ttlMs: number): Promise<string | undefined> {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttlMs must be a positive integer, got ${ttlMs}`);
  const [row] = await deps.database.rows(z.object({ expires_at: z.string() }), sql`
    UPDATE job_leases SET expires_at = now() + ${ttlMs}::bigint * interval '1 millisecond'
    WHERE name = ${name} AND holder = ${holder}
    RETURNING ${utcMicros(sql`expires_at`)} AS expires_at`);
  return row?.expires_at;
}

/**
 * Gives the lease back: deletes the row only if `holder` still holds it (a runner whose lease
 * expired and was taken over deletes nothing). Answers whether a row was deleted. One statement.
 */
export async function releaseLease(deps: LeaseDeps, name: string, holder: string): Promise<boolean> {
  const rows = await deps.database.rows(z.object({ name: z.string() }), sql`
    DELETE FROM job_leases WHERE name = ${name} AND holder = ${holder} RETURNING name`);
  return rows.length > 0;
}
