/**
 * What every statement of the notification dispatcher (./dispatch.ts, ./dispatch-fanout.ts,
 * ./dispatch-claims.ts) shares. The one place the mark is defined: tools/bench/delay-proxy.ts
 * and test/unit/bench-edge-proxy.test.ts import it from here.
 */
import { sql } from 'drizzle-orm';

/**
 * A comment leading every statement the dispatcher sends, so the database's own views
 * (pg_stat_activity, pg_stat_statements, slow-query logs) and the bench's edge proxy can tell
 * the notification dispatch's work from the requests' (which may write outbox rows themselves).
 */
export const DISPATCH_MARK = '/* notification-dispatch */';
/** DISPATCH_MARK as a raw fragment, the first thing in each dispatcher statement's `sql` template. */
export const DISPATCH_TAG = sql.raw(`${DISPATCH_MARK} `);

/** A timestamp for a statement parameter (`${iso(now)}::timestamptz`). */
export const iso = (d: Date) => d.toISOString();
