/**
 * All four notification stand-ins at once (Google's token endpoint, FCM, Twilio, Resend) with the
 * environment that points the app's channel clients at them, for the channel tests and the
 * dispatcher's. Each stand-in records what it received (`received()`), so a test can assert a
 * message went out exactly once.
 *
 *   const s = await startNotifyStandIns();
 *   const config = loadConfig({ APP_ENV: 'test', ...s.env });
 *   s.failNext('push', { status: 503, retryAfter: '7' });
 *   …
 *   await s.close();
 */
import type { NotificationChannel } from '../../../src/notifications/types.js';
import { startFcmStandIn, type FcmStandIn } from './notify-fcm.js';
import { startGoogleTokenStandIn, type GoogleTokenStandIn } from './notify-google.js';
import type { Fault } from './notify-http.js';
import { startResendStandIn, type ResendStandIn } from './notify-resend.js';
import { startTwilioStandIn, type TwilioStandIn } from './notify-twilio.js';

export type { Fault } from './notify-http.js';

export interface NotifyStandIns {
  urls: { googleToken: string; fcm: string; twilio: string; resend: string };
  /** FCM_SERVICE_ACCOUNT_JSON, FCM_API_URL, TWILIO_*, RESEND_API_KEY, EMAIL_FROM, RESEND_API_URL. */
  env: Record<string, string>;
  google: GoogleTokenStandIn;
  fcm: FcmStandIn;
  twilio: TwilioStandIn;
  resend: ResendStandIn;
  /** What actually went out, per channel. */
  received(): { push: FcmStandIn['delivered']; sms: TwilioStandIn['messages']; email: ResendStandIn['emails'] };
  /** The next `times` provider calls of the channel answer this fault (push: FCM's send, not the token endpoint). */
  failNext(channel: NotificationChannel, fault: Fault, times?: number): void;
  /** Forgets what was received and drops every queued or standing fault (tokens issued stay valid). */
  reset(): void;
  close(): Promise<void>;
}

export const STAND_IN_EMAIL_FROM = 'Laundry <orders@laundry.example>';

/** `now`: the stand-ins' clock in ms (token and assertion expiry, the 24 h idempotency window); share it with the app's. */
export async function startNotifyStandIns(opts: { now?: () => number } = {}): Promise<NotifyStandIns> {
  const google = await startGoogleTokenStandIn(opts.now ? { now: opts.now } : {});
  const projectId = google.serviceAccount.project_id!;
  const [fcm, twilio, resend] = await Promise.all([startFcmStandIn(google, projectId), startTwilioStandIn(), startResendStandIn(opts.now ? { now: opts.now } : {})]);
  return {
    urls: { googleToken: google.tokenUri, fcm: fcm.url, twilio: twilio.url, resend: resend.url },
    env: {
      FCM_SERVICE_ACCOUNT_JSON: JSON.stringify(google.serviceAccount),
      FCM_API_URL: fcm.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: twilio.from,
      TWILIO_API_URL: twilio.url,
      RESEND_API_KEY: resend.apiKey,
      EMAIL_FROM: STAND_IN_EMAIL_FROM,
      RESEND_API_URL: resend.url,
    },
    google,
    fcm,
    twilio,
    resend,
    received: () => ({ push: fcm.delivered, sms: twilio.messages, email: resend.emails }),
    failNext(channel, fault, times) {
      if (channel === 'push') fcm.failNext(fault, times);
      else if (channel === 'sms') twilio.failNext(fault, times);
      else resend.failNext(fault, times);
    },
    reset() {
      for (const list of [google.tokenRequests, fcm.requests, fcm.delivered, twilio.requests, twilio.messages, resend.requests, resend.emails]) list.length = 0;
      for (const standIn of [google, fcm, twilio, resend]) standIn.clearFaults();
    },
    close: async () => {
      await Promise.all([google.close(), fcm.close(), twilio.close(), resend.close()]);
    },
  };
}
