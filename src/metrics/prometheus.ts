/**
 * Node: Prometheus through prom-client. Only src/platform/node/server.ts (and tests) import this file, so
 * the Worker bundle never contains prom-client.
 *
 * Each call makes its own Registry (never prom-client's global one), so tests can build
 * several apps in one process and read exact counts from each.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics, OutstandingBalances } from './index.js';

export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
  scrape(): Promise<{ contentType: string; body: string }>;
  /**
   * Measures the outstanding-balance gauges at every scrape (the Node server passes a database
   * read): on Kubernetes the payments job runs in a CronJob that is never scraped, so the pods
   * read the state themselves. A failed or slow read keeps the last values; the scrape goes on.
   */
  measureOutstandingOnScrape(measure: () => Promise<OutstandingBalances>): void;
  /**
   * Measures the notification backlog gauges at every scrape, the same way (the sweep runs in the
   * CronJob; the API pods are what Prometheus scrapes). `measure` reports through notificationBacklog.
   */
  measureNotificationsOnScrape(measure: () => Promise<unknown>): void;
}

/** A scrape waits at most this long for the outstanding-balance read. */
const SCRAPE_MEASURE_TIMEOUT_MS = 2_000;

export interface PrometheusOptions {
  version: string;
  runtime?: string;
  /** process_* and nodejs_* metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

/** Seconds. 1 s is a bucket edge on purpose: the p95 latency alert's threshold. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const DB_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createPrometheusMetrics(opts: PrometheusOptions): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  // The version as an info metric: one series per process, joined onto the others with
  // `* on (instance, job) group_left (version) app_info` (see the dashboard).
  new Gauge({
    name: 'app_info',
    help: 'Always 1; labels identify the running build.',
    labelNames: ['version', 'runtime'] as const,
    registers,
  })
    .labels({ version: opts.version, runtime: opts.runtime ?? 'node' })
    .set(1);

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request entering the app to the response being ready.',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers,
  });
  const orders = new Counter({
    name: 'orders_created_total',
    help: 'Orders created (idempotent replays are not counted).',
    labelNames: ['payment_method'] as const,
    registers,
  });
  const payments = new Counter({
    name: 'payments_total',
    help: 'Card payment operations with Stripe, by outcome. Overage charges count as capture.',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });
  const webhooks = new Counter({
    name: 'webhook_events_total',
    help: 'Stripe webhook deliveries, by event type and what we did with them.',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });
  const dbDuration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Database round trips made through Database.rows and Database.batch.',
    buckets: DB_DURATION_BUCKETS,
    registers,
  });

  const outstandingOrders = new Gauge({
    name: 'payments_outstanding_total',
    help: 'Weighed card orders with a balance outstanding (due - paid - waived > 0), by order status.',
    labelNames: ['status'] as const,
    registers,
  });
  const outstandingAmount = new Gauge({
    name: 'payments_outstanding_amount',
    help: 'What those orders owe, in minor units of the currency (cents, yen, fils).',
    labelNames: ['currency'] as const,
    registers,
  });
  const setOutstanding = (snapshot: OutstandingBalances) => {
    outstandingOrders.reset();
    outstandingAmount.reset();
    // delivered and out_for_delivery always have a series (0 when none), so alerts see a value.
    for (const status of ['out_for_delivery', 'delivered']) outstandingOrders.set({ status }, 0);
    for (const o of snapshot.orders) outstandingOrders.set({ status: o.status }, o.count);
    for (const a of snapshot.amounts) outstandingAmount.set({ currency: a.currency }, a.amount);
  };
  // Notifications (issue 17). These four carry the `laundry_` prefix the alert rules name
  // (deploy/monitoring); the older series above have none.
  const notificationDeliveries = new Counter({
    name: 'laundry_notification_deliveries_total',
    help: 'Notification delivery attempts, by channel, provider and outcome (sent, retry, failed, unregistered, dead).',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    registers,
  });
  const notificationPending = new Gauge({
    name: 'laundry_notification_pending',
    help: 'Notifications waiting: pending deliveries plus outbox rows not yet fanned out (as last measured).',
    registers,
  });
  const notificationOldest = new Gauge({
    name: 'laundry_notification_oldest_pending_age_seconds',
    help: 'Age of the oldest waiting notification, seconds (0 when none).',
    registers,
  });
  const notificationDead = new Gauge({
    name: 'laundry_notification_dead_letters',
    help: 'Deliveries given up after the attempt limit (state dead).',
    registers,
  });
  let measure: (() => Promise<OutstandingBalances>) | undefined;
  let measureNotifications: (() => Promise<unknown>) | undefined;
  const remeasureNotifications = async () => {
    if (!measureNotifications) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_MEASURE_TIMEOUT_MS)));
    try {
      await Promise.race([measureNotifications(), timeout]);
    } catch {
      // Keep the last values.
    } finally {
      clearTimeout(timer);
    }
  };
  const remeasure = async () => {
    if (!measure) return;
    let expire = () => {};
    const timeout = new Promise<undefined>((resolve) => (expire = () => resolve(undefined)));
    const timer = setTimeout(expire, SCRAPE_MEASURE_TIMEOUT_MS);
    try {
      const snapshot = await Promise.race([measure(), timeout]);
      if (snapshot) setOutstanding(snapshot);
    } catch {
      // Keep the last values: a metric read must not fail the scrape.
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    registry,
    httpRequest: (e) => {
      httpRequests.inc({ method: e.method, route: e.route, status: String(e.status) });
      httpDuration.observe({ method: e.method, route: e.route }, e.durationMs / 1000);
    },
    orderCreated: (e) => orders.inc({ payment_method: e.paymentMethod }),
    payment: (e) => payments.inc({ operation: e.operation, outcome: e.outcome }),
    webhookEvent: (e) => webhooks.inc({ type: e.type, outcome: e.outcome }),
    dbQuery: (durationMs) => dbDuration.observe(durationMs / 1000),
    outstandingBalances: setOutstanding,
    notificationDelivery: (e) => notificationDeliveries.inc({ channel: e.channel, provider: e.provider, outcome: e.outcome }),
    notificationBacklog: (b) => {
      notificationPending.set(b.pending);
      notificationOldest.set(b.oldestPendingAgeSeconds);
      notificationDead.set(b.dead);
    },
    measureOutstandingOnScrape: (m) => void (measure = m),
    measureNotificationsOnScrape: (m) => void (measureNotifications = m),
    scrape: async () => {
      await Promise.all([remeasure(), remeasureNotifications()]);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
