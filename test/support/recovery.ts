/**
 * Account recovery (issue 18) test helpers on Node: the token readers (./recovery-tokens.ts) and a
 * dispatcher over the Resend stand-in that sends what is due.
 */
import { createChannelClients } from '../../src/notifications/channels/index.js';
import { dispatchDepsOf } from '../../src/notifications/clients.js';
import { dispatchCycle } from '../../src/notifications/dispatch.js';
import type { TestApp } from './node-app.js';
import { STAND_IN_EMAIL_FROM } from './stand-ins/notify-stand-ins.js';
import type { ResendStandIn } from './stand-ins/notify-resend.js';

export { latestMail, tokenFrom, type AccountMailRow } from './recovery-tokens.js';

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
