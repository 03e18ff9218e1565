/**
 * The scheduled part of notifications, run by every scheduler under the payments job's lease
 * (src/modules/payments/exclusive.ts, `runScheduledJobs`): the Worker's cron, the Node timer,
 * the Kubernetes CronJob and the CLI. It is the safety net of the queue and the Node worker: an
 * outbox row still undispatched a minute after it was written (the process crashed between the
 * write and the enqueue, or a queue message was lost) is fanned out here, deliveries that are due
 * are sent, pickup reminders are written, and the backlog gauges are measured.
 */
import type { Deps } from '../deps.js';
import { dispatchCycle, measureBacklog, type Backlog } from './dispatch.js';
import { dispatchDepsOf } from './clients.js';
import { enqueueRetries } from './queue.js';
import { writePickupReminders } from './reminders.js';

/** Outbox rows younger than this are left to the queue consumer / Node worker, ms. */
export const SWEEP_GRACE_MS = 60_000;
/** At most this many dispatch cycles per sweep (each up to 100 outbox rows and 50 sends). */
export const SWEEP_MAX_CYCLES = 20;

export interface SweepReport {
  remindersWritten: number;
  /** Outbox rows fanned out, deliveries sent, retries scheduled; absent when no channel client is available here. */
  dispatched?: { outboxRows: number; sent: number; retry: number; failed: number; dead: number };
  backlog: Backlog;
}

/**
 * Reminders (./reminders.ts), then, when `deps.notifications` has at least one channel client,
 * fan-out of outbox rows older than SWEEP_GRACE_MS and sends of due deliveries (retries
 * re-enqueued when a queue is bound), then the backlog gauges. Without clients (the Node API
 * server, which never sends) it neither fans out nor sends: a fan-out there would mark every
 * channel "not configured" and skip messages the notifications worker can send.
 */
export async function runNotificationSweep(deps: Deps): Promise<SweepReport> {
  const remindersWritten = await writePickupReminders(deps);
  const report: SweepReport = { remindersWritten, backlog: { pending: 0, oldestPendingAgeSeconds: 0, dead: 0 } };
  const n = deps.notifications;
  if (n && Object.keys(n.clients).length > 0) {
    const d = dispatchDepsOf(deps, n.clients);
    const total = { outboxRows: 0, sent: 0, retry: 0, failed: 0, dead: 0 };
    // Reminders just written are fanned out now (else they would wait for the next tick); other
    // young rows are the consumer's, which a fan-out here would only race (harmlessly).
    const olderThanMs = remindersWritten > 0 ? 0 : SWEEP_GRACE_MS;
    for (let i = 0; i < SWEEP_MAX_CYCLES; i++) {
      const cycle = await dispatchCycle(d, { olderThanMs });
      await enqueueRetries(deps, n.queue, cycle.send);
      total.outboxRows += cycle.fanOut.outboxRows;
      total.sent += cycle.send.sent;
      total.retry += cycle.send.retry.length;
      total.failed += cycle.send.failed;
      total.dead += cycle.send.dead;
      if (!cycle.full) break;
    }
    report.dispatched = total;
  }
  report.backlog = await measureBacklog(deps);
  return report;
}
