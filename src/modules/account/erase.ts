import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { AddressSnapshot } from '../../db/address-snapshot.js';
import type { Deps } from '../../deps.js';
import { TERMINAL_STATUSES } from '../../domain/order-status.js';
import { ApiError } from '../../errors.js';

/*
 * Account erasure (issue 18; GDPR art. 17, App Store guideline 5.1.1(v)): what DELETE /v1/me and
 * DELETE /v1/admin/users/{id} do once the caller may. What happens to each column is listed in
 * src/account/personal-data.ts, which test/node/account-personal-data.test.ts holds to the schema.
 */

/** An order that keeps the account open: in progress, with money outstanding, or a refund on its way. */
export interface ErasureBlocker {
  orderId: string;
  status: string;
  /** Minor units still owed on the order (order_balances.outstanding); 0 when none. */
  outstanding: number;
  currency: string;
  /** A refund to the customer is still pending at Stripe. */
  refundPending: boolean;
  /** A tip charge on the customer's card is still in flight (`processing`, or `pending` for under TIP_IN_FLIGHT_MINUTES). */
  tipPending: boolean;
}

const Blocker = z.object({ orderId: z.string(), status: z.string(), outstanding: z.number(), currency: z.string(), refundPending: z.boolean(), tipPending: z.boolean() });

/** What the erasure needs to know first: the re-authentication material and the blockers. */
export const ErasureSubject = z.object({
  id: z.string(),
  password_hash: z.string(),
  /** `customer`, `staff` or `admin`: the admin route erases customers only. */
  role: z.string(),
  erased: z.boolean(),
  identities: z.array(z.object({ provider: z.string(), subject: z.string() })),
  blockers: z.array(Blocker),
});
export type ErasureSubject = z.infer<typeof ErasureSubject>;

