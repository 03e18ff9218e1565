import { sql, type SQL } from 'drizzle-orm';
import type { UserRole } from '../../db/schema.js';

/** An account an operator creates (any role: registration only ever makes customers). */
export interface NewAccount {
  email: string;
  /** A PHC string from `PasswordHasher.hash` (Argon2id), never a plain password. */
  passwordHash: string;
  role: UserRole;
  name: string | null;
}

/**
 * Creates accounts in one statement; an email already taken is left exactly as it is (role,
 * password, disabled flag), so re-running is safe. Returns the SQL; its rows are the emails
 * created (`{ email }`). Used by the demo seed (src/db/demo-seed.ts).
 */
export function createAccounts(accounts: readonly NewAccount[], at: Date): SQL {
  const when = sql`${at.toISOString()}::timestamptz`;
  const values = accounts.map((a) => sql`(${a.email}, ${a.passwordHash}, ${a.name}, ${a.role}::user_role, ${when}, ${when})`);
  return sql`
    INSERT INTO users (email, password_hash, name, role, created_at, updated_at)
    VALUES ${sql.join(values, sql`, `)}
    ON CONFLICT (email) DO NOTHING
    RETURNING email`;
}
