/**
 * Recorded attempts: how every Stripe POST that creates or moves money is sent, so that a retry
 * is safe against Stripe's real idempotency layer.
 *
 * Stripe saves the first answer to an idempotency key — a 500 included — and replays it to every
 * request with that key; keys are pruned once at least 24 h old, and the same key then executes
 * afresh (https://docs.stripe.com/api/idempotent_requests). A 500's outcome is indeterminate, and a
 * timeout's too (https://docs.stripe.com/error-low-level#server-errors). So retrying with the same
 * key is wrong twice over: after a stored 500 it can never succeed, and a day later it can charge
 * twice. Instead, each attempt is recorded (table `payment_attempts`) BEFORE it is sent, and a
 * retry first LOOKS THE OPERATION UP at Stripe (the caller says how: retrieve the PaymentIntent,
 * or list by our metadata) and adopts what it finds; only when nothing is there does it send,
 * with a new attempt key (recorded first) unless the last key is still safe to reuse.
 *
 * Keys: attempt 1 is the key the app always used (`capture-<holdId>`, `overage-<orderId>`, …);
 * attempt n > 1 is `<that>-a<n>`. Deterministic, so two racing retries send the same key and
 * Stripe executes one of them.
 */
import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { isStripeError, isStripeErrorOf } from '../../payments/stripe-errors.js';
import { z } from 'zod';
import { AnyRow } from '../../db/client.js';
import type { Deps } from '../../deps.js';

export type AttemptOperation = 'hold' | 'capture' | 'overage' | 'balance' | 'refund' | 'cancel';

/** Stripe keeps a key for at least 24 h; we stop relying on one an hour before that. */
export const KEY_TRUST_MS = 23 * 3_600_000;

/** Stripe's clock and ours may differ a little: a look-up searches from this long before the first attempt. */
const LOOKUP_SLACK_MS = 10 * 60_000;

export interface LookupContext {
  /** When the first attempt of this operation was recorded, less some slack: list Stripe's objects created since. */
  since: Date;
  /** Every idempotency key this operation was sent with (our metadata `attempt` names one of them). */
  keys: string[];
}

export interface AttemptSpec<T> {
  orderId: string;
  operation: AttemptOperation;
  /** Our id the operation acts on (see `payment_attempts.subject`); with the operation it names the key. */
  subject: string;
  /** What Stripe already has for this operation, or undefined. Called only before sending again. */
  lookup: (ctx: LookupContext) => Promise<T | undefined>;
}

export interface Sent<T> {
  result: T;
  /** The idempotency key of the attempt this result belongs to. */
  key: string;
  /** True when the result was found at Stripe by the look-up, not answered to a request we sent now. */
  adopted: boolean;
}

/** The key of attempt `n`: attempt 1 keeps the historical key. */
export function attemptKey(operation: AttemptOperation, subject: string, n: number): string {
  return n === 1 ? `${operation}-${subject}` : `${operation}-${subject}-a${n}`;
}

export const PriorAttempt = z.object({
  inserted: z.boolean(),
  attempt: z.number().nullable(),
  idempotency_key: z.string().nullable(),
  outcome: z.string().nullable(),
  sent_ms: z.number().nullable(),
  first_ms: z.number().nullable(),
  keys: z.array(z.string()).nullable(),
});
export type PriorAttempt = z.infer<typeof PriorAttempt>;

/**
 * One statement: the operation's earlier attempts, and attempt 1 recorded when there are none.
 * `subject` is SQL, so a caller may name it by a sub-select and run this in a batch before it
 * knows the id (the weigh-in: its hold awaiting capture); a NULL subject records nothing.
 */
