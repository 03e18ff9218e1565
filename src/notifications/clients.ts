/**
 * The one seam between the dispatcher and the provider clients: the entry files (src/worker.ts,
 * src/platform/node/deps.ts, the notifications-worker) build `Deps.notifications` from
 * `createNotificationClients` once per process or isolate, so the FCM access token is cached
 * across sends (src/notifications/google-oauth.ts). A channel without credentials is absent
 * (and listed in `notConfigured`); in development with none configured the `log` client stands
 * in for every channel (src/notifications/channels/index.ts).
 */
import type { Config } from '../config.js';
import type { Deps, NotificationDeps } from '../deps.js';
import type { Logger } from '../logger.js';
import { createChannelClients } from './channels/index.js';
import type { DispatchDeps } from './dispatch.js';

export interface ChannelIo {
  fetch: typeof fetch;
  logger: Logger;
  now: () => Date;
}

export function createNotificationClients(config: Config, io: ChannelIo): Omit<NotificationDeps, 'queue'> {
  return createChannelClients(config, io);
}

/**
 * What a dispatcher needs, from the app's deps: the database, clock, logger and metrics, the
 * channel clients, and what account emails need to render (JWT_SECRET, which seals their tokens,
 * and APP_LINK_BASE: src/notifications/account-mail.ts). The one place the entry files and the
 * sweep build it.
 */
export function dispatchDepsOf(deps: Deps, clients: DispatchDeps['clients']): DispatchDeps {
  return {
    database: deps.database,
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    clients,
    accountMail: { secret: deps.config.jwtSecret, appLinkBase: deps.config.recovery.appLinkBase },
  };
}
