/**
 * What the customer's card tip and the staff's cash tip share: reading the order for a tip
 * (with any earlier answer to the Idempotency-Key), and claiming the key and the order's one
 * tip in one statement.
 *
 * One tip per order: the partial unique index `tips_live_order_key` (migration 0022) admits one
 * tip that is not `failed`, so of any number of concurrent requests (different keys) exactly one
 * inserts; the others' statements fail on the index and answer 409 `tip_exists`, with nothing
 * written (their key is not stored either: the key and the tip are one statement).
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { fingerprintRequest } from '../../domain/idempotency.js';
import { tipAmount, type TipPreset, type TipRequest } from '../../domain/tip.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { TipDto, TipInput } from './schemas.js';

const iso = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
/** A tips row as JSON (alias `t`), in the shape of TipRow. */
export const tipJson = sql`json_build_object('id', t.id, 'orderId', t.order_id, 'userId', t.user_id, 'amount', t.amount, 'currency', t.currency,
  'percent', t.percent, 'method', t.method, 'status', t.status, 'stripePaymentIntentId', t.stripe_payment_intent_id,
  'failureCode', t.failure_code, 'createdAt', ${iso('t.created_at')})`;

export const TipRow = z.object({
  id: z.string(),
  orderId: z.string(),
  userId: z.string(),
  amount: z.number(),
  currency: z.string(),
  percent: z.number().nullable(),
  method: z.enum(['card', 'cash']),
  status: z.enum(['pending', 'processing', 'succeeded', 'failed']),
  stripePaymentIntentId: z.string().nullable(),
  failureCode: z.string().nullable(),
  createdAt: z.string(),
});
export type TipRow = z.infer<typeof TipRow>;

const Prior = z.object({ fingerprint: z.string(), tip: TipRow.nullable() });
const OrderForTip = z.object({
  found: z.boolean(),
  status: z.string().nullable(),
  paymentMethod: z.string().nullable(),
  currency: z.string().nullable(),
  base: z.number().nullable(),
  holdIntent: z.string().nullable(),
  driver: z.string().nullable(),
  prior: Prior.nullable(),
  live: z.number(),
});

export interface TipCommand {
  orderId: string;
  /** The caller: the customer (card) or the staff member (cash). */
  userId: string;
  role: 'customer' | 'staff' | 'admin';
  /** Card tips are the customer's own orders only; staff record cash on any order. */
  ownOrder: boolean;
  method: 'card' | 'cash';
  key: string;
  input: TipInput;
  /** The request path, for the key's fingerprint. */
  path: string;
}

/** The order as a tip needs it; `replay` when the key answered before (its tip as it is now). */
export type TipContext =
  | { replay: TipRow; holdIntent: string | null }
  | { replay?: undefined; fingerprint: string; amount: number; currency: string; holdIntent: string | null; driver: string | null; base: number };

/**
 * Round trip 1: the order (status, method, final total, hold, the staff member who delivered
 * it), and the key's earlier answer. Throws 404 `not_found`, 422 `idempotency_key_reused`,
 * 409 `order_not_delivered`, 409 `payment_not_applicable` (a card tip on a pay-on-delivery
 * order, or a cash tip on a card order), 409 `tip_exists`, 422 `invalid_tip_amount`.
 */
export async function readForTip(deps: Deps, cmd: TipCommand): Promise<TipContext> {
  const fingerprint = await fingerprintRequest({ method: 'POST', path: cmd.path, body: cmd.input }, deps.sha256Hex);
  const owner = cmd.ownOrder ? sql` AND o.user_id = ${cmd.userId}::uuid` : sql``;
  const [row] = await deps.database.rows(OrderForTip, sql`
    SELECT o.id IS NOT NULL AS found, o.status::text AS status, o.payment_method::text AS "paymentMethod", o.currency,
           COALESCE(o.final_total, o.estimated_total) AS base,
           (SELECT p.stripe_payment_intent_id FROM payments p WHERE p.order_id = o.id AND p.kind = 'hold') AS "holdIntent",
           (SELECT e.actor_user_id::text FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'delivered' ORDER BY e.id DESC LIMIT 1) AS driver,
           (SELECT json_build_object('fingerprint', k.fingerprint,
                     'tip', (SELECT ${tipJson} FROM tips t WHERE t.id = (k.response->>'tipId')::uuid))
            FROM idempotency_keys k WHERE k.user_id = ${cmd.userId}::uuid AND k.key = ${cmd.key}) AS prior,
           (SELECT count(*) FROM tips t WHERE t.order_id = o.id AND t.status <> 'failed')::int AS live
    FROM (SELECT 1) one LEFT JOIN orders o ON o.id = ${cmd.orderId}::uuid${owner}`);
  if (row?.prior) return { replay: replayed(row.prior, fingerprint), holdIntent: row.holdIntent };
  if (!row?.found || row.base === null || row.currency === null) throw new ApiError('not_found', 'No such order.');
  if (row.status !== 'delivered') {
    throw new ApiError('order_not_delivered', 'A tip can be added once the order is delivered.', { details: { status: row.status } });
  }
  const wanted = cmd.method === 'card' ? 'card' : 'on_delivery';
  if (row.paymentMethod !== wanted || (cmd.method === 'card' && !row.holdIntent)) {
    throw new ApiError(
      'payment_not_applicable',
      cmd.method === 'card' ? 'This order was paid at the door: no card is saved for a tip. Give the driver a tip in cash.' : 'Cash tips are recorded on pay-on-delivery orders; card orders are tipped in the app.',
      { details: { paymentMethod: row.paymentMethod } },
    );
  }
  if (row.live) throw new ApiError('tip_exists', 'This order has a tip already (one tip per order).');
  const request: TipRequest = cmd.input.percent !== undefined ? { percent: cmd.input.percent as TipPreset } : { amount: cmd.input.amount! };
  return { fingerprint, amount: tipAmount(row.base, row.currency, request), currency: row.currency, holdIntent: row.holdIntent, driver: row.driver, base: row.base };
}