export function priorAttemptSql(orderId: string, operation: AttemptOperation, subject: SQL, now: Date): SQL {
  return sql`
    WITH subj AS (SELECT (${subject})::text AS id),
    mine AS (
      SELECT attempt, idempotency_key, outcome, sent_at FROM payment_attempts
      WHERE operation = ${operation} AND subject = (SELECT id FROM subj)
    ),
    last AS (SELECT * FROM mine ORDER BY attempt DESC LIMIT 1),
    ins AS (
      INSERT INTO payment_attempts (id, order_id, operation, subject, attempt, idempotency_key, sent_at)
      SELECT ${crypto.randomUUID()}::uuid, ${orderId}::uuid, ${operation}, subj.id, 1, ${`${operation}-`}::text || subj.id, ${now.toISOString()}::timestamptz
      FROM subj WHERE subj.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM mine)
      ON CONFLICT DO NOTHING RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM ins) AS inserted,
           (SELECT attempt FROM last) AS attempt, (SELECT idempotency_key FROM last) AS idempotency_key,
           (SELECT outcome FROM last) AS outcome,
           (SELECT (extract(epoch FROM sent_at) * 1000)::float8 FROM last) AS sent_ms,
           (SELECT (extract(epoch FROM min(sent_at)) * 1000)::float8 FROM mine) AS first_ms,
           (SELECT array_agg(idempotency_key ORDER BY attempt) FROM mine) AS keys`;
}

/**
 * Sends one money-moving Stripe request for `spec`, safely: `send(key)` is the SDK call with that
 * idempotency key. The first time, attempt 1 is recorded and sent (one database statement, or
 * none when the caller ran `priorAttemptSql` for this operation in an earlier batch of its own and
 * passes its row as `known`). On a later call, the operation is looked up at Stripe first and a
 * found object is adopted; otherwise
 * the request is sent again — with the same key only while the last attempt's answer is merely
 * unknown (timeout, or still in flight) and the key is younger than 23 h, else with a new attempt
 * key recorded first. A failure is recorded on its attempt (server_error, no_answer, refused) and
 * rethrown unchanged, so call sites keep their error handling.
 */
export async function sendOnce<T>(deps: Deps, spec: AttemptSpec<T>, send: (idempotencyKey: string) => Promise<T>, known?: PriorAttempt): Promise<Sent<T>> {
  const now = deps.clock.now();
  const first = attemptKey(spec.operation, spec.subject, 1);
  const prior = known ?? (await deps.database.rows(PriorAttempt, priorAttemptSql(spec.orderId, spec.operation, sql`${spec.subject}`, now)))[0];
  // First attempt (or a racing first attempt: the same key, so Stripe executes one of them).
  if (!prior || prior.attempt === null || prior.idempotency_key === null) return attempt(deps, first, send);

  const lastKey = prior.idempotency_key;
  if (prior.outcome !== 'refused') {
    const since = new Date((prior.first_ms ?? now.getTime()) - LOOKUP_SLACK_MS);
    const found = await spec.lookup({ since, keys: prior.keys ?? [lastKey] });
    if (found !== undefined) {
      const id = (found as { id?: unknown }).id;
      await deps.database.rows(AnyRow, sql`
        UPDATE payment_attempts SET outcome = 'adopted', stripe_object_id = ${typeof id === 'string' ? id : null}
        WHERE idempotency_key = ${lastKey}`);
      return { result: found, key: lastKey, adopted: true };
    }
  }
  // Nothing at Stripe. The same key is still safe only if Stripe stored no answer we would not
  // want replayed (no answer seen, or still in flight) and it cannot have been pruned yet.
  const fresh = now.getTime() - (prior.sent_ms ?? 0) < KEY_TRUST_MS;
  if ((prior.outcome === null || prior.outcome === 'no_answer') && fresh) return attempt(deps, lastKey, send);
  const next = attemptKey(spec.operation, spec.subject, prior.attempt + 1);
  await deps.database.rows(AnyRow, sql`
    INSERT INTO payment_attempts (id, order_id, operation, subject, attempt, idempotency_key, sent_at)
    VALUES (${crypto.randomUUID()}::uuid, ${spec.orderId}::uuid, ${spec.operation}, ${spec.subject}, ${prior.attempt + 1}::int, ${next},
            ${now.toISOString()}::timestamptz)
    ON CONFLICT DO NOTHING`);
  return attempt(deps, next, send);
}

