import type { ApiClient } from './client.js';
import type { StripeControl } from './stripe.js';

/** What a shared journey needs from the runtime it runs on. */
export interface Harness {
  api: ApiClient;
  /** The JWT secret the app under test was configured with, to forge test tokens. */
  jwtSecret: string;
  /** Changes a user's role in the database, as `npm run cli -- set-role` does. */
  setRole(email: string, role: 'customer' | 'staff' | 'admin'): Promise<void>;
  /** Disables (ending every session) or enables a user, as `npm run cli -- disable` / `enable` does. */
  setDisabled(email: string, disabled: boolean): Promise<void>;
  /** Raw SQL with $1… parameters straight to the app's database, for fixtures and checks. */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  /** The local Stripe stand-in the app talks to. */
  stripe: StripeControl;
}

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
