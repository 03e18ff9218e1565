/**
 * When a notification delivery is tried again, and for how long a claim holds it: the retry
 * policy the dispatcher (./dispatch.ts) records by. Pure: no I/O.
 */
import { NOTIFY_TIMEOUT_MAX_MS } from '../config-env.js';
import type { SendOutcome } from './types.js';

/** Attempts before a delivery is `dead` (the runbook's dead letters): 8 ≈ 64 min of backoff at the defaults. */
export const MAX_ATTEMPTS = 8;
/** The first retry's delay, ms; doubles per attempt (30 s, 1 min, 2 min … ). */
export const BACKOFF_BASE_MS = 30_000;
/** The longest computed backoff, ms (a provider's Retry-After may ask for more, up to RETRY_AFTER_MAX_MS). */
export const BACKOFF_CAP_MS = 30 * 60_000;
/** A Retry-After beyond this is taken as this (a broken header must not park a message for days). */
export const RETRY_AFTER_MAX_MS = 6 * 3_600_000;
/** The largest DATABASE_TIMEOUT_MS the settings accept (src/config-env.ts; test/node/review17-lease.test.ts keeps the two in step). */
export const DATABASE_TIMEOUT_MAX_MS = 60_000;
/** Sequential provider requests one send can make at most: FCM's token, send, (401) new token, send. */
export const MAX_REQUESTS_PER_SEND = 4;
/** Slack on top of the worst case: clock skew between dispatchers, event-loop stalls, rendering. */
export const SEND_LEASE_MARGIN_MS = 15_000;
/**
 * How long a claim holds a delivery, ms. It must outlive the longest send a claim can start, or
 * a second dispatcher re-claims the row mid-send and the message goes out twice (push and SMS
 * have no provider-side dedupe): the claim statement (the lease starts at the clock reading taken
 * before it) + MAX_REQUESTS_PER_SEND sequential provider requests, each bounded by
 * NOTIFY_TIMEOUT_MS + the record statement + a margin.
 *
 * Why a constant computed from the largest accepted settings rather than a lease derived from the
 * running configuration: the dispatcher's deps (DispatchDeps) are built by the entry files
 * (src/worker.ts, the Node notifications-worker, the sweep) without the configuration, and a
 * constant cannot be made too short by a setting: any value loadConfig accepts is covered, and
 * loadConfig refuses a NOTIFY_TIMEOUT_MS above NOTIFY_TIMEOUT_MAX_MS (30 s, which keeps the
 * lease near 4 min; the longer the lease, the longer a crashed sender's claim waits before the
 * message is retried). test/node/review17-lease.test.ts asserts the inequality.
 */
export const SEND_LEASE_MS = 2 * DATABASE_TIMEOUT_MAX_MS + MAX_REQUESTS_PER_SEND * NOTIFY_TIMEOUT_MAX_MS + SEND_LEASE_MARGIN_MS;
/**
 * The delay before the next attempt, ms, after `attempt` attempts (1-based): exponential from
 * BACKOFF_BASE_MS, capped at BACKOFF_CAP_MS, with ±20 % jitter so retries of one outage spread
 * out; the provider's Retry-After (ms), when given, is a floor. `random` in [0, 1).
 */
export function backoffMs(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(exp * (0.8 + 0.4 * random()));
  const floor = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) ? Math.min(Math.max(0, retryAfterMs), RETRY_AFTER_MAX_MS) : 0;
  return Math.max(jittered, floor);
}

/** What happened to one delivery, as recorded. `dead`: a retry past MAX_ATTEMPTS. */
export type DeliveryResult =
  | { id: number; attempts: number; outcome: 'sent'; providerMessageId: string }
  | { id: number; attempts: number; outcome: 'retry'; error: string; retryAt: Date }
  | { id: number; attempts: number; outcome: 'failed' | 'unregistered' | 'dead'; error: string };

/** The recorded form of a provider's answer for a claim of `attempts` attempts. */
export function resultOf(claim: { id: number; attempts: number }, outcome: SendOutcome, now: Date, random: () => number = Math.random): DeliveryResult {
  const { id, attempts } = claim;
  switch (outcome.kind) {
    case 'sent':
      return { id, attempts, outcome: 'sent', providerMessageId: outcome.providerMessageId };
    case 'failed':
    case 'unregistered':
      return { id, attempts, outcome: outcome.kind, error: outcome.error };
    case 'retry':
      if (attempts >= MAX_ATTEMPTS) return { id, attempts, outcome: 'dead', error: `gave up after ${attempts} attempts: ${outcome.error}` };
      return { id, attempts, outcome: 'retry', error: outcome.error, retryAt: new Date(now.getTime() + backoffMs(attempts, outcome.retryAfterMs, random)) };
  }
}
