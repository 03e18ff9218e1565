/** A staff member's own tips (GET /v1/staff/tips): the tips on orders they delivered. */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { StaffTipsDto } from './schemas.js';

const DAY_MS = 86_400_000;
export const STAFF_TIPS_DEFAULT_DAYS = 30;
export const STAFF_TIPS_MAX_DAYS = 92;
export const STAFF_TIPS_MAX_ROWS = 500;

const Row = z.object({
  totals: z.array(z.object({ currency: z.string(), amount: z.number() })).nullable(),
  count: z.number(),
  data: z.array(z.object({ id: z.string(), orderId: z.string(), amount: z.number(), currency: z.string(), method: z.enum(['card', 'cash']), createdAt: z.string() })).nullable(),
});

/**
 * Tips received (`succeeded`) by `driverUserId` (the staff member who took the order's
 * `delivered` transition) created in [from, to): totals per currency over all of them and the
 * newest 500. `to` defaults to now, `from` to 30 days before `to`; `to` must be after `from`
 * and at most 92 days later (422 `invalid_range`). One round trip.
 */
export async function listStaffTips(deps: Deps, driverUserId: string, query: { from?: string | undefined; to?: string | undefined }): Promise<StaffTipsDto> {
  const to = query.to ? new Date(query.to) : deps.clock.now();
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - STAFF_TIPS_DEFAULT_DAYS * DAY_MS);
  if (to.getTime() <= from.getTime()) throw new ApiError('invalid_range', '`to` must be after `from`.', [{ field: 'query.to', message: 'must be after from' }]);
  if (to.getTime() - from.getTime() > STAFF_TIPS_MAX_DAYS * DAY_MS) {
    throw new ApiError('invalid_range', `A range may cover at most ${STAFF_TIPS_MAX_DAYS} days.`, [{ field: 'query.from', message: `at most ${STAFF_TIPS_MAX_DAYS} days before to` }]);
  }
  const [row] = await deps.database.rows(Row, sql`
    WITH mine AS (
      SELECT * FROM tips
      WHERE driver_user_id = ${driverUserId}::uuid AND status = 'succeeded'
        AND created_at >= ${from.toISOString()}::timestamptz AND created_at < ${to.toISOString()}::timestamptz
    ),
    page AS (SELECT * FROM mine ORDER BY created_at DESC, id DESC LIMIT ${STAFF_TIPS_MAX_ROWS}::int)
    SELECT (SELECT json_agg(json_build_object('currency', currency, 'amount', amount) ORDER BY currency)
              FROM (SELECT currency, sum(amount)::int AS amount FROM mine GROUP BY currency) s) AS totals,
           (SELECT count(*) FROM mine)::int AS count,
           (SELECT json_agg(json_build_object('id', id, 'orderId', order_id, 'amount', amount, 'currency', currency, 'method', method,
                   'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ORDER BY created_at DESC, id DESC)
              FROM page) AS data`);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    count: row?.count ?? 0,
    totals: row?.totals ?? [],
    data: row?.data ?? [],
    truncated: (row?.count ?? 0) > STAFF_TIPS_MAX_ROWS,
  };
}
