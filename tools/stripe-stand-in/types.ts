/**
 * stripe-stand-in, part: the public shapes of the stand-in (its options, its handle, its failure
 * modes), in their own file so that the parts that take the handle (control.ts) and the server
 * that builds it (index.ts) both import them from here, not from each other.
 */
import type { PaymentIntent, StripeEvent, StripeState } from './store.js';
import type { AuthorizeOptions } from './payments.js';
import type { Refund, RefundStatus, SettleRefundOptions } from './refunds.js';
import type { Form, StripeObject } from './util.js';

export interface StartStripeStandInOptions {
  /** 0 (default) = ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The only accepted secret key; default any `sk_test_…`. */
  apiKey?: string;
  /** Let the process exit while the server is open. */
  unref?: boolean;
}

export type FailMode = 'decline' | 'server_error' | 'timeout' | 'disconnect';

export interface FailNextOptions {
  mode: FailMode;
  /** Pathname to match: a RegExp, or a string where `:name` segments match any id (`/v1/payment_intents/:id/capture`). Default: any /v1 path. */
  path?: RegExp | string;
  method?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** `timeout`: how long to hold the request before destroying the socket (default 30 000). */
  ms?: number;
  /**
   * Execute the request, then fail anyway. Not for `decline`. With `timeout`/`disconnect` (and
   * `server_error` with `stored: false`) the real answer is stored for the key, so a retry with
   * the same key gets it; with `server_error` the 500 is what Stripe answered and keeps.
   */
  applyThenFail?: boolean;
  /**
   * `server_error` only. Default true: the 500 is saved as the key's idempotent result and
   * replayed to every retry with that key for 24 h, as Stripe does
   * (https://docs.stripe.com/api/idempotent_requests). `false`: a 500 the idempotency layer never
   * saw (e.g. from in front of it) — use only when a test means "the request never reached Stripe".
   */
  stored?: boolean;
  /** `decline`: decline_code (default generic_decline); `code` default card_declined. */
  declineCode?: string;
  code?: string;
  message?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The decoded query string. */
  query: Form;
  /** The request's parameters, decoded: the form body of a POST, the query of a GET or DELETE. */
  form: Form;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  /** Date.now() when received. */
  at: number;
  /** HTTP status answered (null when no answer: timeout, disconnect). */
  status: number | null;
  outcome: 'ok' | 'error' | 'replayed' | FailMode;
}

/** All objects by id (deep copies), plus the emitted events. */
export type StripeStandInState = ReturnType<StripeState['snapshot']>;

export interface SignedEvent {
  payload: string;
  header: string;
}

export interface StripeStandIn {
  /** `http://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  protocol: 'http';
  requests(): RecordedRequest[];
  /** Forgets everything: objects, events, idempotency keys, pending failures, requests, clock. */
  reset(): void;
  failNext(opts: FailNextOptions): void;
  authorize(paymentIntentId: string, opts?: AuthorizeOptions): PaymentIntent;
  /** Opens a dispute on a captured charge (emits charge.dispute.created). */
  dispute(chargeId: string, opts?: { amount?: number; reason?: string }): StripeObject;
  /**
   * The later outcome of a refund (Stripe's asynchronous refunds: pm_card_pendingRefund,
   * pm_card_refundFail): emits refund.updated, charge.refund.updated (+ refund.failed).
   */
  settleRefund(refundId: string, status: Exclude<RefundStatus, 'pending'>, opts?: SettleRefundOptions): Refund;
  /** Moves the stand-in's clock forward; uncaptured authorisations past capture_before are canceled. */
  advanceTime(seconds: number): void;
  /** An Event for the current state of the object with that id, or for the given snapshot. */
  event(type: string, object: string | StripeObject): StripeEvent;
  signedEvent(event: StripeEvent, secret: string, opts?: { timestamp?: number }): SignedEvent;
  /** Events the state changes emitted so far, oldest first. */
  emittedEvents(): StripeEvent[];
  state(): StripeStandInState;
  close(): Promise<void>;
}