async function attempt<T>(deps: Deps, key: string, send: (idempotencyKey: string) => Promise<T>): Promise<Sent<T>> {
  try {
    return { result: await send(key), key, adopted: false };
  } catch (err) {
    const failure = failureOf(err);
    if (failure) {
      await deps.database.rows(AnyRow, sql`
        UPDATE payment_attempts SET outcome = ${failure.outcome}, error = ${failure.error} WHERE idempotency_key = ${key}`);
    }
    throw err;
  }
}

/**
 * How Stripe's idempotency layer treats a failure (https://docs.stripe.com/error-low-level):
 * a 5xx is stored and replayed for the key; a connection error or timeout may or may not have
 * executed; 409 (key in use) and 429 (rate limited, answered before the idempotency layer) store
 * nothing; any other 4xx is Stripe's definitive answer.
 */
function failureOf(err: unknown): { outcome: 'server_error' | 'no_answer' | 'refused'; error: string } | undefined {
  if (!isStripeError(err)) return undefined;
  const error = `${err.type}${err.code ? `: ${err.code}` : ''}`;
  const status = err.statusCode;
  if (isStripeErrorOf(err, 'StripeConnectionError') || status === undefined) return { outcome: 'no_answer', error };
  if (status >= 500) return { outcome: 'server_error', error };
  if (status === 409 || status === 429) return { outcome: 'no_answer', error };
  return { outcome: 'refused', error };
}

/** Our metadata on an object we create: which order, which kind of payment, which attempt. */
export interface OurMetadata {
  order_id: string;
  kind: string;
  attempt: string;
}

/** Whether a Stripe object's metadata names this operation: our order and kind, and (when it says) one of our attempt keys. */
export function metadataMatches(metadata: Stripe.Metadata | null | undefined, orderId: string, kind: string, keys: string[]): boolean {
  if (!metadata || metadata.order_id !== orderId || metadata.kind !== kind) return false;
  return metadata.attempt === undefined || keys.includes(metadata.attempt);
}

/** Look-up for a PaymentIntent we create: the customer's PaymentIntents since the first attempt, matched on our metadata. */
export function intentByMetadata(stripe: Stripe, customer: string | undefined, orderId: string, kind: string) {
  return async ({ since, keys }: LookupContext): Promise<Stripe.PaymentIntent | undefined> => {
    const created = { gte: Math.floor(since.getTime() / 1000) };
    const intents = await stripe.paymentIntents.list({ ...(customer ? { customer } : {}), created, limit: 100 }).autoPagingToArray({ limit: 1_000 });
    // Oldest first: if two were ever made, the first is the one to adopt (the other is for a person to see).
    return intents.reverse().find((pi) => metadataMatches(pi.metadata, orderId, kind, keys));
  };
}

/** Look-up for an operation on an existing PaymentIntent (capture, cancel): the intent, once `done` says the operation happened. */
export function intentWhen(stripe: Stripe, intentId: string, done: (pi: Stripe.PaymentIntent) => boolean) {
  return async (): Promise<Stripe.PaymentIntent | undefined> => {
    const pi = await stripe.paymentIntents.retrieve(intentId);
    return done(pi) ? pi : undefined;
  };
}

/** Look-up for a refund: the PaymentIntent's refunds, matched on our `refund_id` metadata. */
export function refundByMetadata(stripe: Stripe, intentId: string, refundRowId: string) {
  return async (): Promise<Stripe.Refund | undefined> => {
    const refunds = await stripe.refunds.list({ payment_intent: intentId, limit: 100, expand: ['data.charge'] }).autoPagingToArray({ limit: 1_000 });
    return refunds.find((r) => r.metadata?.refund_id === refundRowId);
  };
}
