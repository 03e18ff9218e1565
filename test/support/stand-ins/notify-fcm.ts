/**
 * FCM HTTP v1 `projects.messages.send` (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send),
 * strict: the bearer must be an unexpired token the Google stand-in issued with the
 * firebase.messaging scope (else 401 UNAUTHENTICATED / 403 PERMISSION_DENIED); the project must be
 * the service account's; the body is `{message, validate_only?}` with unknown fields refused as
 * Google's JSON parser does (`Invalid JSON payload received. Unknown name "x" at 'message'`),
 * exactly one target (we only accept `token`), string `data` values and no reserved data keys
 * (from, notification, message_type, google.*, gcm.*), Android priority NORMAL | HIGH.
 * Errors carry the FcmError detail like FCM (https://firebase.google.com/docs/cloud-messaging/error-codes).
 * Faults: failNext (429 QUOTA_EXCEEDED / 500 INTERNAL / 503 UNAVAILABLE with Retry-After, hang),
 * unregister(token) (404 UNREGISTERED from then on), failFor(token, 'unregistered-400' | 'invalid').
 */
import type { GoogleTokenStandIn } from './notify-google.js';
import { FaultQueue, randomHex, startServer, type Fault, type StandInAnswer } from './notify-http.js';

export const FCM_SCOPE_REQUIRED = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmRecord {
  token: string | undefined;
  message: Record<string, unknown> | undefined;
  status: number | null;
  /** The FCM status / errorCode answered, or 'ok', 'hang', 'injected'. */
  outcome: string;
  /** The bearer access token sent ('' when none). */
  bearer: string;
}

export interface FcmStandIn {
  url: string;
  /** Every send request. */
  requests: FcmRecord[];
  /** Messages accepted (200): exactly what a device would get. */
  delivered: Array<{ name: string; message: Record<string, unknown> }>;
  failNext(fault: Fault, times?: number): void;
  /** This token is dead from now on: 404 NOT_FOUND, FcmError UNREGISTERED. */
  unregister(token: string): void;
  /** `unregistered-400`: 400 INVALID_ARGUMENT with FcmError UNREGISTERED; `invalid`: 400 INVALID_ARGUMENT (bad token). */
  failFor(token: string, mode: 'unregistered-400' | 'invalid'): void;
  /** Drops queued faults (failNext), dead tokens and per-token failures. */
  clearFaults(): void;
  close(): Promise<void>;
}

type ErrorBody = { code: number; message: string; status: string; details?: unknown[] };
const err = (e: ErrorBody, headers?: Record<string, string>): StandInAnswer => ({ status: e.code, body: { error: e }, ...(headers ? { headers } : {}) });
const fcmError = (errorCode: string) => ({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode });
const badRequest = (field: string, description: string) => ({
  '@type': 'type.googleapis.com/google.rpc.BadRequest',
  fieldViolations: [{ field, description }],
});

const FIELDS: Record<string, readonly string[]> = {
  '': ['message', 'validate_only'],
  message: ['name', 'data', 'notification', 'android', 'webpush', 'apns', 'fcm_options', 'token', 'topic', 'condition'],
  'message.notification': ['title', 'body', 'image'],
  'message.android': ['collapse_key', 'priority', 'ttl', 'restricted_package_name', 'data', 'notification', 'fcm_options', 'direct_boot_ok'],
  'message.apns': ['headers', 'payload', 'fcm_options'],
};

