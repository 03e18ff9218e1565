import type { HttpRequestEvent, Metrics, NotificationBacklog, NotificationDeliveryEvent, OutstandingBalances, PaymentOperation, PaymentOutcome } from './index.js';

export type RecordedMetric =
  | ({ name: 'http_request' } & HttpRequestEvent)
  | { name: 'order_created'; paymentMethod: string }
  | { name: 'payment'; operation: PaymentOperation; outcome: PaymentOutcome }
  | { name: 'webhook_event'; type: string; outcome: string }
  | { name: 'db_query'; durationMs: number }
  | ({ name: 'outstanding_balances' } & OutstandingBalances)
  | ({ name: 'notification_delivery' } & NotificationDeliveryEvent)
  | ({ name: 'notification_backlog' } & NotificationBacklog);

export interface MemoryMetrics extends Metrics {
  readonly events: RecordedMetric[];
  /** How many recorded events have this name and match every given field. */
  count(name: RecordedMetric['name'], match?: Record<string, unknown>): number;
}

/** Records every event in order, for tests to assert on. */
export function createMemoryMetrics(): MemoryMetrics {
  const events: RecordedMetric[] = [];
  return {
    events,
    httpRequest: (e) => void events.push({ name: 'http_request', ...e }),
    orderCreated: (e) => void events.push({ name: 'order_created', ...e }),
    payment: (e) => void events.push({ name: 'payment', ...e }),
    webhookEvent: (e) => void events.push({ name: 'webhook_event', ...e }),
    dbQuery: (durationMs) => void events.push({ name: 'db_query', durationMs }),
    outstandingBalances: (snapshot) => void events.push({ name: 'outstanding_balances', ...snapshot }),
    notificationDelivery: (e) => void events.push({ name: 'notification_delivery', ...e }),
    notificationBacklog: (b) => void events.push({ name: 'notification_backlog', ...b }),
    count: (name, match = {}) =>
      events.filter((e) => e.name === name && Object.entries(match).every(([k, v]) => (e as Record<string, unknown>)[k] === v)).length,
  };
}
