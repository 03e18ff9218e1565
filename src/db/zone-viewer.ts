/**
 * For whom zones are matched to a postcode, in SQL: the SQL side of `ZoneViewer` and
 * `zoneVisibleTo` in src/domain/postcodes.ts (synthetic zones serve synthetic users only, and
 * synthetic users only synthetic zones). Here rather than in src/modules/scheduling so that both
 * the SQL matcher (`zoneForPostcode`, src/modules/scheduling/zone-match.ts) and the order
 * context read for the in-code matcher (src/modules/orders/create-context.ts) use this one
 * expression: modules may not import each other sideways (eslint.config.js MODULE_LAYERS).
 */
import { sql, type SQL } from 'drizzle-orm';

/**
 * `'anonymous'` (a public caller: sees real zones only), or a user by id (a uuid string, or an
 * SQL expression such as `a.user_id` for a row's owner). An id that names no user counts as a
 * real (non-synthetic) viewer.
 */
export type ZoneViewer = 'anonymous' | { userId: string | SQL };

/**
 * The viewer's `users.synthetic` as an SQL boolean expression, read inside the caller's own
 * statement: naming the viewer costs no round trip.
 */
export function viewerIsSynthetic(viewer: ZoneViewer): SQL {
  if (viewer === 'anonymous') return sql`false`;
  const id = typeof viewer.userId === 'string' ? sql`${viewer.userId}::uuid` : viewer.userId;
  return sql`coalesce((SELECT vu.synthetic FROM users vu WHERE vu.id = ${id}), false)`;
}
