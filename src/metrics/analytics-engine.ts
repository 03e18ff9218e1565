import { noopMetrics, type Metrics } from './index.js';

/** The slice of Cloudflare's `AnalyticsEngineDataset` binding used here. */
export interface AnalyticsEngineDataset {
  writeDataPoint(point: { blobs?: (string | null)[]; doubles?: number[]; indexes?: (string | null)[] }): void;
}

/**
 * Workers: one Analytics Engine data point per event. `writeDataPoint` only queues the
 * point (the runtime sends it after the response, without waitUntil), so it adds no
 * latency. The version id is the index, so sampling keeps versions apart and
 * `GROUP BY index1` is the version breakdown.
 *
 * Layout (the SQL API reads these columns; see docs/runbook.md, Monitoring):
 *   blob1 event | blob2, blob3, blob4 labels | double1 value (ms, or 1 for a count) | double2 HTTP status
 *   http          method, route, status       durationMs, status
 *   order_created payment_method              1
 *   payment       operation, outcome          1
 *   webhook       type, outcome               1
 *   db_query      -                           durationMs
 *   payments_outstanding         status       orders with a balance outstanding (one point per status, each job run)
 *   payments_outstanding_amount  currency     their outstanding amount, minor units (one point per currency, each job run)
 *   notification  channel, provider, outcome  1
 *   notification_backlog  -                   pending, oldest pending age (s), dead   (a gauge: one point per sweep)
 * The payments_outstanding* and notification_backlog points are gauges: read the latest run's points (`ORDER BY timestamp DESC`), never a sum over time.
 */
export function createAnalyticsEngineMetrics(dataset: AnalyticsEngineDataset | undefined, versionId: string): Metrics {
  if (!dataset) return noopMetrics;
  const write = (blobs: string[], doubles: number[]) => {
    try {
      dataset.writeDataPoint({ blobs, doubles, indexes: [versionId.slice(0, 96)] });
    } catch {
      // Over the per-invocation limit or a malformed point: losing a point beats failing a request.
    }
  };
  return {
    httpRequest: (e) => write(['http', e.method, e.route, String(e.status)], [e.durationMs, e.status]),
    orderCreated: (e) => write(['order_created', e.paymentMethod], [1]),
    payment: (e) => write(['payment', e.operation, e.outcome], [1]),
    webhookEvent: (e) => write(['webhook', e.type, e.outcome], [1]),
    dbQuery: (durationMs) => write(['db_query'], [durationMs]),
    outstandingBalances: (snapshot) => {
      // A zero point too, so "none" is a reading and not a gap.
      if (snapshot.orders.length === 0) write(['payments_outstanding', 'none'], [0]);
      for (const o of snapshot.orders) write(['payments_outstanding', o.status], [o.count]);
      for (const a of snapshot.amounts) write(['payments_outstanding_amount', a.currency], [a.amount]);
    },
    notificationDelivery: (e) => write(['notification', e.channel, e.provider, e.outcome], [1]),
    notificationBacklog: (b) => write(['notification_backlog'], [b.pending, b.oldestPendingAgeSeconds, b.dead]),
  };
}
