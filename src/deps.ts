import type { PasswordHasher } from './auth/password.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import type { Logger } from './logger.js';
import type { Payments } from './payments/stripe.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type RuntimeName = 'node' | 'workerd';

/**
 * Everything the app needs from the outside world. The entry files (src/worker.ts,
 * src/node.ts) build it; tests build it with in-memory twins. Handlers reach it through
 * the single `deps` context variable, never through module-level singletons.
 */
export interface Deps {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  passwords: PasswordHasher;
  /** Undefined when Stripe is not configured: card endpoints then answer 503. */
  payments: Payments | undefined;
  runtime: RuntimeName;
  /** Set by the Node entry on SIGTERM so readiness fails while in-flight requests finish. */
  lifecycle: { draining: boolean };
}
