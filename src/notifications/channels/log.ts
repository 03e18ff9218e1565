import type { NotificationChannel } from '../types.js';
import type { ChannelClient } from '../types.js';
import type { ChannelDeps } from './http.js';

/**
 * A recipient as a log line may show it: an email's first character and domain
 * (`a***@example.com`), a phone number's country prefix and last two digits (`+44*******89`),
 * a push token's first six characters (`dKx9Qa…`).
 */
export function maskRecipient(channel: NotificationChannel, recipient: string): string {
  if (channel === 'email') {
    const at = recipient.lastIndexOf('@');
    return at > 0 ? `${recipient[0]}***${recipient.slice(at)}` : '***';
  }
  if (channel === 'sms') {
    return recipient.length > 5 ? `${recipient.slice(0, 3)}${'*'.repeat(recipient.length - 5)}${recipient.slice(-2)}` : '***';
  }
  return recipient.length > 6 ? `${recipient.slice(0, 6)}…` : '***';
}

/**
 * Development only: logs what would be sent (channel, type, masked recipient, title) at info and
 * answers `sent` with the id `log:<idempotencyKey>`. Never throws.
 */
export function createLogClient(channel: NotificationChannel, deps: Pick<ChannelDeps, 'logger'>): ChannelClient {
  return {
    channel,
    provider: 'log',
    send(message) {
      try {
        deps.logger.info('notification (log channel: not sent)', {
          channel,
          type: message.type,
          recipient: maskRecipient(channel, message.recipient),
          title: message.title,
          idempotencyKey: message.idempotencyKey,
        });
      } catch {
        // A logger failure does not fail a development send.
      }
      return Promise.resolve({ kind: 'sent', providerMessageId: `log:${message.idempotencyKey}` });
    },
  };
}
