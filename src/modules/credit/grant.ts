/** POST /v1/admin/users/{id}/credit: claims the Idempotency-Key, adds the credit and writes its entry, in ONE statement. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { fingerprintRequest } from '../../domain/idempotency.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { CreditEntryDto, GrantCreditInput } from './schemas.js';

const GrantRow = z.object({
  found: z.number(),
  claimed: z.number(),
  prior: z.object({ fingerprint: z.string(), response: z.unknown() }).nullable(),
});

/**
 * Grants credit to a user. The key is the admin's (idempotency_keys, scoped to the caller, kept
 * 24 h like an order's): the same key and body answer the first call's entry again and add
 * nothing; another body is 422 `idempotency_key_reused`. One statement: the key is claimed only
 * if the user exists and is not erased (404 otherwise, nothing written: an erased account is nobody), and the balance and the ledger entry are
 * written only by the call that claimed it, so they always move together.
 */
export async function grantCredit(
  deps: Deps,
  grant: { adminId: string; userId: string; key: string; input: GrantCreditInput },
): Promise<{ entry: CreditEntryDto; replayed: boolean }> {
  const { adminId, userId, key, input } = grant;
  const path = `/v1/admin/users/${userId}/credit`;
  const fingerprint = await fingerprintRequest({ method: 'POST', path, body: input }, deps.sha256Hex);
  const now = deps.clock.now().toISOString();
  const entry: CreditEntryDto = {
    id: crypto.randomUUID(),
    amount: input.amount,
    currency: deps.config.currency,
    reason: input.reason,
    note: input.note,
    orderId: null,
    createdAt: now,
  };
  const [row] = await deps.database.rows(GrantRow, sql`
    WITH idem AS (
      INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, created_at)
      SELECT ${adminId}::uuid, ${key}, ${fingerprint}, 201, ${JSON.stringify(entry)}::json, ${now}::timestamptz
      WHERE EXISTS (SELECT 1 FROM users WHERE id = ${userId}::uuid AND erased_at IS NULL)
      ON CONFLICT (user_id, key) DO NOTHING
      RETURNING 1
    ),
    bal AS (
      UPDATE users SET credit_balance = credit_balance + ${input.amount}::int WHERE id = ${userId}::uuid AND EXISTS (SELECT 1 FROM idem)
      RETURNING id
    ),
    ins AS (
      INSERT INTO credit_entries (id, user_id, amount, currency, reason, note, actor_user_id, created_at)
      SELECT ${entry.id}::uuid, id, ${input.amount}::int, ${entry.currency}, ${input.reason}::credit_reason, ${input.note}, ${adminId}::uuid, ${now}::timestamptz
      FROM bal
    )
    SELECT (SELECT count(*) FROM users WHERE id = ${userId}::uuid AND erased_at IS NULL)::int AS found,
           (SELECT count(*) FROM idem)::int AS claimed,
           (SELECT json_build_object('fingerprint', k.fingerprint, 'response', k.response) FROM idempotency_keys k
             WHERE k.user_id = ${adminId}::uuid AND k.key = ${key}) AS prior`);
  if (row!.claimed === 1) return { entry, replayed: false };
  if (row!.found === 0) throw new ApiError('not_found', 'No such user.');
  if (!row!.prior) throw new ApiError('conflict', 'A concurrent request with this Idempotency-Key is in flight; retry.');
  if (row!.prior.fingerprint !== fingerprint) {
    throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was used for a different request. Use a new key for a new grant.');
  }
  return { entry: row!.prior.response as CreditEntryDto, replayed: true };
}
