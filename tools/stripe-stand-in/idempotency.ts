/**
 * stripe-stand-in, part: the idempotency layer, as Stripe documents it
 * (https://docs.stripe.com/api/idempotent_requests):
 *
 * - "Stripe's idempotency works by saving the resulting status code and body of the first request
 *   made for any given idempotency key, regardless of whether it succeeds or fails. Subsequent
 *   requests with the same key return the same result, including 500 errors." — so an answered
 *   500 is stored and replayed like any other answer (`failNext` server_error stores it too,
 *   unless the test says `stored: false`);
 * - keys are removed "after they're at least 24 hours old", and "a new request is generated if a
 *   key is reused after the original is pruned" — here after 24 h of the STAND-IN's clock
 *   (`advanceTime` moves it), so a retry a day later executes afresh (a second charge);
 * - results are saved "only after the execution of an endpoint begins": parameters that fail
 *   validation are not stored (StripeApiError.stored = false), nor are requests Stripe never
 *   answered (timeout/disconnect without applyThenFail);
 * - the same key with other parameters: 400 `idempotency_error`; keys are scoped per API key.
 */

/** How long Stripe keeps a key: at least 24 h. The stand-in forgets it exactly then. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600 * 1000;

export interface StoredAnswer {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
  /** Stand-in clock (ms) when the first request was answered. */
  at: number;
}

export type Lookup =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'mismatch'; status: 400; body: string };

export class IdempotencyStore {
  private readonly answers = new Map<string, StoredAnswer>();

  /** @param clockMs the stand-in's clock, in ms (wall clock + advanceTime). */
  constructor(private readonly clockMs: () => number) {}

  private scoped(apiKey: string, key: string): string {
    return `${apiKey}\u0000${key}`;
  }

  /** What a request with this key and fingerprint gets: a fresh execution, a replay, or a mismatch error. */
  lookup(apiKey: string, key: string, fingerprint: string): Lookup {
    const id = this.scoped(apiKey, key);
    const prior = this.answers.get(id);
    if (!prior) return { kind: 'new' };
    if (this.clockMs() - prior.at >= IDEMPOTENCY_KEY_TTL_MS) {
      this.answers.delete(id); // pruned: the same key now makes a new request
      return { kind: 'new' };
    }
    if (prior.fingerprint !== fingerprint) {
      const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`;
      return { kind: 'mismatch', status: 400, body: JSON.stringify({ error: { type: 'idempotency_error', message } }) };
    }
    return { kind: 'replay', answer: prior };
  }

  save(apiKey: string, key: string, answer: Omit<StoredAnswer, 'at'>): void {
    this.answers.set(this.scoped(apiKey, key), { ...answer, at: this.clockMs() });
  }

  clear(): void {
    this.answers.clear();
  }
}

/** The body of the 500 that `failNext({mode: 'server_error'})` answers (Stripe's `api_error`). */
export const INJECTED_SERVER_ERROR = JSON.stringify({
  error: { type: 'api_error', message: 'An unknown error occurred (injected by the Stripe stand-in: failNext server_error).' },
});
