/**
 * The personal-data registry: EVERY column of EVERY table, personal or not, and what account
 * erasure (src/modules/account/erase.ts) does to each personal one. test/node/account-personal-data.test.ts
 * reads information_schema after the migrations and fails on a column missing here (so a new
 * column must be classified before it ships), and after an erasure checks that no row of any
 * table still holds the user's email, name, phone or address text.
 *
 * - `no`: not personal (ids, money, statuses, times, catalog and scheduling data, hashes that
 *   identify nobody without the secret they were made from);
 * - `deleted`: the row goes with the account;
 * - `anonymised`: the row stays and the value is replaced (`to`);
 * - `cleared`: set to null;
 * - `kept`: personal or linkable, kept on purpose (`why`: the legal basis or the reason).
 */
export type ColumnHandling = 'no' | 'deleted' | 'cleared' | { anonymised: string } | { kept: string };

const NO = 'no' as const;
const DEL = 'deleted' as const;
const CLEARED = 'cleared' as const;
const kept = (why: string) => ({ kept: why });
const anon = (to: string) => ({ anonymised: to });

/** Columns of `names`, all with one handling. */
const all = (handling: ColumnHandling, names: string) => Object.fromEntries(names.split(/\s+/).filter(Boolean).map((n) => [n, handling]));

const ACCOUNTING = 'accounting record of an order (kept while the law requires; not linked to a person once the account is erased)';

export const PERSONAL_DATA: Record<string, Record<string, ColumnHandling>> = {
  users: {
    ...all(NO, 'id role disabled_at synthetic erased_at credit_balance created_at updated_at'),
    // Not personal by itself, but it described the erased address: cleared with it.
    email_verified_at: CLEARED,
    email: anon('deleted+<uuid>@invalid'),
    password_hash: anon("'!erased' (no password verifies)"),
    name: CLEARED,
    phone: CLEARED,
    locale: CLEARED,
    stripe_customer_id: CLEARED,
  },
  addresses: all(DEL, 'id user_id label line1 line2 city postcode instructions created_at updated_at'),
  user_identities: all(DEL, 'provider subject user_id email created_at last_used_at apple_refresh_token_sealed'),
  devices: all(DEL, 'token user_id platform app_version locale created_at updated_at'),
  notification_preferences: all(DEL, 'user_id type channel enabled updated_at'),
  notification_outbox: all(DEL, 'id user_id order_id type dedupe_key data recipient created_at enqueued_at dispatched_at read_at'),
  account_tokens: all(DEL, 'token_hash user_id purpose email password_fingerprint created_at expires_at used_at'),
  notification_deliveries: all(DEL, 'id outbox_id channel recipient state attempts next_attempt_at locked_until last_error provider_message_id sent_at created_at updated_at'),
  idempotency_keys: all(DEL, 'user_id key fingerprint status_code response order_id created_at'),
  refresh_tokens: all(DEL, 'id user_id family_id token_hash expires_at created_at revoked_at revoked_reason device_label'),
  ended_sessions: all(NO, 'family_id user_id ended_at reason'),
  account_erasure_tasks: {
    ...all(NO, 'id user_id kind attempts next_attempt_at locked_until done_at outcome last_error created_at'),
    reference: { kept: 'the Stripe Customer id or sealed Apple token the task needs; cleared once the task is done' },
  },
  orders: {
    ...all(
      NO,
      'id user_id status payment_method zone_id pickup_slot_id delivery_slot_id express currency estimate estimated_total pricing_rules final_breakdown final_total weighed_at bag_count cancelled_at flags flagged_reason overage_approval_required overage_approved_at promo_code_id discount_amount credit_applied created_at updated_at',
    ),
    address: anon('{label: null, line1: "", line2: null, city: "", postcode: "", instructions: null}'),
    address_id: CLEARED,
    notes: CLEARED,
  },
  order_lines: all(NO, 'id order_id position service_id service_name pricing_model unit_price express_surcharge_bps quantity estimated_weight_grams final_quantity final_weight_grams add_ons estimated_total final_total'),
  order_events: {
    ...all(NO, 'id order_id at actor_role actor_user_id type from_status to_status notify'),
    note: { anonymised: 'cleared on the entries the customer wrote (a cancellation reason); staff notes about the work are kept: ' + ACCOUNTING },
    evidence: kept('bag count and weights at pickup and weigh-in; ' + ACCOUNTING),
  },
  payments: all(NO, 'id order_id kind method status stripe_payment_intent_id currency amount amount_capturable amount_captured amount_refunded capture_before last_event_created created_at updated_at'),
  refunds: {
    ...all(NO, 'id order_id payment_id amount actor_user_id status stripe_refund_id created_at'),
    reason: kept('written by staff; ' + ACCOUNTING),
  },
  balance_waivers: {
    ...all(NO, 'id order_id amount actor_user_id created_at'),
    reason: kept('written by staff; ' + ACCOUNTING),
  },
  payment_attempts: all(NO, 'id order_id operation subject attempt idempotency_key sent_at outcome stripe_object_id error'),
  webhook_events: all(NO, 'event_id type received_at outcome'),
  login_throttle: {
    ...all(NO, 'failures last_failure_at locked_until in_flight in_flight_at'),
    email_key: kept('SHA-256 of an address that failed to log in (pseudonymous); pruned a day after the last failure'),
  },
  rate_limits: {
    ...all(NO, 'attempts window_started_at'),
    key: kept('SHA-256 of `<purpose>:<client address or user id>` (pseudonymous); pruned after a day'),
  },
  job_leases: all(NO, 'name holder acquired_at expires_at'),
  services: all(NO, 'id slug name description pricing_model unit_price currency turnaround_hours express_surcharge_bps express_turnaround_hours active sort_order created_at updated_at'),
  add_ons: all(NO, 'id service_id slug name price active created_at updated_at'),
  zones: all(NO, 'id name postcode_prefixes time_zone active delivery_fee minimum_order free_delivery_from missed_pickup_fee synthetic created_at updated_at'),
  promo_codes: all(NO, 'id code kind value currency minimum_subtotal valid_from valid_until max_redemptions redemption_count per_customer_limit first_order_only active created_at updated_at'),
  promo_customer_uses: all(NO, 'promo_code_id user_id uses'),
  // Deleted with the account's addresses (ON DELETE CASCADE from addresses, then from the schedule).
  recurring_pickups: all(DEL, 'id user_id cadence anchor_date pickup_start delivery_days_after delivery_start address_id items express payment_method notes status skipped_dates created_at updated_at'),
  recurring_occurrences: all(DEL, 'schedule_id date status order_id reason claimed_at created_at updated_at'),
  // A tip is money paid on an order: ids, amounts and states only (the driver and the recorder are staff).
  tips: all(NO, 'id order_id user_id driver_user_id recorded_by method status amount currency percent stripe_payment_intent_id failure_code created_at updated_at'),
  credit_entries: {
    ...all(NO, 'id user_id amount currency reason actor_user_id order_id created_at'),
    // Written by an admin and shown to the customer ("Sorry about the stain, Ana"): may name them.
    note: CLEARED,
  },
  slots: all(NO, 'id zone_id kind starts_at ends_at capacity reserved cutoff_minutes closed created_at updated_at'),
  zone_closures: all(NO, 'zone_id date reason created_at'),
};

/** The columns of `PERSONAL_DATA` that are personal (anything but `no`), as `table.column`. */
export function personalColumns(): string[] {
  return Object.entries(PERSONAL_DATA).flatMap(([table, columns]) =>
    Object.entries(columns)
      .filter(([, h]) => h !== NO)
      .map(([column]) => `${table}.${column}`),
  );
}