/** The first unknown field, Google-style, or undefined. */
function unknownField(o: Record<string, unknown>, path: string): { name: string; at: string } | undefined {
  const allowed = FIELDS[path];
  if (!allowed) return undefined;
  for (const [k, v] of Object.entries(o)) {
    if (!allowed.includes(k)) return { name: k, at: path };
    const child = path === '' ? k : `${path}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const found = unknownField(v as Record<string, unknown>, child);
      if (found) return found;
    }
  }
  return undefined;
}

const RESERVED_DATA = /^(from|notification|message_type)$|^(google|gcm)(\.|$)/;

export async function startFcmStandIn(google: GoogleTokenStandIn, projectId: string): Promise<FcmStandIn> {
  const faults = new FaultQueue();
  const dead = new Set<string>();
  const perToken = new Map<string, 'unregistered-400' | 'invalid'>();
  const requests: FcmRecord[] = [];
  const delivered: FcmStandIn['delivered'] = [];

  const server = await startServer((req) => {
    const record: FcmRecord = { token: undefined, message: undefined, status: null, outcome: '', bearer: '' };
    requests.push(record);
    const done = (answer: StandInAnswer, outcome: string) => {
      record.status = answer.status;
      record.outcome = outcome;
      return answer;
    };
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.path);
    if (req.method !== 'POST' || !m) return done(err({ code: 404, message: 'Not Found', status: 'NOT_FOUND' }), 'NOT_FOUND');
    const auth = String(req.headers.authorization ?? '');
    const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    record.bearer = bearer;
    if (!google.accessTokenValid(bearer)) {
      return done(
        err({
          code: 401,
          message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          status: 'UNAUTHENTICATED',
        }),
        'UNAUTHENTICATED',
      );
    }
    if (!google.tokenScopes(bearer).includes(FCM_SCOPE_REQUIRED)) {
      return done(err({ code: 403, message: 'Request had insufficient authentication scopes.', status: 'PERMISSION_DENIED' }), 'PERMISSION_DENIED');
    }
    if (decodeURIComponent(m[1]!) !== projectId) {
      return done(err({ code: 403, message: `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${m[1]}'`, status: 'PERMISSION_DENIED' }), 'PERMISSION_DENIED');
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return done(err({ code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' }), 'INVALID_ARGUMENT');
    }
    const invalid = (message: string, details: unknown[]) => done(err({ code: 400, message, status: 'INVALID_ARGUMENT', details }), 'INVALID_ARGUMENT');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return invalid('Invalid JSON payload received.', []);
    const unknown = unknownField(body as Record<string, unknown>, '');
    if (unknown) {
      const d = `Invalid JSON payload received. Unknown name "${unknown.name}" at '${unknown.at || 'root'}': Cannot find field.`;
      return invalid(d, [badRequest(unknown.at, d)]);
    }
    const message = (body as { message?: unknown }).message as Record<string, unknown> | undefined;
    if (!message || typeof message !== 'object') return invalid('Request contains an invalid argument.', [fcmError('INVALID_ARGUMENT')]);
    record.message = message;
    const targets = ['token', 'topic', 'condition'].filter((k) => message[k] !== undefined);
    if (targets.length !== 1) return invalid('Recipient of the message is not set.', [fcmError('INVALID_ARGUMENT')]);
    if (targets[0] !== 'token') return invalid('This stand-in sends to registration tokens only.', [fcmError('INVALID_ARGUMENT')]);
    const token = message.token;
    record.token = typeof token === 'string' ? token : undefined;
    if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token)) return invalid('The registration token is not a valid FCM registration token', [fcmError('INVALID_ARGUMENT')]);
    const data = message.data;
    if (data !== undefined) {
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return invalid("Invalid value at 'message.data' (type.googleapis.com/google.protobuf.Struct)", []);
      let i = 0;
      for (const [k, v] of Object.entries(data)) {
        if (typeof v !== 'string') {
          const d = `Invalid value at 'message.data[${i}].value' (TYPE_STRING), ${JSON.stringify(v)}`;
          return invalid(d, [badRequest(`message.data[${i}].value`, d)]);
        }
        if (RESERVED_DATA.test(k)) return invalid(`Invalid data payload key: ${k}`, [fcmError('INVALID_ARGUMENT')]);
        i++;
      }
    }
    const notification = message.notification as Record<string, unknown> | undefined;
    if (notification && Object.values(notification).some((v) => typeof v !== 'string')) return invalid("Invalid value at 'message.notification' (TYPE_STRING)", []);
    const android = message.android as Record<string, unknown> | undefined;
    if (android?.priority !== undefined && android.priority !== 'NORMAL' && android.priority !== 'HIGH') {
      const d = `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), ${JSON.stringify(android.priority)}`;
      return invalid(d, [badRequest('message.android.priority', d)]);
    }
    const apns = message.apns as Record<string, unknown> | undefined;
    if (apns?.headers !== undefined && (typeof apns.headers !== 'object' || Object.values(apns.headers as object).some((v) => typeof v !== 'string'))) {
      return invalid("Invalid value at 'message.apns.headers' (TYPE_STRING)", []);
    }

    const fault = faults.take();
    if (fault && 'hang' in fault) {
      record.outcome = 'hang';
      return undefined;
    }
    if (fault) {
      const status = fault.status === 429 ? 'RESOURCE_EXHAUSTED' : fault.status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
      const code = fault.status === 429 ? 'QUOTA_EXCEEDED' : fault.status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
      return done(
        err({ code: fault.status, message: 'injected', status, details: [fcmError(code)] }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : undefined),
        'injected',
      );
    }
    if (dead.has(token)) return done(err({ code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND', details: [fcmError('UNREGISTERED')] }), 'UNREGISTERED');
    const mode = perToken.get(token);
    if (mode === 'unregistered-400') return invalid('Requested entity was not found.', [fcmError('UNREGISTERED')]);
    if (mode === 'invalid') return invalid('The registration token is not a valid FCM registration token', [fcmError('INVALID_ARGUMENT')]);
    const name = `projects/${projectId}/messages/0:${Date.now()}%${randomHex(16)}`;
    delivered.push({ name, message });
    return done({ status: 200, body: { name } }, 'ok');
  });

  return {
    url: server.url,
    requests,
    delivered,
    failNext: (fault, times) => faults.push(fault, times),
    unregister: (token) => dead.add(token),
    failFor: (token, mode) => perToken.set(token, mode),
    clearFaults: () => {
      faults.clear();
      dead.clear();
      perToken.clear();
    },
    close: () => server.close(),
  };
}
