import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { refused } from '../../auth/id-tokens.js';
import { FOREIGN_KEY_VIOLATION, pgError } from '../../db/errors.js';
import { userRole } from '../../db/schema.js';
import type { IdentityProvider } from '../../db/schema-identities.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { keepAppleRefreshToken } from '../../account/apple-link.js';
import type { OAuthInput } from './schemas.js';
import { endSessions, insertRefreshFrom, pendingRefresh, sessionFor, UserRow, type Session } from './shared.js';

/**
 * The `password_hash` of an account made by Sign in with Apple or Google: not a PHC string, so
 * `passwords.verify` answers false after the same decoy Argon2id work as an unknown email, and a
 * password login fails exactly like a wrong password (src/auth/password.ts). Kept instead of making
 * the column nullable: no migration of `users` (expand/contract: a Worker rolled back still reads a
 * non-null hash) and no code path that must remember a null. Setting a first password (reset,
 * issue 18) replaces it; a "change password" that checks the current one can never pass for it.
 */
export const NO_PASSWORD_HASH = '!no-password:oauth';

/** Rounds of the sign-in statement when a concurrent one made the same account or link first. */
const MAX_ROUNDS = 3;

const SignInRow = z.object({
  id: z.string().nullable(),
  email: z.string().nullable(),
  role: z.enum(userRole.enumValues).nullable(),
  name: z.string().nullable(),
  created_at: z.string().nullable(),
  created: z.boolean().nullable(),
  /** An identity (provider, sub) existed. */
  linked: z.boolean(),
  /** Not linked, and an account has the token's email. */
  email_taken: z.boolean(),
  /** …and that account is disabled. */
  email_disabled: z.boolean().nullable(),
});

/**
 * POST /v1/auth/oauth/{apple,google}: verifies the ID token (src/auth/id-tokens.ts), then, in ONE
 * statement, logs in the user linked to (provider, `sub`); else links the account with the
 * token's email when the provider says the email is verified (that account's email then counts as
 * verified; its password and sessions end only if it was not: users.email_verified_at); else
 * creates a customer with that email (and no usable password: NO_PASSWORD_HASH), verified, when the
 * provider vouches for the email. Either way it writes the session's first refresh token in the
 * same statement. An email the provider does not vouch for neither links nor creates: an account
 * made with someone else's address would keep its provider link after the address's owner took
 * the account over by a password reset (the "non-verifying IdP" pre-hijack: Sudhodanan and
 * Paverd, USENIX Security 2022), so it is refused (401 `invalid_id_token`, `email_unverified`).
 *
 * With Apple and an `authorizationCode`, the code is exchanged for a refresh token kept sealed on
 * the identity, for account deletion to revoke (src/account/apple-link.ts; one fetch and one more
 * statement; a failed exchange is logged, never fatal).
 *
 * Returns the session and whether an account was created (201) or not (200). Throws ApiError:
 * 401 `invalid_id_token` (`details.reason`), 503 `provider_not_configured`, 503
 * `service_unavailable` (the provider's keys could not be fetched), 409
 * `account_exists_unverified_email` (the email is an account's, but the provider does not vouch
 * for it: the user must log in with the password; linking from a signed-in session is for a later
 * change), 401 `invalid_credentials` (the account is disabled, exactly as login answers).
 *
 * Concurrent first sign-ins with the same `sub` make one account: the identity row is inserted
 * first (`ON CONFLICT DO NOTHING` waits for the other statement and then does nothing), and the
 * user only if that insert took. A statement that lost a race finds nothing and runs again with a
 * new snapshot (at most MAX_ROUNDS). If another request took the email meanwhile (a registration,
 * the other provider), the identity's foreign key fails at the end of the statement, which rolls
 * it back whole, and the next round links or refuses as above.
 */
