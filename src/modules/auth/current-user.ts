import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { UpdateCurrentUserInput } from './schemas.js';
import { toPublicUser, UserRow, type PublicUser } from './shared.js';

/** The signed-in user as GET/PATCH /v1/me answer it: the public user, with what notifications need. */
export interface CurrentUser extends PublicUser {
  /** E.164, or null: SMS notifications need it. */
  phone: string | null;
  /** BCP 47, or null (English): the language of notifications. */
  locale: string | null;
  /** Whether the current email was verified (users.email_verified_at; ./email-verification.ts). */
  emailVerified: boolean;
}

export const CurrentUserRow = UserRow.extend({ phone: z.string().nullable(), locale: z.string().nullable(), email_verified: z.boolean() });

export const toCurrentUser = (row: z.infer<typeof CurrentUserRow>): CurrentUser => ({ ...toPublicUser(row), phone: row.phone, locale: row.locale, emailVerified: row.email_verified });

const gone = () => new ApiError('invalid_token', 'The account behind this token no longer exists.');

/** GET /v1/me: the caller; 401 `invalid_token` when the account behind a valid token is gone. */
export async function getCurrentUser(deps: Deps, userId: string): Promise<CurrentUser> {
  const rows = await deps.database.rows(CurrentUserRow, sql`
    SELECT id, email, role, name, phone, locale, email_verified_at IS NOT NULL AS email_verified, created_at FROM users WHERE id = ${userId}::uuid`);
  if (!rows[0]) throw gone();
  return toCurrentUser(rows[0]);
}

/**
 * PATCH /v1/me: name, phone (E.164) and locale (BCP 47, canonical), one statement; a field not
 * sent keeps its value, `null` clears it. 401 `invalid_token` when the account is gone.
 */
export async function updateCurrentUser(deps: Deps, userId: string, input: UpdateCurrentUserInput): Promise<CurrentUser> {
  const set = (column: string, value: string | null | undefined) =>
    value === undefined ? sql.raw(column) : sql`${value}::text`;
  const rows = await deps.database.rows(CurrentUserRow, sql`
    UPDATE users SET name = ${set('name', input.name)}, phone = ${set('phone', input.phone)}, locale = ${set('locale', input.locale)}
    WHERE id = ${userId}::uuid
    RETURNING id, email, role, name, phone, locale, email_verified_at IS NOT NULL AS email_verified, created_at`);
  if (!rows[0]) throw gone();
  return toCurrentUser(rows[0]);
}
