/**
 * Errors raised by the pure domain rules. Each code maps to one HTTP status so the HTTP layer
 * can translate without knowing the rule that failed; codes are part of the API contract and
 * are never renamed once shipped.
 */
export const DOMAIN_ERROR_STATUS = {
  // pricing
  empty_order: 422,
  invalid_quantity: 422,
  invalid_add_on: 422,
  express_unavailable: 422,
  currency_mismatch: 422,
  amount_overflow: 422,
  // Catalog or shop configuration is corrupt: the client cannot fix this.
  invalid_price_config: 500,
  // order status
  illegal_transition: 409,
  transition_repeated: 409,
  transition_forbidden: 403,
  weigh_in_required: 409,
  // reschedule (src/domain/reschedule.ts)
  order_not_reschedulable: 409,
  evidence_required: 422,
  invalid_evidence: 422,
  // zones and slots
  invalid_postcode: 422,
  slot_kind_mismatch: 422,
  slot_zone_mismatch: 422,
  slot_unavailable: 409,
  delivery_too_early: 422,
  invalid_time_zone: 422,
  invalid_range: 422,
  invalid_date: 422,
  invalid_time: 422,
  invalid_slot_template: 422,
  // promo codes (src/domain/promo.ts; the counted ones are decided by the order's write statement)
  promo_code_unknown: 422,
  promo_code_inactive: 422,
  promo_code_not_yet_valid: 422,
  promo_code_expired: 422,
  promo_code_minimum_not_met: 422,
  promo_code_exhausted: 409,
  promo_code_already_used: 409,
  promo_code_first_order_only: 409,
  // tips (src/domain/tip.ts)
  invalid_tip_amount: 422,
  // idempotency
  idempotency_key_missing: 400,
  idempotency_key_invalid: 400,
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERROR_STATUS;

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  get status(): (typeof DOMAIN_ERROR_STATUS)[DomainErrorCode] {
    return DOMAIN_ERROR_STATUS[this.code];
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
