import { sql, type SQL } from 'drizzle-orm';

/**
 * Order flags: reasons an order needs a person. An order can have several at once (a disputed
 * charge on an order whose hold is also about to expire); each is raised once and cleared on
 * its own. `orders.flags` holds them, oldest first; `flagged_reason` is kept equal to the
 * latest, for readers from before `flags` existed.
 */
export const ORDER_FLAGS = ['amount_mismatch', 'disputed', 'hold_expiring', 'unpaid_on_delivery', 'overage_failed'] as const;
export type OrderFlag = (typeof ORDER_FLAGS)[number];

/** `SET` assignments that raise `flag` on the row being updated (once). Right-hand sides read the old row. */
export function raiseFlag(flag: OrderFlag): SQL {
  return sql`flags = CASE WHEN ${flag} = ANY(flags) THEN flags ELSE array_append(flags, ${flag}::text) END, flagged_reason = ${flag}`;
}

/** `SET` assignments that clear `flag` (if raised); flagged_reason falls back to the latest one left. */
export function clearFlag(flag: OrderFlag): SQL {
  return sql`flags = array_remove(flags, ${flag}::text),
    flagged_reason = (array_remove(flags, ${flag}::text))[cardinality(array_remove(flags, ${flag}::text))]`;
}

/** Whether the row has `flag` raised. */
export function hasFlag(flag: OrderFlag): SQL {
  return sql`(${flag}::text = ANY(flags))`;
}
