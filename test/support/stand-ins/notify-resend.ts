/**
 * Resend's "Send Email" (POST /emails, https://resend.com/docs/api-reference/emails/send-email),
 * strict: `Authorization: Bearer <key>` (missing → 401 missing_api_key, wrong → 403
 * invalid_api_key); a JSON body with from, to (1–50 addresses), subject and text or html
 * (missing → 422 missing_required_field, a malformed address → 422 validation_error), no
 * fields outside the API's; and Idempotency-Key semantics
 * (https://resend.com/docs/dashboard/emails/idempotency-keys): a key of 1–256 characters (else 400
 * invalid_idempotency_key); the same key and the same body within 24 h answers the first
 * response again and sends nothing; the same key with a different body → 409
 * invalid_idempotent_request; while the first request with the key is still running → 409
 * concurrent_idempotent_requests. A refused request does not keep its key.
 * Faults: failNext (429 rate_limit_exceeded with retry-after and ratelimit-* headers, 5xx, hang)
 * and `sendThenHang` (the email goes out, the answer never comes: the retry must be a replay).
 */
import { FaultQueue, randomHex, startServer, type Fault, type StandInAnswer } from './notify-http.js';

export interface ResendRecord {
  idempotencyKey: string | null;
  body: Record<string, unknown> | undefined;
  status: number | null;
  /** ok, replayed, the error name, 'hang'. */
  outcome: string;
}

export interface ResendStandIn {
  url: string;
  apiKey: string;
  requests: ResendRecord[];
  /** Emails actually sent (each one once). */
  emails: Array<{ id: string; from: string; to: string[]; subject: string; text?: string }>;
  failNext(fault: Fault | { sendThenHang: true }, times?: number): void;
  /** Drops queued faults (idempotency keys already seen are kept, as Resend keeps them 24 h). */
  clearFaults(): void;
  close(): Promise<void>;
}

const KNOWN = ['from', 'to', 'subject', 'bcc', 'cc', 'reply_to', 'html', 'text', 'react', 'headers', 'attachments', 'tags', 'scheduled_at', 'template', 'topic_id'];
const ADDRESS = /^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
const DAY_MS = 24 * 60 * 60 * 1000;

const resendError = (statusCode: number, name: string, message: string, headers?: Record<string, string>): StandInAnswer => ({
  status: statusCode,
  body: { statusCode, name, message },
  ...(headers ? { headers } : {}),
});

export async function startResendStandIn(opts: { now?: () => number } = {}): Promise<ResendStandIn> {
  const now = opts.now ?? (() => Date.now());
  const apiKey = `re_standin_${randomHex(24)}`;
  const faults = new FaultQueue();
  const special: Array<{ sendThenHang: true }> = [];
  const keys = new Map<string, { body: string; at: number; answer?: StandInAnswer }>();
  const requests: ResendRecord[] = [];
  const emails: ResendStandIn['emails'] = [];

  const server = await startServer((req) => {
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const record: ResendRecord = { idempotencyKey: key, body: undefined, status: null, outcome: '' };
    requests.push(record);
    const done = (a: StandInAnswer, outcome?: string) => {
      record.status = a.status;
      record.outcome = outcome ?? ((a.body as { name?: string } | undefined)?.name ?? 'ok');
      return a;
    };
    if (req.method !== 'POST' || req.path !== '/emails') return done(resendError(404, 'not_found', 'The requested endpoint does not exist.'));
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ') || auth.length <= 7) return done(resendError(401, 'missing_api_key', 'Missing API key in the authorization header.'));
    if (auth.slice(7) !== apiKey) return done(resendError(403, 'invalid_api_key', 'API key is invalid'));
    const fault = faults.take();
    if (fault && 'hang' in fault) {
      record.outcome = 'hang';
      return undefined;
    }
    if (fault) {
      if (fault.status === 429) {
        return done(
          resendError(429, 'rate_limit_exceeded', 'Too many requests. You can only make 2 requests per second.', {
            ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
            'ratelimit-limit': '2',
            'ratelimit-remaining': '0',
            'ratelimit-reset': '1',
          }),
        );
      }
      return done(resendError(fault.status, 'internal_server_error', 'An unexpected error occurred.'));
    }
    if (key !== null && (key.length < 1 || key.length > 256)) return done(resendError(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.'));
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return done(resendError(400, 'validation_error', 'Invalid JSON body.'));
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return done(resendError(422, 'validation_error', 'The body must be an object.'));
    const b = body as Record<string, unknown>;
    record.body = b;
    const unknown = Object.keys(b).find((k) => !KNOWN.includes(k));
    if (unknown) return done(resendError(422, 'validation_error', `Unknown field \`${unknown}\`.`));
    for (const f of ['from', 'to', 'subject'] as const) if (b[f] === undefined || b[f] === '') return done(resendError(422, 'missing_required_field', `Missing \`${f}\` field.`));
    if (b.html === undefined && b.text === undefined && b.react === undefined) return done(resendError(422, 'missing_required_field', 'Missing `html` or `text` field.'));
    const to = Array.isArray(b.to) ? b.to : [b.to];
    if (to.length < 1 || to.length > 50 || to.some((a) => typeof a !== 'string' || !ADDRESS.test(a))) {
      return done(resendError(422, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'));
    }
    if (typeof b.from !== 'string' || !ADDRESS.test(b.from)) {
      return done(resendError(422, 'validation_error', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'));
    }
    if (typeof b.subject !== 'string' || (b.text !== undefined && typeof b.text !== 'string')) return done(resendError(422, 'validation_error', 'Invalid `subject` or `text` field.'));

    const canonical = JSON.stringify(b);
    if (key !== null) {
      const seen = keys.get(key);
      if (seen && now() - seen.at < DAY_MS) {
        if (seen.body !== canonical) return done(resendError(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.'));
        if (!seen.answer) return done(resendError(409, 'concurrent_idempotent_requests', 'Same idempotency key used while original request is still in progress.'));
        return done(seen.answer, 'replayed');
      }
    }
    const id = `${randomHex(8)}-${randomHex(4)}-4${randomHex(3)}-a${randomHex(3)}-${randomHex(12)}`;
    emails.push({ id, from: b.from, to: to as string[], subject: b.subject, ...(typeof b.text === 'string' ? { text: b.text } : {}) });
    const answer: StandInAnswer = { status: 200, body: { id } };
    const hangAfterSend = special.shift();
    if (key !== null) keys.set(key, { body: canonical, at: now(), ...(hangAfterSend ? {} : { answer }) });
    if (hangAfterSend) {
      // The email went out; the answer is lost. The key's answer is stored a moment later (the
      // first request finishing on Resend's side), so a retry replays it.
      setTimeout(() => {
        const entry = key !== null ? keys.get(key) : undefined;
        if (entry) entry.answer = answer;
      }, 0);
      record.outcome = 'sent-then-hang';
      return undefined;
    }
    return done(answer);
  });

  return {
    url: server.url,
    apiKey,
    requests,
    emails,
    failNext: (fault, times = 1) => {
      if ('sendThenHang' in fault) for (let i = 0; i < times; i++) special.push(fault);
      else faults.push(fault, times);
    },
    clearFaults: () => {
      faults.clear();
      special.length = 0;
    },
    close: () => server.close(),
  };
}
