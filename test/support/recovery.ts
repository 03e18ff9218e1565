/**
 * Account recovery (issue 18) test helpers: the one-time token of a user's latest account email,
 * read from the outbox and opened with the test JWT secret (the outbox holds it sealed only), and
 * a dispatcher over the Resend stand-in that sends what is due.
 */
import { open } from '../../src/auth/seal.js';
import { createChannelClients } from '../../src/notifications/channels/index.js';
import { dispatchDepsOf } from '../../src/notifications/clients.js';
import { dispatchCycle } from '../../src/notifications/dispatch.js';
import type { AccountEmailType } from '../../src/db/schema-notification-kinds.js';
import { TEST_JWT_SECRET, type Harness } from './harness.js';
import type { TestApp } from './node-app.js';
import { STAND_IN_EMAIL_FROM } from './stand-ins/notify-stand-ins.js';
import type { ResendStandIn } from './stand-ins/notify-resend.js';

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
export async function tokenFrom(t: Pick<Harness, 'sql'>, recipient: string, type: 'password_reset' | 'email_verification'): Promise<string> {
  const row = await latestMail(t, recipient, type);
  if (!row) throw new Error(`no ${type} email to ${recipient}`);
  const token = await open(TEST_JWT_SECRET, String(row.data.sealed), type);
  if (!token) throw new Error(`the ${type} token to ${recipient} does not open`);
  return token;
}

/** Runs dispatch cycles with the email channel pointed at the Resend stand-in until nothing is left to send. */
export async function dispatchEmails(t: TestApp, resend: ResendStandIn): Promise<void> {
  const { clients } = createChannelClients(
    { appEnv: 'test', notifications: { timeoutMs: 5000, resend: { apiKey: resend.apiKey, from: STAND_IN_EMAIL_FROM, apiUrl: resend.url } } },
    { fetch: (input, init) => fetch(input, init), logger: t.logger, now: () => t.deps.clock.now() },
  );
  const d = dispatchDepsOf(t.deps, clients);
  for (let i = 0; i < 20; i++) {
    const cycle = await dispatchCycle(d);
    if (!cycle.full && cycle.send.claimed === 0 && cycle.fanOut.outboxRows === 0) return;
  }
}
