/**
 * The one seam between the dispatcher and the provider clients: the entry files (src/worker.ts,
 * src/platform/node/deps.ts, the notifications-worker) build `Deps.notifications` from
 * `createNotificationClients` once per process or isolate, so the FCM access token is cached
 * across sends (src/notifications/google-oauth.ts). A channel without credentials is absent
 * (and listed in `notConfigured`); in development with none configured the `log` client stands
 * in for every channel (src/notifications/channels/index.ts).
 */
import type { Config } from '../config.js';
import type { NotificationDeps } from '../deps.js';
import type { Logger } from '../logger.js';
import { createChannelClients } from './channels/index.js';

export interface ChannelIo {
  fetch: typeof fetch;
  logger: Logger;
  now: () => Date;
}

export function createNotificationClients(config: Config, io: ChannelIo): Omit<NotificationDeps, 'queue'> {
  return createChannelClients(config, io);
}
