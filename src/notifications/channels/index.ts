import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import { NOTIFICATION_CHANNELS } from '../../db/schema-notification-kinds.js';
import type { ChannelClient, NotificationChannel } from '../types.js';
import { createFcmClient } from './fcm.js';
import type { ChannelDeps } from './http.js';
import { createLogClient } from './log.js';
import { createResendClient } from './resend.js';
import { createTwilioClient } from './twilio.js';

export type { ChannelDeps } from './http.js';
export { createFcmClient } from './fcm.js';
export { createTwilioClient } from './twilio.js';
export { createResendClient } from './resend.js';
export { createLogClient, maskRecipient } from './log.js';

export interface ChannelClients {
  /** The client of each configured channel; an absent channel is not configured. */
  clients: Partial<Record<NotificationChannel, ChannelClient>>;
  /** Channels without credentials, for the entry files to log once at start ("push not configured: skipped"). */
  notConfigured: NotificationChannel[];
}

/**
 * The channel clients the configuration allows: push (FCM) with FCM_SERVICE_ACCOUNT_JSON, sms
 * (Twilio) with the TWILIO_ settings, email (Resend) with RESEND_API_KEY and EMAIL_FROM. A channel
 * without credentials is absent and listed in `notConfigured`. With APP_ENV=development and no
 * provider configured at all, the `log` client stands in for every channel (nothing is sent;
 * `notConfigured` is empty). Validation already happened in loadConfig (ConfigError at start).
 */
export function createChannelClients(config: Pick<Config, 'appEnv' | 'notifications'>, deps: ChannelDeps): ChannelClients {
  const n = config.notifications;
  const clients: Partial<Record<NotificationChannel, ChannelClient>> = {};
  if (n.fcm) clients.push = createFcmClient({ ...n.fcm, timeoutMs: n.timeoutMs }, deps);
  if (n.twilio) clients.sms = createTwilioClient({ ...n.twilio, timeoutMs: n.timeoutMs }, deps);
  if (n.resend) clients.email = createResendClient({ ...n.resend, timeoutMs: n.timeoutMs }, deps);
  if (config.appEnv === 'development' && Object.keys(clients).length === 0) {
    for (const channel of NOTIFICATION_CHANNELS) clients[channel] = createLogClient(channel, deps);
  }
  return { clients, notConfigured: NOTIFICATION_CHANNELS.filter((c) => clients[c] === undefined) };
}

/**
 * The start-up lines for the entry files (src/worker.ts, src/node.ts): one warn per channel
 * without a provider (`push not configured: skipped`), and one info when the development log
 * client stands in, so an operator sees at start which messages will not go out.
 */
export function logChannelSetup(logger: Logger, { clients, notConfigured }: ChannelClients): void {
  for (const channel of notConfigured) logger.warn(`${channel} not configured: skipped`, { channel });
  const logged = NOTIFICATION_CHANNELS.filter((c) => clients[c]?.provider === 'log');
  if (logged.length > 0) logger.info('notifications are logged, not sent (development, no provider configured)', { channels: logged });
}
