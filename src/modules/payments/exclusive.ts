/**
 * The payments job under its lease (../jobs/lease.ts): the one entry every scheduler calls (the
 * Worker's cron trigger, the Kubernetes CronJob, a Node timer, `npm run cli -- payments-job`), so
 * two runners never overlap. The job itself is ./jobs.ts.
 */
import type { Deps } from '../../deps.js';
import { acquireLease, newHolderId, releaseLease, renewLease } from '../jobs/lease.js';
import { runNotificationSweep } from '../../notifications/sweep.js';
import { runErasureTasks } from '../../account/erasure-tasks.js';
import { runRecurringJob } from './recurring-hold.js';
import { jobFailure, runPaymentJobs, type JobReport } from './jobs.js';

/**
 * What every scheduler runs under the lease: the payments housekeeping (./jobs.ts), then the
 * recurring pickups' orders (../recurring/job.ts), then the
 * notification sweep and pickup reminders (src/notifications/sweep.ts), then the account erasure
 * tasks due (src/account/erasure-tasks.ts). A part that throws is reported in `recurringError` /
 * `notificationsError` / `erasureTasksError` and logged; it does not undo or fail the payments part.
 */
export async function runScheduledJobs(deps: Deps): Promise<JobReport> {
  const report = await runPaymentJobs(deps);
  // Each part after the payments one: its result, or its error in `<part>Error` and the log.
  const part = async <K extends 'recurring' | 'notifications' | 'erasureTasks'>(key: K, what: string, run: () => Promise<NonNullable<JobReport[K]>>) => {
    try {
      report[key] = await run();
    } catch (error) {
      report[`${key}Error`] = error instanceof Error ? error.message : String(error);
      deps.logger.error(`${what} failed`, { error });
    }
  };
  await part('recurring', 'recurring pickups', () => runRecurringJob(deps));
  await part('notifications', 'notification sweep', () => runNotificationSweep(deps));
  await part('erasureTasks', 'account erasure tasks', () => runErasureTasks(deps));
  return report;
}

export const PAYMENT_JOB_INTERVAL_MS = 15 * 60_000;

/** The `job_leases` row of the payments job (src/modules/jobs/lease.ts). */
export const PAYMENTS_JOB_LEASE = 'payments-job';

/**
 * How long a runner holds the payments job's lease before anyone may take it, ms (database
 * clock): 20 min, longer than the longest a run can last where the platform bounds it (the
 * Kubernetes CronJob's `activeDeadlineSeconds: 600`; a Workers cron invocation's 15 min of wall
 * time, https://developers.cloudflare.com/workers/platform/limits/#duration), and renewed every
 * PAYMENTS_JOB_LEASE_RENEW_MS while the run goes on (Node's CLI and timer have no bound). A
 * runner that crashes leaves a lease that expires by itself: at most one 15-min tick is skipped.
 */
export const PAYMENTS_JOB_LEASE_TTL_MS = 20 * 60_000;
/** How often a run still going renews its lease, ms: a quarter of the TTL, so a missed renewal or two costs nothing. */
export const PAYMENTS_JOB_LEASE_RENEW_MS = PAYMENTS_JOB_LEASE_TTL_MS / 4;

/** What one scheduled attempt did: ran the job (its report), or skipped it because another runner holds the lease. */
export type ExclusiveJobRun =
  | {
      outcome: 'ran';
      /** This run's holder id (newHolderId). */
      holder: string;
      report: JobReport;
      /** jobFailure(report): why the run counts as failed, if it does. */
      failure?: string;
      /** Set when a renewal found the lease gone (expired and taken, or cleared by hand): another runner may have overlapped. */
      leaseLost?: true;
    }
  | {
      outcome: 'skipped';
      holder: string;
      /** The holder id of the runner that has the lease. */
      heldBy: string;
      /** When its lease expires (ISO UTC, database clock) unless it gives it back first. */
      until: string;
    };

