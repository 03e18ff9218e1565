/**
 * The one seam between the dispatcher and the provider clients: the entry files (src/worker.ts,
 * src/platform/node/deps.ts) build `Deps.notifications` from `createNotificationClients`.
 *
 * WIRING (lead, at merge): the channels helper's
 * `createChannelClients(config, { fetch, logger, now })` (src/notifications/channels/index.ts)
 * has exactly this shape; replace the body below with `return createChannelClients(config, io);`.
 * Until then no channel is configured, and the dispatcher does not fan out at all (a fan-out with
 * no clients would mark every delivery skipped: src/notifications/sweep.ts, src/platform/node/notifications-worker.ts).
 */
import type { Config } from '../config.js';
import { NOTIFICATION_CHANNELS } from '../db/schema-notification-kinds.js';
import type { NotificationDeps } from '../deps.js';
import type { Logger } from '../logger.js';

export interface ChannelIo {
  fetch: typeof fetch;
  logger: Logger;
  now: () => Date;
}

export function createNotificationClients(_config: Config, _io: ChannelIo): Omit<NotificationDeps, 'queue'> {
  return { clients: {}, notConfigured: [...NOTIFICATION_CHANNELS] };
}
