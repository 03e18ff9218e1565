import { refreshConcurrencyJourney } from '../journeys/refresh-concurrency.js';
import { workerHarness } from './support.js';

/*
 * Concurrent refreshes inside workerd (neon-http through the local endpoint, on the PostgreSQL
 * server when configured). The Worker reads the system clock, so time passes for a user by
 * moving their refresh tokens' timestamps back instead.
 */
refreshConcurrencyJourney(() => ({
  harness: workerHarness,
  advance: async (email, seconds) => {
    await workerHarness.sql(
      `UPDATE refresh_tokens SET created_at = created_at - make_interval(secs => $2), expires_at = expires_at - make_interval(secs => $2),
         revoked_at = revoked_at - make_interval(secs => $2)
       WHERE user_id = (SELECT id FROM users WHERE email = lower($1))`,
      [email, seconds],
    );
  },
}));
