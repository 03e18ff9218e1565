import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';

/**
 * Retention for the tables that otherwise grow without end, swept by the scheduled job (the
 * payments housekeeping, `runPaymentJobs`, after its money steps):
 * - `idempotency_keys`: removed once at least `IDEMPOTENCY_KEY_RETENTION_MS` (24 h) old, Stripe's
 *   rule for its own keys ("keys are eligible to be removed … after they're at least 24 hours
 *   old", https://docs.stripe.com/api/idempotent_requests). A retry of `POST /v1/orders` with the
 *   same key after that creates a new order: clients retry within minutes, not days.
 * - `refresh_tokens`: removed a day after they expired (`REFRESH_TOKEN_RETENTION_AFTER_EXPIRY_MS`).
 *   An expired token is refused anyway; the day keeps its row for "expired" (not "invalid")
 *   answers and for reuse detection around the boundary.
 * - `ended_sessions`: a family's record goes once the family has no refresh tokens left (and it
 *   ended over `REFRESH_TOKEN_RETENTION_AFTER_EXPIRY_MS` ago): with no token, nothing of the
 *   family can be refreshed, so the record guards nothing. Not counted in the report.
 * - `account_tokens` (password reset, email verification: src/modules/auth/account-tokens.ts):
 *   removed a day after they expired, used or not (the day keeps "expired" answers around the
 *   boundary). Not counted in the report.
 * Login throttle and rate-limit rows are already pruned by the next failure or count
 * (src/modules/auth/login.ts, register.ts).
 *
 * One statement, bounded: at most `RETENTION_BATCH` rows of each table per run (the job runs every
 * 15 min, so a backlog drains at 40,000 rows an hour per table without a long lock), found through
 * the indexes of migration 0012. Times are the app clock's (`deps.clock`), as in the rest of the job.
 */
export const IDEMPOTENCY_KEY_RETENTION_MS = 24 * 3_600_000;
export const REFRESH_TOKEN_RETENTION_AFTER_EXPIRY_MS = 24 * 3_600_000;
export const RETENTION_BATCH = 10_000;

/** Rows removed by one sweep, per table. */
export interface RetentionReport {
  /** From `idempotency_keys`. */
  idempotencyKeys: number;
  /** From `refresh_tokens` (not named "…Tokens": the log redaction hides any field matching /token/). */
  refreshRows: number;
}

const Counts = z.object({ idempotency_keys: z.number(), refresh_tokens: z.number() });

export async function sweepRetention(deps: Pick<Deps, 'database' | 'clock'>, batch = RETENTION_BATCH): Promise<RetentionReport> {
  const now = deps.clock.now().getTime();
  const keysBefore = new Date(now - IDEMPOTENCY_KEY_RETENTION_MS).toISOString();
  const tokensBefore = new Date(now - REFRESH_TOKEN_RETENTION_AFTER_EXPIRY_MS).toISOString();
  const [row] = await deps.database.rows(Counts, sql`
    WITH keys AS (
      DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM idempotency_keys WHERE created_at < ${keysBefore}::timestamptz LIMIT ${batch}))
      RETURNING 1
    ), tokens AS (
      DELETE FROM refresh_tokens WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM refresh_tokens WHERE expires_at < ${tokensBefore}::timestamptz LIMIT ${batch}))
      RETURNING 1
    ), ended AS (
      DELETE FROM ended_sessions WHERE ctid = ANY(ARRAY(
        SELECT e.ctid FROM ended_sessions e WHERE e.ended_at < ${tokensBefore}::timestamptz
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = e.family_id) LIMIT ${batch}))
    ), recovery AS (
      DELETE FROM account_tokens WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM account_tokens WHERE expires_at < ${tokensBefore}::timestamptz LIMIT ${batch}))
    )
    SELECT (SELECT count(*) FROM keys)::int AS idempotency_keys, (SELECT count(*) FROM tokens)::int AS refresh_tokens`);
  return { idempotencyKeys: row?.idempotency_keys ?? 0, refreshRows: row?.refresh_tokens ?? 0 };
}
