import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './schema-users.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** What an erasure task does outside our database (src/account/erasure-tasks.ts). */
export const ERASURE_TASK_KINDS = ['stripe_customer_delete', 'apple_token_revoke'] as const;
export type ErasureTaskKind = (typeof ERASURE_TASK_KINDS)[number];

/**
 * The external steps of an account erasure, written by the same statement that anonymises the
 * account (src/modules/account/erase.ts), attempted right after it in the background and retried
 * by the scheduled job with backoff until done. `reference` is what the step needs: the Stripe
 * Customer id, or Apple's sealed refresh token; it is cleared once the task is done.
 */
export const accountErasureTasks = pgTable(
  'account_erasure_tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind').$type<ErasureTaskKind>().notNull(),
    /** Stripe: `cus_…`; Apple: the sealed `{clientId, refreshToken}`. Null once done. */
    reference: text('reference'),
    attempts: integer('attempts').notNull().default(0),
    /** UTC; a pending task is due from this instant. */
    nextAttemptAt: ts('next_attempt_at').notNull(),
    /** A claimed task's lease: nobody else attempts it before this instant. */
    lockedUntil: ts('locked_until'),
    doneAt: ts('done_at'),
    /** done | gone (already deleted at the provider) | skipped (the provider is not configured). */
    outcome: text('outcome'),
    lastError: text('last_error'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('account_erasure_tasks_due_idx').on(t.nextAttemptAt).where(sql`done_at IS NULL`),
    index('account_erasure_tasks_user_idx').on(t.userId),
    check('account_erasure_tasks_kind', sql`${t.kind} IN ('stripe_customer_delete', 'apple_token_revoke')`),
  ],
);
