/**
 * What the app counts, independent of where it goes: Prometheus on Node
 * (src/metrics/prometheus.ts, imported only by src/platform/node/server.ts, so the Worker bundle never
 * carries prom-client), Workers Analytics Engine (./analytics-engine.ts), or memory in
 * tests (./memory.ts). Recording never throws and never waits: a metric must not fail
 * or slow a request.
 */
export type PaymentOperation = 'authorise' | 'capture' | 'refund';
/**
 * `declined`: Stripe said no (card, or a refused request). `error`: no usable answer (5xx, timeout, network).
 * `waived`: an overage below Stripe's minimum charge, not sent to Stripe and not collected (capture only).
 */
export type PaymentOutcome = 'succeeded' | 'pending' | 'declined' | 'error' | 'waived';

export interface HttpRequestEvent {
  method: string;
  /** The route pattern (`/v1/orders/:id`), never the raw path. */
  route: string;
  status: number;
  durationMs: number;
}

/**
 * Weighed card orders with a balance outstanding (src/domain/balance.ts), as the payments job or
 * a Prometheus scrape measured them: a gauge, the state now, not a count of events.
 */
export interface OutstandingBalances {
  /** How many such orders, by order status (`ready`, `out_for_delivery`, `delivered`, …). */
  orders: Array<{ status: string; count: number }>;
  /** What they owe, summed per currency, in minor units of that currency. */
  amounts: Array<{ currency: string; amount: number }>;
}

/**
 * One notification delivery attempt's outcome (src/notifications/dispatch.ts): `sent`, `retry`
 * (will be tried again), `failed` (refused for good), `unregistered` (dead push token), `dead`
 * (gave up after MAX_ATTEMPTS).
 */
export interface NotificationDeliveryEvent {
  channel: string;
  /** The client's provider: fcm, twilio, resend, log, or `none` (channel not configured). */
  provider: string;
  outcome: 'sent' | 'retry' | 'failed' | 'unregistered' | 'dead';
}

/** The notification backlog now (a gauge), as the sweep or the worker measured it. */
export interface NotificationBacklog {
  /** Pending deliveries plus outbox rows not yet fanned out. */
  pending: number;
  /** Age of the oldest of those, seconds; 0 when none. */
  oldestPendingAgeSeconds: number;
  /** Deliveries in state `dead` (the dead letters). */
  dead: number;
}

export interface Metrics {
  httpRequest(event: HttpRequestEvent): void;
  orderCreated(event: { paymentMethod: string }): void;
  payment(event: { operation: PaymentOperation; outcome: PaymentOutcome }): void;
  /** outcome: the handler's (applied, duplicate, ignored, stale, unknown_payment, flagged) or invalid_signature / error. */
  webhookEvent(event: { type: string; outcome: string }): void;
  dbQuery(durationMs: number): void;
  /** The payments job's measure of outstanding balances (replaces the previous one). */
  outstandingBalances(snapshot: OutstandingBalances): void;
  /** Counts one notification delivery attempt. */
  notificationDelivery(event: NotificationDeliveryEvent): void;
  /** The notification backlog gauges (replaces the previous reading). */
  notificationBacklog(backlog: NotificationBacklog): void;
  /** Only where metrics are pulled (Prometheus on Node): the exposition served at GET /metrics. */
  scrape?(): Promise<{ contentType: string; body: string }>;
}

export const noopMetrics: Metrics = {
  httpRequest: () => {},
  orderCreated: () => {},
  payment: () => {},
  webhookEvent: () => {},
  dbQuery: () => {},
  outstandingBalances: () => {},
  notificationDelivery: () => {},
  notificationBacklog: () => {},
};

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A client can send any method name; a label value must come from a closed set. */
export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return METHODS.has(upper) ? upper : 'OTHER';
}

/**
 * The authorisation outcome a verified webhook reports, if any. The hold is authorised on
 * the customer's phone, so Stripe's event is where we learn how it went; an overage charge's
 * failure is counted where it is made (capture), not here.
 */
export function authorisationOutcome(
  event: { type: string; data: { object: unknown } },
  handled: string,
): PaymentOutcome | undefined {
  if (handled !== 'applied') return undefined;
  if (event.type === 'payment_intent.amount_capturable_updated') return 'succeeded';
  const kind = (event.data.object as { metadata?: { kind?: string } } | null)?.metadata?.kind;
  if (event.type === 'payment_intent.payment_failed' && kind !== 'overage') return 'declined';
  return undefined;
}

/** One line at the webhook handler: counts the authorisation the event settled, if any. */
export function recordAuthorisation(metrics: Metrics, event: { type: string; data: { object: unknown } }, handled: string): void {
  const outcome = authorisationOutcome(event, handled);
  if (outcome) metrics.payment({ operation: 'authorise', outcome });
}

/**
 * One line in a Stripe call's `catch`: counts the failure as `declined` (Stripe answered
 * no) or `error` (no usable answer: 5xx, timeout, network, our credentials). Stripe's
 * "unexpected state" is not an outcome: the caller reads the intent's real state next.
 */
export function recordPaymentFailure(metrics: Metrics, operation: PaymentOperation, err: unknown): void {
  const { type, code } = (err ?? {}) as { type?: unknown; code?: unknown };
  if (code === 'payment_intent_unexpected_state') return;
  const declined = type === 'StripeCardError' || type === 'StripeInvalidRequestError';
  metrics.payment({ operation, outcome: declined ? 'declined' : 'error' });
}
