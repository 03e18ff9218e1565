/**
 * The one-time token of a user's latest account email (issue 18), read from the outbox and opened
 * with the app's JWT secret as the dispatcher does (the outbox holds it sealed only). Pure: runs
 * on Node and in workerd (the shared journeys).
 */
import { open } from '../../src/auth/seal.js';
import type { AccountEmailType } from '../../src/db/schema-notification-kinds.js';
import type { Harness } from './harness.js';

export interface AccountMailRow {
  id: string;
  recipient: string;
  data: Record<string, unknown>;
}

/** The newest account email of `type` sent to `recipient`, or undefined. */
export async function latestMail(t: Pick<Harness, 'sql'>, recipient: string, type: AccountEmailType): Promise<AccountMailRow | undefined> {
  const [row] = await t.sql<AccountMailRow>(
    `SELECT id::text AS id, recipient, data FROM notification_outbox WHERE recipient = $1 AND type = $2::notification_type ORDER BY id DESC LIMIT 1`,
    [recipient, type],
  );
  return row;
}

/** The token of the newest account email of `type` to `recipient`, opened as the dispatcher does. */
export async function tokenFrom(t: Pick<Harness, 'sql' | 'jwtSecret'>, recipient: string, type: 'password_reset' | 'email_verification'): Promise<string> {
  const row = await latestMail(t, recipient, type);
  if (!row) throw new Error(`no ${type} email to ${recipient}`);
  const token = await open(t.jwtSecret, type, String(row.data.sealed));
  if (!token) throw new Error(`the ${type} token to ${recipient} does not open`);
  return token;
}