export async function signInWithProvider(
  deps: Deps,
  provider: IdentityProvider,
  body: OAuthInput,
  deviceLabel: string | null = null,
): Promise<{ session: Session; created: boolean }> {
  const token = await deps.idTokens.verify(provider, body.idToken, body.nonce, deps.clock.now());
  for (let round = 1; ; round++) {
    const refresh = await pendingRefresh(deps, deviceLabel);
    const now = deps.clock.now();
    const at = sql`${now.toISOString()}::timestamptz`;
    const newId = crypto.randomUUID();
    const name = body.name ?? token.name ?? null;
    let row: z.infer<typeof SignInRow> | undefined;
    try {
      [row] = await deps.database.rows(SignInRow, sql`
        WITH ident AS (
          UPDATE user_identities SET last_used_at = ${at}
          WHERE provider = ${provider} AND subject = ${token.subject}
          RETURNING user_id
        ), by_email AS (
          SELECT id, disabled_at FROM users
          WHERE email = ${token.email ?? null} AND NOT EXISTS (SELECT 1 FROM ident)
        ), new_ident AS (
          INSERT INTO user_identities (provider, subject, user_id, email, created_at, last_used_at)
          SELECT ${provider}, ${token.subject}, COALESCE((SELECT id FROM by_email), ${newId}::uuid), ${token.email ?? null}, ${at}, ${at}
          WHERE ${token.email ?? null}::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ident) AND ${token.emailVerified}
            AND (NOT EXISTS (SELECT 1 FROM by_email) OR EXISTS (SELECT 1 FROM by_email WHERE disabled_at IS NULL))
          ON CONFLICT (provider, subject) DO NOTHING
          RETURNING user_id
        ),
        -- Linked by a verified email to an account whose own email was never verified: whoever set
        -- its password may not own the address (account pre-hijacking), so the password and every
        -- session of the account end here; the provider's owner signs in with the session below.
        -- An account whose email was verified (users.email_verified_at) keeps its password and
        -- sessions; so does one a provider created. Either way the link verifies the email.
        linked_by_email AS (
          UPDATE users x SET
            password_hash = CASE WHEN o.squatted THEN ${NO_PASSWORD_HASH} ELSE x.password_hash END,
            email_verified_at = COALESCE(x.email_verified_at, ${at}), updated_at = ${at}
          FROM (SELECT id, (email_verified_at IS NULL AND password_hash <> ${NO_PASSWORD_HASH}) AS squatted FROM users
                WHERE id IN (SELECT user_id FROM new_ident WHERE user_id <> ${newId}::uuid)) o
          WHERE x.id = o.id
          RETURNING x.id, o.squatted
        ), unverified_link AS (SELECT id FROM linked_by_email WHERE squatted),
        ${endSessions('squatter', 'provider_linked', now, sql`user_id IN (SELECT id FROM unverified_link)`)}, new_user AS (
          INSERT INTO users (id, email, password_hash, name, role, email_verified_at, created_at, updated_at)
          SELECT ${newId}::uuid, ${token.email ?? null}, ${NO_PASSWORD_HASH}, ${name}, 'customer',
                 CASE WHEN ${token.emailVerified} THEN ${at} END, ${at}, ${at}
          WHERE EXISTS (SELECT 1 FROM new_ident WHERE user_id = ${newId}::uuid)
          ON CONFLICT (email) DO NOTHING
          RETURNING id, email, role, name, created_at
        ), u AS (
          SELECT id, email, role, name, created_at, true AS created FROM new_user
          UNION ALL
          SELECT id, email, role, name, created_at, false AS created FROM users
          WHERE disabled_at IS NULL
            AND id IN (SELECT user_id FROM ident UNION ALL SELECT user_id FROM new_ident WHERE user_id <> ${newId}::uuid)
        ), t AS (${insertRefreshFrom('u', refresh, now)})
        SELECT u.id, u.email, u.role, u.name, u.created_at, u.created,
               EXISTS (SELECT 1 FROM ident) AS linked,
               EXISTS (SELECT 1 FROM by_email) AS email_taken,
               (SELECT disabled_at IS NOT NULL FROM by_email) AS email_disabled
        FROM (SELECT 1) AS one LEFT JOIN u ON true`);
    } catch (err) {
      // The email was taken by another request after this statement's snapshot: nothing was written.
      if (pgError(err)?.code === FOREIGN_KEY_VIOLATION && round < MAX_ROUNDS) continue;
      throw err;
    }
    if (row?.id) {
      const user = UserRow.parse(row);
      if (provider === 'apple' && body.authorizationCode) await keepAppleRefreshToken(deps, body.idToken, token.subject, body.authorizationCode);
      return { session: await sessionFor(deps, user, refresh), created: row.created === true };
    }
    if (row?.linked || row?.email_disabled) throw new ApiError('invalid_credentials', 'This account cannot sign in.');
    if (token.email === undefined) throw refused('email_missing', 'The ID token carries no email address; request the email scope.');
    if (row?.email_taken && !token.emailVerified) {
      throw new ApiError(
        'account_exists_unverified_email',
        'An account with this email exists, and the provider has not verified that the address is yours: log in with your password.',
      );
    }
    if (!token.emailVerified) throw refused('email_unverified', 'The provider does not vouch for this email address; verify it with the provider first.');
    // Another sign-in with this `sub` (or for this email) was being written: read again.
    if (round >= MAX_ROUNDS) throw new ApiError('busy', 'Another sign-in for this account is in progress; retry.', { retryAfterSeconds: 1 });
  }
}
