import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Leases for scheduled jobs that must not overlap (src/modules/jobs/lease.ts): one row per job
 * name, taken by a single `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at < now()` so it
 * works over Neon's HTTP driver (no session, so no advisory lock). A holder that dies leaves a
 * lease that simply expires.
 */
export const jobLeases = pgTable('job_leases', {
  /** e.g. `payments-job`. */
  name: text('name').primaryKey(),
  /** Who holds it: runtime, host or invocation id and a random suffix, for the logs. */
  holder: text('holder').notNull(),
  acquiredAt: timestamp('acquired_at', { withTimezone: true, mode: 'date' }).notNull(),
  /** UTC; after this instant anyone may take the lease. */
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
});
