import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const userRole = pgEnum('user_role', ['customer', 'staff', 'admin']);
export type UserRole = (typeof userRole.enumValues)[number];

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Stored trimmed and lower-cased; the unique index is on this value. */
    email: text('email').notNull(),
    /** PHC string: algorithm, parameters, salt and hash. */
    passwordHash: text('password_hash').notNull(),
    role: userRole('role').notNull().default('customer'),
    name: text('name'),
    /** Created lazily at the first card payment. */
    stripeCustomerId: text('stripe_customer_id'),
    /**
     * Set by `npm run cli -- disable-user`: login and refresh refuse the account, and its access
     * tokens are refused on their next request (SQL function laundry_assert_session: 403 on staff
     * and admin routes, 401 elsewhere).
     */
    disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
    /**
     * A synthetic customer for release probes (docs/runbook.md, "Releasing Workers"): it sees
     * only synthetic zones, and real customers never see those. False for every real account.
     */
    synthetic: boolean('synthetic').notNull().default(false),
    /** E.164 (`+447700900123`), for SMS notifications; null = no SMS. */
    phone: text('phone'),
    /** BCP 47 (`en-GB`, `es`): the language of SMS and email; push uses the device's own. */
    locale: text('locale'),
    /**
     * Account credit in minor units of the shop's currency: the sum of the user's `credit_entries`,
     * changed only in the statement that writes the entry (src/db/schema-promos.ts). Never negative.
     */
    creditBalance: integer('credit_balance').notNull().default(0),
    /**
     * When the account was erased (DELETE /v1/me, DELETE /v1/admin/users/{id}:
     * src/modules/account/erase.ts): the personal columns were anonymised and `disabled_at` set in
     * the same statement. The row stays because orders and payments still reference it.
     */
    erasedAt: timestamp('erased_at', { withTimezone: true, mode: 'date' }),
    /**
     * When the current `email` was shown to be the user's (a verification token confirmed, or an
     * Apple/Google sign-in whose provider vouched for it); null = unverified. Cleared whenever the
     * email changes to an unverified one (src/modules/auth/email-verification.ts).
     */
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [uniqueIndex('users_email_key').on(t.email), check('users_credit_balance_nonneg', sql`${t.creditBalance} >= 0`)],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Every token descended from one login shares a family; reuse revokes the family. */
    familyId: uuid('family_id').notNull(),
    /** SHA-256 of the opaque token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    /** rotated | reuse_detected | logout | failed_login | session_revoked | logout_everywhere | password_changed */
    revokedReason: text('revoked_reason'),
    /** The client's User-Agent at login, cleaned (src/modules/auth/shared.ts deviceLabelOf); copied on rotation. */
    deviceLabel: text('device_label'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_token_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
    /** The retention sweep (src/modules/jobs/retention.ts) finds long-expired tokens by it. */
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ],
);

/**
 * Sessions (refresh-token families) that were ended: logout, DELETE /v1/me/sessions[/{id}], a
 * password change, a role change or a disabled account (src/modules/auth/shared.ts endSessions).
 * Written by the same statement that revokes the family's tokens, from that statement's snapshot,
 * so a successor token that a concurrent refresh committed unseen is still refused: rotation
 * (src/modules/auth/refresh.ts) never rotates a token of an ended family. Removed by the
 * retention sweep (src/modules/jobs/retention.ts) once the family has no tokens left.
 */
export const endedSessions = pgTable(
  'ended_sessions',
  {
    familyId: uuid('family_id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** logout | session_revoked | logout_everywhere | password_changed | role_changed | disabled */
    reason: text('reason').notNull(),
  },
  (t) => [index('ended_sessions_user_idx').on(t.userId), index('ended_sessions_ended_at_idx').on(t.endedAt)],
);

/**
 * Failed logins per email address, known or not (so throttling never tells which exist):
 * src/modules/auth/login.ts. Keyed by a SHA-256 of the normalised address, never the
 * address; rows untouched for a day are pruned by the next failure.
 */
export const loginThrottle = pgTable(
  'login_throttle',
  {
    emailKey: text('email_key').primaryKey(),
    /** Failures in the current run (a run ends after LOGIN_FAILURE_WINDOW without one, or at a success). */
    failures: integer('failures').notNull(),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** Login answers 429 before any hashing until then. */
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    /**
     * Attempts admitted and not yet settled (their password is being hashed). Counted up front
     * so parallel guesses cannot all pass the check; meaningless after LOGIN_ATTEMPT_SLOT_S
     * past `in_flight_at` (a crashed request, or a success, which does not settle).
     */
    inFlight: integer('in_flight').notNull().default(0),
    /** When the latest attempt was admitted. */
    inFlightAt: timestamp('in_flight_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('login_throttle_last_failure_idx').on(t.lastFailureAt)],
);

/**
 * Fixed-window attempt counters (src/modules/auth/register.ts), e.g. registrations per client
 * address. Keyed by a SHA-256 of `<purpose>:<subject>`, never the address itself; windows a day
 * old are pruned by the next count.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    /** Attempts counted in the current window, refused ones included. */
    attempts: integer('attempts').notNull(),
    windowStartedAt: timestamp('window_started_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('rate_limits_window_idx').on(t.windowStartedAt)],
);

export const ACCOUNT_TOKEN_PURPOSES = ['password_reset', 'email_verification', 'email_change'] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/**
 * One-time account tokens (issue 18): password reset (30 min), verification of the current email
 * and of a new one (email change; 24 h). The token (256 random bits, base64url) is only ever
 * stored as its SHA-256 (`token_hash`); the email carrying it gets it sealed through the outbox.
 * A token is good while unused, unexpired, while the account's email is still `email` (password
 * reset, verification) and, for password reset and email change, while the password is the one
 * it was issued under (`password_fingerprint`: SHA-256 of users.password_hash then), so every
 * path that changes a password voids them without knowing of them. src/modules/auth/account-tokens.ts.
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose').$type<AccountTokenPurpose>().notNull(),
    /** The address the token was sent to: the current one, or the NEW one of an email change. Personal data. */
    email: text('email').notNull(),
    /** SHA-256 (hex) of users.password_hash when issued. */
    passwordFingerprint: text('password_fingerprint').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('account_tokens_user_idx').on(t.userId, t.purpose),
    index('account_tokens_expires_idx').on(t.expiresAt),
    check('account_tokens_purpose', sql`${t.purpose} IN ('password_reset', 'email_verification', 'email_change')`),
  ],
);