export interface ExclusiveJobOptions {
  /** Where this runs, e.g. `workerd:<version>:cron@<scheduledTime>`, `node:<pod>:job`, `cli:<host>:<pid>`. */
  runner: string;
  /** Lease length, ms; default PAYMENTS_JOB_LEASE_TTL_MS. */
  ttlMs?: number;
  /** Renewal period while running, ms; default PAYMENTS_JOB_LEASE_RENEW_MS. */
  renewEveryMs?: number;
  /** The job body; default runScheduledJobs (tests put a body that waits or throws here). */
  run?: (deps: Deps) => Promise<JobReport>;
}

/**
 * The one entry every scheduler uses (Workers `scheduled()`, the Node timer, the Kubernetes
 * CronJob's `payments-job` command, `npm run cli -- payments-job`): takes the `payments-job`
 * lease, runs runScheduledJobs (payments, then the notification sweep), and gives the lease back in `finally` (a run that throws releases
 * it too; a runner that dies leaves it to expire). When another runner holds the lease it does
 * nothing but log `payments job skipped` and answer `skipped`, naming the holder and its expiry.
 * Costs two database round trips beyond the job's own (take, give back); one when skipped.
 *
 * `runner` names where this runs (runtime and host, pod or invocation); a random suffix makes
 * the holder id of this run. Logs the outcome (`payments job`, or `payments job failed` with the
 * failure, `phase: 'lease'` when the lease could not be asked); rejects, after releasing, when the
 * job itself threw, or when the lease could not be asked (the database unreachable).
 */
export async function runPaymentJobsExclusive(deps: Deps, opts: ExclusiveJobOptions): Promise<ExclusiveJobRun> {
  const holder = newHolderId(opts.runner);
  const ttlMs = opts.ttlMs ?? PAYMENTS_JOB_LEASE_TTL_MS;
  // Logged here like every other failure: the Worker's cron and the Node timer drop the rejection.
  const lease = await acquireLease(deps, PAYMENTS_JOB_LEASE, holder, ttlMs).catch((error: unknown) => {
    deps.logger.error('payments job failed', { holder, error, phase: 'lease' });
    throw error;
  });
  if (!lease.held) {
    deps.logger.info('payments job skipped: another runner holds the lease', { holder, heldBy: lease.holder, until: lease.expiresAt });
    return { outcome: 'skipped', holder, heldBy: lease.holder, until: lease.expiresAt };
  }
  let leaseLost = false;
  let finished = false;
  // The renewal in flight, awaited before the release: one that landed after the DELETE would
  // find no row and report a lease lost that was only given back.
  let renewing: Promise<void> = Promise.resolve();
  const renewEveryMs = opts.renewEveryMs ?? PAYMENTS_JOB_LEASE_RENEW_MS;
  const renewal = setInterval(() => {
    renewing = renewLease(deps, PAYMENTS_JOB_LEASE, holder, ttlMs).then(
      (expiresAt) => {
        if (expiresAt !== undefined || leaseLost || finished) return;
        leaseLost = true;
        deps.logger.error('payments job lease lost while running: another runner may overlap', { holder });
      },
      (error: unknown) => deps.logger.warn('renewing the payments job lease failed', { holder, error }),
    );
  }, renewEveryMs);
  try {
    const report = await (opts.run ?? runScheduledJobs)(deps);
    const failure = jobFailure(report);
    if (failure) deps.logger.error('payments job failed', { holder, report, failure });
    else deps.logger.info('payments job', { holder, report });
    return { outcome: 'ran', holder, report, ...(failure ? { failure } : {}), ...(leaseLost ? { leaseLost: true as const } : {}) };
  } catch (error) {
    deps.logger.error('payments job failed', { holder, error });
    throw error;
  } finally {
    clearInterval(renewal);
    await renewing;
    finished = true;
    // Not given back (database down): it expires by itself after ttlMs.
    await releaseLease(deps, PAYMENTS_JOB_LEASE, holder).catch((error: unknown) =>
      deps.logger.warn('releasing the payments job lease failed; it expires by itself', { holder, error }),
    );
  }
}
