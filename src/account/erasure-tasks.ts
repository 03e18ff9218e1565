import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { revokeAppleToken } from './apple-tokens.js';
import type { ErasureTaskKind } from '../db/schema-account.js';
import type { Deps } from '../deps.js';

/*
 * The external steps of an account erasure (account_erasure_tasks, written by src/modules/account/erase.ts): deleting
 * the Stripe Customer and revoking Apple refresh tokens. Attempted right after the erasure (in the
 * background of the request) and by every scheduled run (src/modules/payments/exclusive.ts
 * runScheduledJobs: the Worker's cron, the Node timer, the CronJob, the CLI), with backoff, until
 * done. A task is claimed with a lease, so the request's attempt and a scheduled run never both
 * call the provider for it at once.
 */

/** How long a claimed task is left to its claimer, seconds. */
export const ERASURE_TASK_LEASE_S = 300;
/** Tasks attempted per run at most (the next run takes the rest). */
export const ERASURE_TASKS_PER_RUN = 50;
/** Backoff after the n-th failed attempt: 1 min, 2, 4, … capped at a day; never given up (docs/runbook.md). */
export const erasureBackoffMs = (attempts: number) => Math.min(86_400_000, 60_000 * 2 ** Math.max(0, attempts - 1));

export interface ErasureTaskReport {
  attempted: number;
  done: number;
  /** Already gone at the provider (Stripe 404): counts as done. */
  gone: number;
  /** The provider is not configured here (Apple revoke settings absent): closed with a warning. */
  skipped: number;
  /** Failed this time; retried after erasureBackoffMs. */
  failed: number;
}

const Claimed = z.object({ id: z.string(), kind: z.enum(['stripe_customer_delete', 'apple_token_revoke']), reference: z.string().nullable(), attempts: z.number() });
type Outcome = 'done' | 'gone' | 'skipped';

async function attempt(deps: Deps, kind: ErasureTaskKind, reference: string | null): Promise<Outcome> {
  if (!reference) return 'gone';
  if (kind === 'stripe_customer_delete') {
    if (!deps.payments) throw new Error('Stripe is not configured: STRIPE_SECRET_KEY is unset');
    try {
      await (await deps.payments.client()).customers.del(reference);
      return 'done';
    } catch (err) {
      // Stripe answers 404 resource_missing for a Customer already deleted (a retry after a lost answer).
      const e = err as { statusCode?: number; code?: string };
      if (e.statusCode === 404 && e.code === 'resource_missing') return 'gone';
      throw err;
    }
  }
  const apple = deps.config.appleRevoke;
  if (!apple) {
    deps.logger.warn('apple token not revoked: APPLE_TEAM_ID, APPLE_KEY_ID and APPLE_PRIVATE_KEY are not set', { kind });
    return 'skipped';
  }
  await revokeAppleToken(apple, deps.config.jwtSecret, reference, deps.clock.now());
  return 'done';
}

/**
 * One pass: claims the due tasks (only `ids` when given: the request's own), attempts each, and
 * records every result in one statement. Round trips: 2, plus the providers' calls.
 */
export async function runErasureTasks(deps: Deps, ids?: string[]): Promise<ErasureTaskReport> {
  const now = deps.clock.now();
  const at = sql`${now.toISOString()}::timestamptz`;
  const report: ErasureTaskReport = { attempted: 0, done: 0, gone: 0, skipped: 0, failed: 0 };
  if (ids && ids.length === 0) return report;
  const only = ids ? sql`AND id = ANY(${`{${ids.join(',')}}`}::uuid[])` : sql``;
  const claimed = await deps.database.rows(Claimed, sql`
    UPDATE account_erasure_tasks SET attempts = attempts + 1, locked_until = ${at} + make_interval(secs => ${ERASURE_TASK_LEASE_S})
    WHERE id IN (
      SELECT id FROM account_erasure_tasks
      WHERE done_at IS NULL AND next_attempt_at <= ${at} AND (locked_until IS NULL OR locked_until <= ${at}) ${only}
      ORDER BY next_attempt_at LIMIT ${ERASURE_TASKS_PER_RUN} FOR UPDATE SKIP LOCKED
    )
    RETURNING id, kind, reference, attempts`);
  if (claimed.length === 0) return report;
  const results: Array<{ id: string; outcome: Outcome | null; error: string | null; next: string }> = [];
  for (const task of claimed) {
    report.attempted++;
    try {
      const outcome = await attempt(deps, task.kind, task.reference);
      report[outcome]++;
      results.push({ id: task.id, outcome, error: null, next: now.toISOString() });
    } catch (err) {
      report.failed++;
      const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      deps.logger.warn('erasure task failed; retried later', { taskId: task.id, kind: task.kind, attempts: task.attempts, error });
      results.push({ id: task.id, outcome: null, error, next: new Date(now.getTime() + erasureBackoffMs(task.attempts)).toISOString() });
    }
  }
  await deps.database.rows(z.object({}), sql`
    UPDATE account_erasure_tasks t SET
      outcome = r.outcome, last_error = r.error, locked_until = NULL, next_attempt_at = r.next,
      done_at = CASE WHEN r.outcome IS NULL THEN NULL ELSE ${at} END,
      reference = CASE WHEN r.outcome IS NULL THEN t.reference ELSE NULL END
    FROM jsonb_to_recordset(${JSON.stringify(results)}::jsonb) AS r(id uuid, outcome text, error text, next timestamptz)
    WHERE t.id = r.id`);
  return report;
}
