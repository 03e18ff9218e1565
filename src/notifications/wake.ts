/**
 * Which answers wake the notification consumer on Workers (src/worker.ts sends `{ kind: 'outbox' }`
 * on NOTIFICATIONS_QUEUE after them). Apart from ./queue.ts so that the Worker's fetch path can ask
 * without evaluating the dispatcher: a fetch-only isolate never loads it (the startup budget).
 */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/**
 * The paths whose writes can append an order timeline entry, and so an outbox row (the trigger of
 * migration 0014): orders (create, cancel, payments), the staff console (transitions, weigh-in,
 * capture, refunds, payments at the door) and Stripe's webhook; and those that write an account
 * email (issue 18: registration, password reset requests, verification and email change), which
 * must not wait for the cron (a reset link lives 30 minutes). Sign-in, devices, preferences and
 * the admin catalog never do.
 */
const NOTIFYING_PATH = /^\/v1\/((orders|staff|webhooks)(\/|$)|auth\/(register|password-reset|verify-email)$|me\/(email|email-verification)$)/;

/**
 * Whether the Worker wakes the consumer after this answer: a successful (2xx) write on a path that
 * can write an outbox row. `pathname` may be a function, called only for such a write (the Worker
 * passes one, so a read never parses its URL again). Any other request enqueues nothing (no empty fan-out per login or
 * refresh); a row written anyway is still swept by the cron within a minute of its age.
 */
export function wakesNotifications(method: string, pathname: string | (() => string), status: number): boolean {
  if (!(status >= 200 && status < 300 && UNSAFE_METHODS.has(method))) return false;
  return NOTIFYING_PATH.test(typeof pathname === 'string' ? pathname : pathname());
}
