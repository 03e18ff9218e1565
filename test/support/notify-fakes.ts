/**
 * In-memory pieces for the dispatcher's Node tests: a clock the test moves, and a provider client
 * that records every message (the wire-protocol stand-ins are test/support/stand-ins/notify-*.ts).
 */
import type { ChannelClient, NotificationChannel, RenderedMessage, SendOutcome } from '../../src/notifications/types.js';

/** A clock the test moves (ms since the epoch). */
export function testClock(start = Date.now()) {
  let now = start;
  return { now: () => new Date(now), set: (ms: number) => void (now = ms), advance: (ms: number) => void (now += ms), get ms() { return now; } };
}

export interface FakeClient extends ChannelClient {
  sent: RenderedMessage[];
}

/** A fake provider: records every message and answers `answer(message, n)` (default: sent, with a provider id). */
export function fakeClient(channel: NotificationChannel, answer?: (m: RenderedMessage, n: number) => SendOutcome | Promise<SendOutcome>): FakeClient {
  const sent: RenderedMessage[] = [];
  return {
    channel,
    provider: `fake-${channel}`,
    sent,
    async send(message) {
      sent.push(message);
      return answer ? answer(message, sent.length) : { kind: 'sent', providerMessageId: `${channel}-${message.idempotencyKey}-${sent.length}` };
    },
  };
}
