import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { AnyRow, type Database } from '../../src/db/client.js';
import { createAnalyticsEngineMetrics } from '../../src/metrics/analytics-engine.js';
import { timedDatabase } from '../../src/metrics/database.js';
import { methodLabel, noopMetrics, recordAuthorisation, recordPaymentFailure } from '../../src/metrics/index.js';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';

/** One sample's value from a Prometheus text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

describe('metrics: Prometheus (Node)', () => {
  it('exports the issue’s metric names with their labels, in its own registry', async () => {
    const m = createPrometheusMetrics({ version: 'v-abc', defaultMetrics: false });
    m.httpRequest({ method: 'POST', route: '/v1/orders', status: 201, durationMs: 30 });
    m.httpRequest({ method: 'POST', route: '/v1/orders', status: 201, durationMs: 1500 });
    m.orderCreated({ paymentMethod: 'card' });
    m.payment({ operation: 'capture', outcome: 'succeeded' });
    m.webhookEvent({ type: 'payment_intent.succeeded', outcome: 'applied' });
    m.dbQuery(4);
    const { body, contentType } = await m.scrape();
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(body, 'http_requests_total', { method: 'POST', route: '/v1/orders', status: '201' })).toBe(2);
    expect(sample(body, 'http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/orders', le: '0.05' })).toBe(1);
    expect(sample(body, 'http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/orders', le: '1' })).toBe(1);
    expect(sample(body, 'http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/orders', le: '2.5' })).toBe(2);
    expect(sample(body, 'http_request_duration_seconds_sum', { method: 'POST', route: '/v1/orders' })).toBeCloseTo(1.53);
    expect(sample(body, 'orders_created_total', { payment_method: 'card' })).toBe(1);
    expect(sample(body, 'payments_total', { operation: 'capture', outcome: 'succeeded' })).toBe(1);
    expect(sample(body, 'webhook_events_total', { type: 'payment_intent.succeeded', outcome: 'applied' })).toBe(1);
    expect(sample(body, 'db_query_duration_seconds_count')).toBe(1);
    expect(sample(body, 'app_info', { version: 'v-abc', runtime: 'node' })).toBe(1);
    // A second registry starts from zero: nothing is global.
    expect(sample((await createPrometheusMetrics({ version: 'x', defaultMetrics: false }).scrape()).body, 'orders_created_total', { payment_method: 'card' })).toBeUndefined();
  });

  it('includes the process default metrics unless turned off', async () => {
    const { body } = await createPrometheusMetrics({ version: 'v' }).scrape();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(body, name).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });
});

describe('metrics: Analytics Engine (Workers)', () => {
  it('writes one data point per event, indexed by the version id, in the documented layout', () => {
    const points: unknown[] = [];
    const m = createAnalyticsEngineMetrics({ writeDataPoint: (p) => void points.push(p) }, 'ver-123');
    m.httpRequest({ method: 'GET', route: '/v1/orders/:id', status: 404, durationMs: 12.5 });
    m.orderCreated({ paymentMethod: 'on_delivery' });
    m.payment({ operation: 'refund', outcome: 'declined' });
    m.webhookEvent({ type: 'charge.refunded', outcome: 'duplicate' });
    m.dbQuery(7);
    expect(points).toEqual([
      { blobs: ['http', 'GET', '/v1/orders/:id', '404'], doubles: [12.5, 404], indexes: ['ver-123'] },
      { blobs: ['order_created', 'on_delivery'], doubles: [1], indexes: ['ver-123'] },
      { blobs: ['payment', 'refund', 'declined'], doubles: [1], indexes: ['ver-123'] },
      { blobs: ['webhook', 'charge.refunded', 'duplicate'], doubles: [1], indexes: ['ver-123'] },
      { blobs: ['db_query'], doubles: [7], indexes: ['ver-123'] },
    ]);
  });

  it('is a no-op without the binding, and a failing write never reaches the request', () => {
    expect(createAnalyticsEngineMetrics(undefined, 'v')).toBe(noopMetrics);
    const m = createAnalyticsEngineMetrics(
      {
        writeDataPoint: () => {
          throw new Error('too many data points');
        },
      },
      'v',
    );
    expect(() => m.httpRequest({ method: 'GET', route: '/healthz', status: 200, durationMs: 1 })).not.toThrow();
  });
});

describe('metrics: helpers', () => {
  it('keeps the method label to a closed set', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('PROPFIND')).toBe('OTHER');
  });

  it('classifies Stripe failures: declined when Stripe said no, error when it did not answer, nothing for an unexpected state', () => {
    const m = createMemoryMetrics();
    recordPaymentFailure(m, 'capture', { type: 'StripeCardError', code: 'card_declined' });
    recordPaymentFailure(m, 'refund', { type: 'StripeInvalidRequestError', code: 'amount_too_large' });
    recordPaymentFailure(m, 'capture', { type: 'StripeConnectionError' });
    recordPaymentFailure(m, 'capture', { type: 'StripeAPIError' });
    recordPaymentFailure(m, 'capture', new Error('socket hang up'));
    recordPaymentFailure(m, 'capture', { type: 'StripeInvalidRequestError', code: 'payment_intent_unexpected_state' });
    expect(m.events.map((e) => e.name === 'payment' && `${e.operation}:${e.outcome}`)).toEqual([
      'capture:declined',
      'refund:declined',
      'capture:error',
      'capture:error',
      'capture:error',
    ]);
  });

  it('counts an authorisation only from an applied hold event', () => {
    const m = createMemoryMetrics();
    const event = (type: string, kind = 'hold') => ({ type, data: { object: { metadata: { kind } } } });
    recordAuthorisation(m, event('payment_intent.amount_capturable_updated'), 'applied');
    recordAuthorisation(m, event('payment_intent.amount_capturable_updated'), 'duplicate');
    recordAuthorisation(m, event('payment_intent.payment_failed'), 'applied');
    recordAuthorisation(m, event('payment_intent.payment_failed', 'overage'), 'applied');
    recordAuthorisation(m, event('payment_intent.succeeded'), 'applied');
    expect(m.count('payment', { operation: 'authorise', outcome: 'succeeded' })).toBe(1);
    expect(m.count('payment', { operation: 'authorise', outcome: 'declined' })).toBe(1);
    expect(m.count('payment')).toBe(2);
  });

  it('times rows() and batch(), failures included, and leaves ping and close alone', async () => {
    const m = createMemoryMetrics();
    const inner = {
      kind: 'pglite',
      db: {},
      rows: async () => [{ one: 1 }],
      batch: async () => {
        throw new Error('deadlock');
      },
      ping: async () => {},
      close: async () => {},
    } as unknown as Database;
    const db = timedDatabase(inner, m);
    expect(await db.rows(AnyRow, sql`SELECT 1`)).toEqual([{ one: 1 }]);
    await expect(db.batch(() => [] as never)).rejects.toThrow('deadlock');
    await db.ping(100);
    expect(db.kind).toBe('pglite');
    expect(db.db).toBe(inner.db);
    expect(m.count('db_query')).toBe(2);
  });
});
