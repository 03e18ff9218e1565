/**
 * Cloudflare Queues for notifications, without the runtime: the message shapes, and what the
 * consumer and the dead-letter consumer do with a batch. src/worker.ts adapts the Queue binding
 * and `MessageBatch` to the small interfaces here, so this file is tested on Node too.
 *
 * Flow (Workers): after a successful unsafe request the Worker sends `{ kind: 'outbox' }`
 * (src/worker.ts, through ctx.waitUntil, after the response). The consumer fans out and sends what
 * is due (./dispatch.ts); a delivery to retry is sent again as `{ kind: 'delivery', id }` with
 * `delaySeconds` = its backoff. A batch whose processing throws is retried by the queue
 * (`max_retries` in wrangler.toml); a message past that goes to the dead-letter queue, whose
 * consumer only logs it: the delivery stays `pending` (only MAX_ATTEMPTS provider attempts make
 * one `dead`). Nothing depends on a message arriving: the cron sweep (./sweep.ts) finds
 * undispatched outbox rows and due deliveries by themselves.
 */
import type { Deps } from '../deps.js';
import { dispatchCycle, sendDue, type DispatchDeps, type SendReport } from './dispatch.js';

export type NotificationMessage = { kind: 'outbox' } | { kind: 'delivery'; id: number };

/** The producer side of the NOTIFICATIONS_QUEUE binding (Queue.send). */
export interface NotificationQueue {
  send(body: NotificationMessage, options?: { delaySeconds?: number }): Promise<void>;
}

/** One received message (the part of Cloudflare's `Message` used). */
export interface ReceivedMessage {
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** Cloudflare Queues' longest delay, seconds (https://developers.cloudflare.com/queues/configuration/batching-retries/#delay-messages): 12 h. */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** A message body as sent by this app, or undefined (anything else is acked and dropped: it can never succeed). */
export function parseMessage(body: unknown): NotificationMessage | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { kind?: unknown; id?: unknown };
  if (b.kind === 'outbox') return { kind: 'outbox' };
  if (b.kind === 'delivery' && typeof b.id === 'number' && Number.isSafeInteger(b.id) && b.id > 0) return { kind: 'delivery', id: b.id };
  return undefined;
}

/** Enqueues one retry message per delivery to retry, delayed until its next attempt (bounded to the queue's maximum). */
export async function enqueueRetries(deps: Pick<Deps, 'clock' | 'logger'>, queue: NotificationQueue | undefined, send: SendReport): Promise<void> {
  if (!queue) return;
  const now = deps.clock.now().getTime();
  await Promise.all(
    send.retry.map(async (r) => {
      if (r.outcome !== 'retry') return;
      const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((r.retryAt.getTime() - now) / 1000)));
      // Lost: the sweep sends it when due anyway.
      await queue.send({ kind: 'delivery', id: r.id }, { delaySeconds }).catch((error: unknown) => deps.logger.warn('enqueueing a notification retry failed', { deliveryId: r.id, error }));
    }),
  );
}

/**
 * Dispatch cycles one consumer invocation runs at most: each is ~3 database round trips and up
 * to SEND_BATCH (50) provider calls, all subrequests, so 10 stay within a paid Worker's
 * per-invocation subrequest limit (https://developers.cloudflare.com/workers/platform/limits/#subrequests).
 * When the last one was still full, the consumer enqueues another `{ kind: 'outbox' }`.
 */
export const MAX_CYCLES_PER_BATCH = 10;

export interface ConsumeReport {
  cycles: number;
  sent: number;
  retried: number;
  dropped: number;
}

/**
 * The NOTIFICATIONS_QUEUE consumer. Any `outbox` message → one dispatch cycle (fan out, send due),
 * repeated while batches come back full (bounded); `delivery` messages → those deliveries sent if
 * due (claimDue: a message delivered twice finds the row leased or sent and sends nothing). Acks
 * every message when the work succeeded; on a throw (database down) marks every message for retry
 * and rethrows nothing (the queue redelivers; after max_retries the DLQ consumer takes over).
 */
export async function consumeNotificationBatch(
  deps: DispatchDeps,
  queue: NotificationQueue | undefined,
  messages: readonly ReceivedMessage[],
  opts: { maxCycles?: number } = {},
): Promise<ConsumeReport> {
  const report: ConsumeReport = { cycles: 0, sent: 0, retried: 0, dropped: 0 };
  const valid: ReceivedMessage[] = [];
  const ids: number[] = [];
  let outbox = false;
  for (const m of messages) {
    const parsed = parseMessage(m.body);
    if (!parsed) {
      deps.logger.warn('notification queue message dropped: unknown shape', { body: m.body });
      report.dropped++;
      m.ack();
      continue;
    }
    valid.push(m);
    if (parsed.kind === 'outbox') outbox = true;
    else ids.push(parsed.id);
  }
  try {
    if (ids.length > 0) {
      const send = await sendDue(deps, { ids });
      report.sent += send.sent;
      report.retried += send.retry.length;
      await enqueueRetries(deps, queue, send);
    }
    if (outbox) {
      let full = true;
      for (let i = 0; i < (opts.maxCycles ?? MAX_CYCLES_PER_BATCH) && full; i++) {
        const cycle = await dispatchCycle(deps);
        report.cycles++;
        report.sent += cycle.send.sent;
        report.retried += cycle.send.retry.length;
        await enqueueRetries(deps, queue, cycle.send);
        full = cycle.full;
      }
      // Still more (a burst): continue in a fresh invocation rather than wait for the sweep.
      if (full && queue) await queue.send({ kind: 'outbox' });
    }
    for (const m of valid) m.ack();
  } catch (error) {
    deps.logger.error('notification queue batch failed; the queue will redeliver it', { error, messages: valid.length });
    for (const m of valid) m.retry();
  }
  return report;
}

/**
 * The dead-letter queue's consumer: logs the messages that exhausted the main queue's retries and
 * acks them, and changes no row. A message lands here when its consumer failed `max_retries`
 * times in a few minutes (the database unreachable, a deploy), which says nothing about the
 * provider: the delivery it names keeps its attempts and stays `pending`, and the cron sweep
 * (./sweep.ts) sends it when due. Only MAX_ATTEMPTS provider attempts make a delivery `dead`
 * (./retry-policy.ts resultOf). `outbox` messages need nothing either: the sweep fans those rows out.
 * Answers the delivery ids named.
 */
export function consumeDeadLetters(deps: Pick<Deps, 'logger'>, messages: readonly ReceivedMessage[]): Promise<number[]> {
  const ids: number[] = [];
  let other = 0;
  for (const m of messages) {
    const parsed = parseMessage(m.body);
    if (parsed?.kind === 'delivery') ids.push(parsed.id);
    else other++;
    m.ack();
  }
  if (messages.length > 0) {
    deps.logger.warn('notification queue messages dead-lettered; their deliveries stay pending for the sweep', { deliveryIds: ids, otherMessages: other });
  }
  return Promise.resolve(ids);
}
