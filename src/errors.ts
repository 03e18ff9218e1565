import { DOMAIN_ERROR_STATUS, isDomainError } from './domain/errors.js';

/**
 * The closed set of machine-readable error codes. Clients branch on `code`, never on
 * `title` or `detail`, so a code is never renamed once shipped.
 */
export const ERROR_STATUS = {
  ...DOMAIN_ERROR_STATUS,
  malformed_json: 400,
  bad_request: 400,
  auth_required: 401,
  invalid_token: 401,
  token_expired: 401,
  invalid_credentials: 401,
  invalid_refresh_token: 401,
  refresh_token_reused: 401,
  refresh_token_superseded: 401,
  refresh_token_revoked: 401,
  refresh_token_expired: 401,
  forbidden: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  slug_taken: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  idempotency_key_reused: 422,
  postcode_not_served: 422,
  order_not_cancellable: 409,
  already_weighed: 409,
  payment_not_applicable: 409,
  payment_not_pending: 409,
  overage_not_pending: 409,
  capture_not_possible: 409,
  nothing_outstanding: 409,
  overage_approval_pending: 409,
  refund_exceeds_captured: 422,
  payment_amount_mismatch: 422,
  invalid_signature: 400,
  too_many_attempts: 429,
  payment_provider_error: 502,
  internal_error: 500,
  service_unavailable: 503,
  database_unavailable: 503,
  busy: 503,
  payments_not_configured: 503,
  address_limit_reached: 409,
  slot_exists: 409,
  capacity_below_reserved: 409,
  weigh_in_not_allowed: 409,
  payment_outstanding: 409,
  payment_in_progress: 409,
  waiver_exceeds_outstanding: 422,
  invalid_id_token: 401,
  provider_not_configured: 503,
  account_exists_unverified_email: 409,
  current_password_incorrect: 403,
  preference_required: 422,
  promo_code_taken: 409,
  promo_code_redeemed: 409,
  promo_limit_below_redemptions: 409,
  account_has_open_orders: 409,
  reauthentication_failed: 403,
  recovery_token_invalid: 400,
  recovery_token_expired: 410,
  recovery_token_used: 410,
  email_already_verified: 409,
  tip_exists: 409,
  order_not_delivered: 409,
  card_declined: 402,
  authentication_required: 402,
  // recurring pickups (src/modules/recurring)
  recurring_window_unavailable: 422,
  skip_date_invalid: 422,
  occurrence_already_created: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** Titles where the code alone reads badly; the rest are derived from the code. */
const TITLES: Partial<Record<ErrorCode, string>> = {
  malformed_json: 'Malformed JSON body',
  bad_request: 'Bad request',
  auth_required: 'Authentication required',
  invalid_token: 'Invalid access token',
  token_expired: 'Access token expired',
  invalid_credentials: 'Invalid email or password',
  invalid_refresh_token: 'Invalid refresh token',
  refresh_token_reused: 'Refresh token reused',
  refresh_token_superseded: 'Refresh token superseded',
  refresh_token_revoked: 'Session ended',
  refresh_token_expired: 'Refresh token expired',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  route_not_found: 'No such route',
  method_not_allowed: 'Method not allowed',
  email_taken: 'Email already registered',
  slug_taken: 'Slug already in use',
  conflict: 'Conflict',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
  validation_failed: 'Request validation failed',
  idempotency_key_reused: 'Idempotency-Key reused with a different request',
  internal_error: 'Internal server error',
  service_unavailable: 'Service unavailable',
  database_unavailable: 'Database unavailable',
  busy: 'Server busy',
  invalid_id_token: 'Invalid ID token',
  provider_not_configured: 'Sign-in provider not configured',
  account_exists_unverified_email: 'Account exists; email not verified by the provider',
  recovery_token_invalid: 'Invalid or voided link',
  recovery_token_expired: 'Link expired',
  recovery_token_used: 'Link already used',
};

export function titleOf(code: ErrorCode): string {
  const t = TITLES[code];
  if (t) return t;
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export interface FieldError {
  /** JSON pointer-ish dotted path into the request part, e.g. `body.email`. */
  field: string;
  message: string;
}

export interface ApiErrorOptions {
  /** Field-level validation failures. */
  errors?: FieldError[] | undefined;
  /** Machine-readable context (e.g. which slot, which states are allowed next). */
  details?: Record<string, unknown> | undefined;
  /** Sent as the `Retry-After` header (RFC 9110 §10.2.3, seconds) on 429 and 503 answers. */
  retryAfterSeconds?: number | undefined;
}

export class ApiError extends Error {
  readonly status: ErrorStatus;
  readonly errors?: FieldError[] | undefined;
  /** Machine-readable context (e.g. which slot, which states are allowed next). */
  details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number | undefined;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    errorsOrOptions?: FieldError[] | ApiErrorOptions,
  ) {
    super(detail ?? titleOf(code));
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
    const opts: ApiErrorOptions = Array.isArray(errorsOrOptions) ? { errors: errorsOrOptions } : (errorsOrOptions ?? {});
    this.errors = opts.errors;
    if (opts.details) this.details = opts.details;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  instance?: string;
  errors?: FieldError[];
}

/** Domain rule violations become ApiErrors with the same code; anything else is not ours to map. */
export function asApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (isDomainError(err)) {
    return new ApiError(err.code, err.message, { details: err.details });
  }
  return undefined;
}

export function problemOf(err: ApiError, requestId: string, instance?: string): Problem {
  return {
    type: `urn:laundry:problem:${err.code}`,
    title: titleOf(err.code),
    status: err.status,
    detail: err.message,
    code: err.code,
    requestId,
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
    ...(err.details ? { details: err.details } : {}),
  };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
