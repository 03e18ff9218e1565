/**
 * The notification stand-ins (./notify-stand-ins.ts) for tests that cannot hold their objects:
 * inside workerd, vitest.workers.config.ts starts the stand-ins in its own Node process and passes
 * their settings as `TEST_NOTIFY_*` bindings (not FCM_/TWILIO_/RESEND_: the shared Worker harness
 * stays unconfigured, as with the JWKS stand-ins). A small HTTP control server beside them lets a
 * test read what each provider received and inject faults with plain fetch:
 *
 *   GET  /__control/received                       → { push, sms, email, requests: { google, fcm, twilio, resend } }
 *   POST /__control/fail        {channel, fault, times?}   the next `times` calls of the channel answer `fault`
 *   POST /__control/unregister  {token}            FCM answers 404 UNREGISTERED for this token from now on
 *   GET  /__control/google-token?token=…           → { valid, scopes }: whether the Google stand-in issued it
 *   POST /__control/reset                          forget everything received, drop every fault
 *
 * Test-only code: nothing in src/ knows these paths.
 */
import type { NotificationChannel } from '../../../src/notifications/types.js';
import type { FcmRecord } from './notify-fcm.js';
import type { TokenRequestRecord } from './notify-google.js';
import { startServer, type Fault, type RunningServer, type StandInAnswer } from './notify-http.js';
import type { ResendRecord } from './notify-resend.js';
import type { NotifyStandIns } from './notify-stand-ins.js';
import type { TwilioRecord } from './notify-twilio.js';

/** The binding names' prefix; `TEST_NOTIFY_CONTROL_URL` is the control server. */
export const TEST_NOTIFY_PREFIX = 'TEST_NOTIFY_';
const CONTROL_BINDING = `${TEST_NOTIFY_PREFIX}CONTROL_URL`;

export interface Received {
  push: NotifyStandIns['fcm']['delivered'];
  sms: NotifyStandIns['twilio']['messages'];
  email: NotifyStandIns['resend']['emails'];
  requests: { google: TokenRequestRecord[]; fcm: FcmRecord[]; twilio: TwilioRecord[]; resend: ResendRecord[] };
}

const CHANNELS: readonly NotificationChannel[] = ['push', 'sms', 'email'];
const bad = (message: string): StandInAnswer => ({ status: 400, body: { error: message } });

/** Starts the control server for `s` (127.0.0.1, a random port). */
export async function startNotifyControl(s: NotifyStandIns): Promise<RunningServer> {
  return startServer((req) => {
    const url = new URL(req.path, 'http://control');
    let input: Record<string, unknown>;
    try {
      input = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    } catch {
      return bad('the body is not JSON');
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /__control/received') {
      const received: Received = {
        ...s.received(),
        requests: { google: s.google.tokenRequests, fcm: s.fcm.requests, twilio: s.twilio.requests, resend: s.resend.requests },
      };
      return { status: 200, body: received };
    }
    if (route === 'POST /__control/fail') {
      const channel = input.channel as NotificationChannel;
      if (!CHANNELS.includes(channel)) return bad('channel: push, sms or email');
      if (!input.fault || typeof input.fault !== 'object') return bad('fault: {status, retryAfter?} or {hang: true}');
      s.failNext(channel, input.fault as Fault, typeof input.times === 'number' ? input.times : 1);
      return { status: 200, body: {} };
    }
    if (route === 'POST /__control/unregister') {
      if (typeof input.token !== 'string' || input.token === '') return bad('token: the registration token');
      s.fcm.unregister(input.token);
      return { status: 200, body: {} };
    }
    if (route === 'GET /__control/google-token') {
      const token = url.searchParams.get('token') ?? '';
      return { status: 200, body: { valid: s.google.accessTokenValid(token), scopes: s.google.tokenScopes(token) } };
    }
    if (route === 'POST /__control/reset') {
      s.reset();
      return { status: 200, body: {} };
    }
    return { status: 404, body: { error: 'not_found' } };
  });
}

/** The bindings for vitest.workers.config.ts: every setting of `s.env` under TEST_NOTIFY_<name>, and the control URL. */
export function notifyBindings(s: NotifyStandIns, control: RunningServer): Record<string, string> {
  const out: Record<string, string> = { [CONTROL_BINDING]: control.url };
  for (const [k, v] of Object.entries(s.env)) out[`${TEST_NOTIFY_PREFIX}${k}`] = v;
  return out;
}

/** Back from the bindings to the app's own names (FCM_SERVICE_ACCOUNT_JSON, TWILIO_*, RESEND_API_KEY, EMAIL_FROM, …). */
export function providerEnvFromBindings(bindings: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(bindings)) {
    if (k.startsWith(TEST_NOTIFY_PREFIX) && k !== CONTROL_BINDING && typeof v === 'string') out[k.slice(TEST_NOTIFY_PREFIX.length)] = v;
  }
  return out;
}

/** The stand-ins driven over HTTP (plain fetch: works inside workerd). `bindings`: the test env. */
export function notifyControl(bindings: Record<string, unknown>) {
  const base = bindings[CONTROL_BINDING];
  if (typeof base !== 'string') throw new Error(`${CONTROL_BINDING} is not bound (vitest.workers.config.ts starts the notification stand-ins)`);
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/__control/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!res.ok) throw new Error(`notification stand-ins ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    received: () => call<Received>('GET', 'received'),
    failNext: async (channel: NotificationChannel, fault: Fault, times = 1) => {
      await call('POST', 'fail', { channel, fault, times });
    },
    unregister: async (token: string) => {
      await call('POST', 'unregister', { token });
    },
    googleToken: (token: string) => call<{ valid: boolean; scopes: string[] }>('GET', `google-token?token=${encodeURIComponent(token)}`),
    reset: async () => {
      await call('POST', 'reset', {});
    },
  };
}