function replayed(prior: z.infer<typeof Prior>, fingerprint: string): TipRow {
  if (prior.fingerprint !== fingerprint) {
    throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was used for a different request. Use a new key for a new tip.');
  }
  if (!prior.tip) throw new ApiError('conflict', 'The tip this key recorded is gone; use a new key.');
  return prior.tip;
}

/**
 * Round trip 2: ONE statement stores the key (its answer is the tip's id: a replay answers from
 * the tip as it is then) and inserts the tip, `pending` for a card (charged next) or `succeeded`
 * for cash, only while the order is still delivered at the total the amount was computed on.
 * A concurrent request with the same key makes this write nothing: its tip is answered instead.
 */
export async function claimTip(deps: Deps, cmd: TipCommand, ctx: Extract<TipContext, { fingerprint: string }>): Promise<{ tip: TipRow; fresh: boolean }> {
  const now = deps.clock.now().toISOString();
  const tipId = crypto.randomUUID();
  const status = cmd.method === 'card' ? 'pending' : 'succeeded';
  let rows: Array<{ guarded: number; tip: TipRow | null }>;
  try {
    rows = await deps.database.rows(z.object({ guarded: z.number(), tip: TipRow.nullable() }), sql`
      WITH guard AS (
        SELECT o.id, o.user_id FROM orders o
        WHERE o.id = ${cmd.orderId}::uuid AND o.status = 'delivered' AND COALESCE(o.final_total, o.estimated_total) = ${ctx.base}::int
      ),
      idem AS (
        INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, order_id, created_at)
        SELECT ${cmd.userId}::uuid, ${cmd.key}, ${ctx.fingerprint}, 201, json_build_object('tipId', ${tipId}::uuid), guard.id, ${now}::timestamptz
        FROM guard
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING order_id
      ),
      t AS (
        INSERT INTO tips (id, order_id, user_id, driver_user_id, recorded_by, method, status, amount, currency, percent, created_at, updated_at)
        SELECT ${tipId}::uuid, guard.id, guard.user_id, ${ctx.driver}::uuid, ${cmd.userId}::uuid, ${cmd.method}, ${status}, ${ctx.amount}::int,
               ${ctx.currency}, ${cmd.input.percent ?? null}::int, ${now}::timestamptz, ${now}::timestamptz
        FROM guard JOIN idem ON idem.order_id = guard.id
        RETURNING *
      ),
      ev AS (
        INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence)
        SELECT t.order_id, ${now}::timestamptz, ${cmd.role}::actor_role, ${cmd.userId}::uuid, 'payment', ${`Cash tip of ${ctx.amount} ${ctx.currency} for the driver`},
               jsonb_build_object('tipId', t.id, 'amount', t.amount, 'method', 'cash')
        FROM t WHERE t.method = 'cash'
      )
      SELECT (SELECT count(*) FROM guard)::int AS guarded, (SELECT ${tipJson} FROM t) AS tip`);
  } catch (err) {
    if (isUniqueViolation(err, 'tips_live_order_key')) throw new ApiError('tip_exists', 'This order has a tip already (one tip per order).');
    throw err;
  }
  const [row] = rows;
  if (row?.tip) return { tip: row.tip, fresh: true };
  if (!row?.guarded) throw new ApiError('conflict', 'The order changed while the tip was recorded; retry.');
  // The key was claimed by a concurrent request: answer its tip.
  const again = await readForTip(deps, cmd);
  if (again.replay) return { tip: again.replay, fresh: false };
  throw new ApiError('conflict', 'A concurrent request with this Idempotency-Key failed; retry.');
}

/** The tip as the API answers it. */
export function tipDto(tip: TipRow): TipDto {
  if (tip.status === 'failed') throw new Error('a failed tip is answered as a problem (tipFailure)');
  return {
    id: tip.id,
    orderId: tip.orderId,
    amount: tip.amount,
    currency: tip.currency,
    percent: tip.percent,
    method: tip.method,
    status: tip.status,
    createdAt: tip.createdAt,
  };
}
