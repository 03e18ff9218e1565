import { check, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { users } from './schema-users.js';

/** The identity providers a user can sign in with (src/modules/auth/oauth.ts). */
export const IDENTITY_PROVIDERS = ['apple', 'google'] as const;
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

/**
 * A provider account linked to a user (Sign in with Apple, Google): `POST /v1/auth/oauth/{provider}`
 * logs in the user linked to the ID token's (provider, `sub`). A user may have several (an Apple
 * and a Google one, or two Apple IDs); one provider account belongs to at most one user.
 *
 * Apple's refresh token (from exchanging the authorization code the app sends with the sign-in) is
 * kept sealed in `apple_refresh_token_sealed`, so account deletion can revoke it through Apple's
 * /auth/revoke (App Store guideline 5.1.1(v)): src/account/apple-tokens.ts.
 */
export const userIdentities = pgTable(
  'user_identities',
  {
    provider: text('provider').$type<IdentityProvider>().notNull(),
    /** The provider's stable user id: the ID token's `sub` (Apple: per developer team). */
    subject: text('subject').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The email the token carried when the identity was linked (personal data: erased with the account). */
    email: text('email'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }).notNull(),
    /**
     * Apple only: `{clientId, refreshToken}` as AES-256-GCM sealed text (src/auth/seal.ts), or
     * null when no authorization code was exchanged (Apple revoke settings absent, or an old app).
     */
    appleRefreshTokenSealed: text('apple_refresh_token_sealed'),
  },
  (t) => [
    primaryKey({ name: 'user_identities_pkey', columns: [t.provider, t.subject] }),
    index('user_identities_user_idx').on(t.userId),
    check('user_identities_provider', sql`${t.provider} IN ('apple', 'google')`),
  ],
);
