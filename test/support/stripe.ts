/**
 * Drives the Stripe stand-in over its HTTP controls, so the same payment journeys run on
 * Node and inside workerd. Webhook events are signed with the real scheme by the stand-in
 * (stripe.webhooks.generateTestHeaderString) and posted to the app like Stripe would.
 */
export const TEST_STRIPE_SECRET_KEY = 'sk_test_standin_0123456789';
export const TEST_STRIPE_WEBHOOK_SECRET = 'whsec_test_standin_0123456789';
export const TEST_STRIPE_PUBLISHABLE_KEY = 'pk_test_standin_0123456789';

export interface RecordedStripeRequest {
  method: string;
  path: string;
  form: Record<string, any>;
  idempotencyKey: string | null;
  /** The request's Stripe-Version header (the SDK sends its pinned version, or a per-request `apiVersion`). */
  stripeVersion: string | null;
  /** null when no answer was sent (timeout, disconnect). */
  status: number | null;
  /** ok, error, replayed (the stored idempotent answer), or the injected failure mode. */
  outcome: 'ok' | 'error' | 'replayed' | 'decline' | 'server_error' | 'timeout' | 'disconnect';
}

export interface StripeControl {
  url: string;
  /** The PaymentSheet completing; `paymentMethod`: a stored or `pm_card_*` test id saved on the customer (e.g. pm_card_refundFail, pm_card_authenticationRequired; default a new Visa 4242). */
  authorize(paymentIntentId: string, opts?: { amount?: number; decline?: boolean | string; paymentMethod?: string }): Promise<any>;
  failNext(opts: {
    mode: 'decline' | 'server_error' | 'timeout' | 'disconnect';
    path?: string;
    method?: string;
    times?: number;
    ms?: number;
    applyThenFail?: boolean;
    /** server_error only: false for a 500 that never reached Stripe's idempotency layer. */
    stored?: boolean;
    declineCode?: string;
  }): Promise<void>;
  requests(): Promise<RecordedStripeRequest[]>;
  /** A signed event for the object's current state (or a snapshot), ready to POST. */
  signedEvent(type: string, objectOrId: string | Record<string, unknown>, opts?: { timestamp?: number }): Promise<{ event: any; payload: string; header: string }>;
  /** Signs an existing event as is (same id), e.g. one the stand-in emitted, to deliver it late or again. */
  sign(event: Record<string, unknown>, opts?: { timestamp?: number }): Promise<{ event: any; payload: string; header: string }>;
  state(): Promise<any>;
  dispute(chargeId: string): Promise<any>;
  /** A refund's later outcome (pm_card_pendingRefund / pm_card_refundFail); emits refund.updated, charge.refund.updated (+ refund.failed). */
  settleRefund(refundId: string, status: 'succeeded' | 'failed' | 'canceled', opts?: { failure_reason?: string }): Promise<any>;
  /** Moves the stand-in's clock: holds past capture_before are canceled, idempotency keys older than 24 h are forgotten. */
  advanceTime(seconds: number): Promise<void>;
}

export function stripeControl(url: string, fetcher: typeof fetch = fetch): StripeControl {
  const call = async (method: 'GET' | 'POST', name: string, body?: unknown) => {
    const res = await fetcher(`${url}/__control/${name}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`stripe stand-in ${name}: ${json?.error?.message ?? res.status}`);
    return json;
  };
  return {
    url,
    authorize: (id, { paymentMethod, ...opts } = {}) =>
      call('POST', 'authorize', { payment_intent: id, ...opts, ...(paymentMethod ? { payment_method: paymentMethod } : {}) }),
    advanceTime: async (seconds) => {
      await call('POST', 'advance-time', { seconds });
    },
    failNext: async (opts) => {
      await call('POST', 'fail-next', opts);
    },
    requests: () => call('GET', 'requests'),
    signedEvent: (type, objectOrId, opts = {}) =>
      call('POST', 'signed-event', {
        type,
        ...(typeof objectOrId === 'string' ? { id: objectOrId } : { object: objectOrId }),
        secret: TEST_STRIPE_WEBHOOK_SECRET,
        ...opts,
      }),
    sign: (event, opts = {}) => call('POST', 'signed-event', { event, secret: TEST_STRIPE_WEBHOOK_SECRET, ...opts }),
    state: () => call('GET', 'state'),
    dispute: (charge) => call('POST', 'dispute', { charge }),
    settleRefund: (refund, status, opts = {}) => call('POST', 'settle-refund', { refund, status, ...opts }),
  };
}

export const stripeEnv = (url: string) => ({
  STRIPE_SECRET_KEY: TEST_STRIPE_SECRET_KEY,
  STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
  STRIPE_PUBLISHABLE_KEY: TEST_STRIPE_PUBLISHABLE_KEY,
  STRIPE_API_URL: url,
  // Short, so a test can make Stripe time out (the stand-in holds the request longer) and
  // the SDK's retries still finish well inside the test timeout.
  STRIPE_TIMEOUT_MS: '2000',
});
