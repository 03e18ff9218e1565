/** GET /v1/me/credit: the balance and one page of the ledger, in ONE statement. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { CursorInstant, CursorUuid, decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { CreditAccountDto } from './schemas.js';

const Entry = z.object({
  id: z.string(), amount: z.number(), currency: z.string(), reason: z.string(), note: z.string().nullable(),
  orderId: z.string().nullable(), createdAt: z.string(), sortAt: z.string(),
});
const AccountRow = z.object({ balance: z.number(), entries: z.array(Entry) });
const EntryCursor = z.tuple([CursorInstant, CursorUuid]);

/** Keyset paging over (created_at DESC, id DESC); one extra entry is read to know whether a next page exists. */
export async function creditAccount(deps: Deps, userId: string, page: { limit: number; cursor?: string | undefined }): Promise<CreditAccountDto> {
  const after = page.cursor ? decodeCursor(page.cursor, EntryCursor) : undefined;
  const [row] = await deps.database.rows(AccountRow, sql`
    SELECT coalesce((SELECT credit_balance FROM users WHERE id = ${userId}::uuid), 0) AS balance,
      (SELECT coalesce(json_agg(e ORDER BY e."sortAt" DESC, e.id DESC), '[]') FROM (
         SELECT c.id, c.amount, c.currency, c.reason, c.note, c.order_id AS "orderId",
                to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
                to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "sortAt"
         FROM credit_entries c WHERE c.user_id = ${userId}::uuid
           ${after ? sql`AND (c.created_at, c.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``}
         ORDER BY c.created_at DESC, c.id DESC LIMIT ${page.limit + 1}) e) AS entries`);
  const entries = row!.entries.slice(0, page.limit);
  const last = entries.at(-1);
  return {
    balance: row!.balance,
    currency: deps.config.currency,
    entries: entries.map(({ sortAt: _sortAt, reason, ...e }) => ({ ...e, reason: reason as CreditAccountDto['entries'][number]['reason'] })),
    nextCursor: row!.entries.length > page.limit && last ? encodeCursor([last.sortAt, last.id]) : null,
  };
}