const TERMINAL = sql.raw(TERMINAL_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * How long a `pending` card tip may still be being charged: far beyond its longest charge (two
 * Stripe requests, each up to three attempts of STRIPE_TIMEOUT_MS, at most 120 s), and the age
 * docs/runbook.md calls stuck. Older, Stripe never answered and the app never retried with its key:
 * nothing settles it (reconciliation skips tips) and the customer cannot tip again (one live tip
 * per order), so it must not block the erasure forever. `processing` always blocks (Stripe's
 * webhook settles it).
 */
export const TIP_IN_FLIGHT_MINUTES = 60;

/** A tip of order `o` still being charged at `now` (the app's clock). */
const tipInFlight = (now: Date) => sql`EXISTS (SELECT 1 FROM tips t WHERE t.order_id = o.id AND (t.status = 'processing'
    OR (t.status = 'pending' AND t.created_at > ${now.toISOString()}::timestamptz - make_interval(mins => ${TIP_IN_FLIGHT_MINUTES}))))`;

/** Orders of `userId` that block the erasure at `now` (one row each), as a FROM-able query. */
const blockingOrders = (userId: string, now: Date) => sql`
  SELECT o.id, o.status, o.currency, o.created_at, b.outstanding,
         EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id AND r.status = 'pending') AS refund_pending,
         ${tipInFlight(now)} AS tip_pending
  FROM orders o JOIN order_balances b ON b.order_id = o.id
  WHERE o.user_id = ${userId}::uuid
    AND (o.status::text NOT IN (${TERMINAL}) OR b.outstanding > 0
         OR EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id AND r.status = 'pending')
         OR ${tipInFlight(now)})`;

/**
 * The account, its linked identities and what blocks its erasure, in one SELECT; no row when no
 * such user. `cte`, `columns` and `from` add a CTE, output columns and a (one-row) FROM item, e.g.
 * the self-deletion's attempt counter.
 */
export function erasureSubjectQuery(userId: string, now: Date, cte?: SQL, columns?: SQL, from?: SQL): SQL {
  return sql`
    ${cte ? sql`WITH ${cte}` : sql``}
    SELECT u.id, u.password_hash, u.role::text AS role, u.erased_at IS NOT NULL AS erased,
      COALESCE((SELECT json_agg(json_build_object('provider', i.provider, 'subject', i.subject)) FROM user_identities i WHERE i.user_id = u.id), '[]'::json) AS identities,
      COALESCE((SELECT json_agg(json_build_object('orderId', x.id, 'status', x.status, 'outstanding', x.outstanding, 'currency', x.currency, 'refundPending', x.refund_pending, 'tipPending', x.tip_pending) ORDER BY x.created_at)
                FROM (${blockingOrders(userId, now)}) x), '[]'::json) AS blockers
      ${columns ? sql`, ${columns}` : sql``}
    FROM users u ${from ? sql`, ${from}` : sql``} WHERE u.id = ${userId}::uuid`;
}

export async function loadErasureSubject(deps: Deps, userId: string): Promise<ErasureSubject | undefined> {
  const [row] = await deps.database.rows(ErasureSubject, erasureSubjectQuery(userId, deps.clock.now()));
  return row;
}

/** 409 `account_has_open_orders`, listing the blockers in `details.blockers`. */
export function blockedError(blockers: ErasureBlocker[]): ApiError {
  return new ApiError(
    'account_has_open_orders',
    'The account has orders in progress, money outstanding or a refund pending; it can be deleted once they are delivered or cancelled and settled.',
    { details: { blockers } },
  );
}

/** What an erased order keeps of its address: the shape stays valid, nothing identifies a place. */
export const ERASED_ADDRESS: AddressSnapshot = { label: null, line1: '', line2: null, city: '', postcode: '', instructions: null };
/** The password hash of an erased account: not a PHC string, so no password ever verifies. */
export const ERASED_PASSWORD_HASH = '!erased';

export interface EraseResult {
  outcome: 'erased' | 'already_erased';
  /** The external steps written with the erasure (account_erasure_tasks ids), to attempt now. */
  taskIds: string[];
}

const EraseRow = z.object({ erased: z.number(), task_ids: z.array(z.string()) });
const StateRow = z.object({ erased: z.boolean() });

/**
 * Erases the account `userId` in ONE statement (one round trip; atomic on every driver), unless an
 * order blocks it (re-checked inside the statement, so an order that reached a blocking state since
 * the caller's check is never erased under it):
 * - users: email → `deleted+<uuid>@invalid` (the address can register again), password hash →
 *   ERASED_PASSWORD_HASH, name, phone, locale and the Stripe Customer id → null, `disabled_at` and
 *   `erased_at` set: every access token of the account is refused at its next request
 *   (src/db/role-check.ts), every refresh token is gone;
 * - deleted: addresses, devices, notification preferences, identities, outbox/inbox rows (with
 *   their deliveries, which hold recipient addresses), idempotency keys (their stored answers
 *   hold the order's address), refresh tokens; each session is recorded in `ended_sessions`, so a
 *   refresh that was committing a successor token concurrently is refused too;
 * - orders keep lines, payments, refunds and the timeline; their address snapshot becomes
 *   ERASED_ADDRESS, the customer's `notes` and the notes the customer wrote on the timeline (a
 *   cancellation reason; migration 0019 lets exactly that through the append-only guard) are cleared;
 * - account_erasure_tasks: the Stripe Customer's deletion and each Apple refresh token's revocation
 *   (`appleSealed`: one more, from an authorization code sent with the deletion).
 *
 * Concurrent erasures of one account: the users row's lock orders them; the second finds
 * `erased_at` set and does nothing (`already_erased`). One more round trip only when nothing was
 * erased, to tell "already erased" from "blocked" (409 `account_has_open_orders`, fresh list).
 */
export async function eraseAccount(deps: Deps, userId: string, appleSealed: string[] = []): Promise<EraseResult> {
  const now = deps.clock.now();
  const at = sql`${now.toISOString()}::timestamptz`;
  const mine = sql`user_id IN (SELECT id FROM u)`;
  const [row] = await deps.database.rows(EraseRow, sql`
    WITH before AS (
      SELECT stripe_customer_id FROM users WHERE id = ${userId}::uuid
    ), u AS (
      UPDATE users SET email = ${`deleted+${crypto.randomUUID()}@invalid`}, password_hash = ${ERASED_PASSWORD_HASH},
        name = NULL, phone = NULL, locale = NULL, stripe_customer_id = NULL, email_verified_at = NULL,
        disabled_at = COALESCE(disabled_at, ${at}), erased_at = ${at}, updated_at = ${at}
      WHERE id = ${userId}::uuid AND erased_at IS NULL AND NOT EXISTS (${blockingOrders(userId, now)})
      RETURNING id
    ), tasks AS (
      INSERT INTO account_erasure_tasks (user_id, kind, reference, next_attempt_at, created_at)
      SELECT u.id, 'stripe_customer_delete', b.stripe_customer_id, ${at}, ${at} FROM u, before b WHERE b.stripe_customer_id IS NOT NULL
      UNION ALL
      SELECT u.id, 'apple_token_revoke', i.apple_refresh_token_sealed, ${at}, ${at}
      FROM u JOIN user_identities i ON i.user_id = u.id WHERE i.apple_refresh_token_sealed IS NOT NULL
      UNION ALL
      SELECT u.id, 'apple_token_revoke', s.sealed, ${at}, ${at} FROM u, unnest(${`{${appleSealed.map((s) => `"${s}"`).join(',')}}`}::text[]) AS s(sealed)
      RETURNING id
    ), identities AS (
      DELETE FROM user_identities WHERE ${mine}
    ), addresses_gone AS (
      DELETE FROM addresses WHERE ${mine}
    ), orders_kept AS (
      UPDATE orders SET address = ${JSON.stringify(ERASED_ADDRESS)}::jsonb, address_id = NULL, notes = NULL, updated_at = ${at} WHERE ${mine}
    ), customer_notes_gone AS (
      UPDATE order_events SET note = NULL
      WHERE actor_role = 'customer' AND note IS NOT NULL AND order_id IN (SELECT o.id FROM orders o WHERE o.${mine})
    ), credit_notes_gone AS (
      UPDATE credit_entries SET note = NULL WHERE ${mine} AND note IS NOT NULL
    ), account_tokens_gone AS (
      DELETE FROM account_tokens WHERE ${mine}
    ), devices_gone AS (
      DELETE FROM devices WHERE ${mine}
    ), preferences_gone AS (
      DELETE FROM notification_preferences WHERE ${mine}
    ), outbox_gone AS (
      DELETE FROM notification_outbox WHERE ${mine}
    ), keys_gone AS (
      DELETE FROM idempotency_keys WHERE ${mine}
    ), sessions_ended AS (
      INSERT INTO ended_sessions (family_id, user_id, ended_at, reason)
      SELECT DISTINCT family_id, user_id, ${at}, 'account_deleted' FROM refresh_tokens WHERE ${mine}
      ON CONFLICT (family_id) DO NOTHING
    ), tokens_gone AS (
      DELETE FROM refresh_tokens WHERE ${mine}
    )
    SELECT (SELECT count(*) FROM u)::int AS erased, COALESCE((SELECT array_agg(id::text) FROM tasks), '{}'::text[]) AS task_ids`);
  if (row && row.erased > 0) return { outcome: 'erased', taskIds: row.task_ids };
  const [state] = await deps.database.rows(StateRow, sql`SELECT erased_at IS NOT NULL AS erased FROM users WHERE id = ${userId}::uuid`);
  if (!state) throw new ApiError('not_found', 'No such user.');
  if (state.erased) return { outcome: 'already_erased', taskIds: [] };
  const subject = await loadErasureSubject(deps, userId);
  throw blockedError(subject?.blockers ?? []);
}
