/**
 * Outstanding balances across all orders, for the payments job and the metrics: the job's sweep
 * keeps every order's `payment_outstanding` flag true to its balance, lists the orders that left
 * (or are leaving) the shop with money owed, and measures the outstanding gauges.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { parseRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import type { OutstandingBalances } from '../../metrics/index.js';
import { syncOutstandingFlag } from '../orders/balance.js';
import { hasFlag } from '../orders/shared.js';

/** An order out for delivery or delivered with a balance outstanding: the payments job's report. */
export interface UndeliveredBalance {
  orderId: string;
  status: 'out_for_delivery' | 'delivered';
  /** Minor units of `currency`. */
  outstanding: number;
  currency: string;
}

/** How many such orders one report lists at most (the gauges count them all). */
const REPORT_MAX = 500;

/**
 * Weighed card orders that are not cancelled and owe something (the `payment_outstanding` rule),
 * narrowed first by the flag itself: every writer and the job's sweep keep it true, and without it
 * a scrape would compute the balance of every card order ever weighed. The balance is still
 * checked, so a flag that is about to be cleared is not counted.
 */
const OWED = sql`${hasFlag('payment_outstanding')} AND o.payment_method = 'card' AND o.final_total IS NOT NULL
  AND o.status <> 'cancelled' AND b.outstanding > 0`;

const ListRow = z.object({ order_id: z.string(), status: z.enum(['out_for_delivery', 'delivered']), outstanding: z.number(), currency: z.string() });
const GaugeRow = z.object({ status: z.string(), currency: z.string(), orders: z.number(), amount: z.coerce.number() });

function listQuery() {
  return sql`
    SELECT o.id AS order_id, o.status::text AS status, b.outstanding, o.currency
    FROM orders o JOIN order_balances b ON b.order_id = o.id
    WHERE ${OWED} AND o.status IN ('out_for_delivery', 'delivered')
    ORDER BY o.updated_at, o.id LIMIT ${REPORT_MAX}`;
}

function gaugeQuery() {
  return sql`
    SELECT o.status::text AS status, o.currency, count(*)::int AS orders, sum(b.outstanding)::bigint AS amount
    FROM orders o JOIN order_balances b ON b.order_id = o.id
    WHERE ${OWED}
    GROUP BY 1, 2`;
}

function toBalances(rows: z.infer<typeof GaugeRow>[]): OutstandingBalances {
  const orders = new Map<string, number>();
  const amounts = new Map<string, number>();
  for (const r of rows) {
    orders.set(r.status, (orders.get(r.status) ?? 0) + r.orders);
    amounts.set(r.currency, (amounts.get(r.currency) ?? 0) + r.amount);
  }
  return {
    orders: [...orders].map(([status, count]) => ({ status, count })),
    amounts: [...amounts].map(([currency, amount]) => ({ currency, amount })),
  };
}

/** The gauges' reading, one round trip: what a Prometheus scrape on Node measures. */
export async function measureOutstandingBalances(deps: Pick<Deps, 'database'>): Promise<OutstandingBalances> {
  return toBalances(await deps.database.rows(GaugeRow, gaugeQuery()));
}

/**
 * The payments job's sweep over every order, in ONE batch (one round trip): bring every order's
 * `payment_outstanding` flag in line with its balance (the safety net for a writer that failed
 * between moving money and flagging), then list the orders out for delivery or delivered with a
 * balance outstanding (up to 500, oldest change first), then measure the gauges, which are
 * recorded on `deps.metrics` (`payments_outstanding_total`, `payments_outstanding_amount`).
 */
export async function sweepOutstandingBalances(deps: Deps, now: Date): Promise<UndeliveredBalance[]> {
  const [, listed, measured] = await deps.database.batch((db) => [
    db.execute(syncOutstandingFlag(null, now.toISOString())),
    db.execute(listQuery()),
    db.execute(gaugeQuery()),
  ]);
  deps.metrics.outstandingBalances(toBalances(parseRows(GaugeRow, measured)));
  return parseRows(ListRow, listed).map((r) => ({ orderId: r.order_id, status: r.status, outstanding: r.outstanding, currency: r.currency }));
}
