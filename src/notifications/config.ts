/**
 * The notification providers' settings (FCM, Twilio, Resend; README, "Configuration"), checked
 * at start by src/config.ts loadConfig.
 */
import type { RawSettings } from '../config-env.js';
import { isPlaceholder } from '../config-fields.js';
import { parseServiceAccount, type ServiceAccount } from './channels/service-account.js';

/** The notification providers' settings (README, "Configuration"). */
export interface NotificationsConfig {
  /** NOTIFY_TIMEOUT_MS: one provider request's upper bound, ms. */
  timeoutMs: number;
  /** Push (FCM HTTP v1): FCM_SERVICE_ACCOUNT_JSON and FCM_API_URL. */
  fcm?: { serviceAccount: ServiceAccount; apiUrl: string };
  /**
   * SMS (Twilio Messages): `username`/`password` are the Basic auth pair: the account SID and
   * auth token, or the API key SID and secret. At least one of `from` and `messagingServiceSid`.
   */
  twilio?: { accountSid: string; username: string; password: string; from?: string; messagingServiceSid?: string; apiUrl: string };
  /** Email (Resend): RESEND_API_KEY, EMAIL_FROM and RESEND_API_URL. */
  resend?: { apiKey: string; from: string; apiUrl: string };
}

/**
 * The notification settings. A provider whose settings are all unset is simply not configured
 * (its channel is skipped); one set only in part, a service-account JSON that does not parse or
 * lacks a field, a placeholder secret in production, or a stand-in URL in production is a
 * problem, so the deployment fails at start rather than on the first message.
 */
export function notificationsConfig(raw: RawSettings, production: boolean, problems: string[]): NotificationsConfig {
  const out: NotificationsConfig = { timeoutMs: raw.NOTIFY_TIMEOUT_MS };
  for (const name of ['FCM_API_URL', 'TWILIO_API_URL', 'RESEND_API_URL'] as const) {
    if (production && raw[name]) problems.push(`${name}: must not be set when APP_ENV=production`);
  }
  const secrets = { TWILIO_AUTH_TOKEN: raw.TWILIO_AUTH_TOKEN, TWILIO_API_KEY_SECRET: raw.TWILIO_API_KEY_SECRET, RESEND_API_KEY: raw.RESEND_API_KEY };
  for (const [name, value] of Object.entries(secrets)) {
    if (production && value !== undefined && isPlaceholder(value)) problems.push(`${name}: is a placeholder value; set the real secret`);
  }

  if (raw.FCM_SERVICE_ACCOUNT_JSON !== undefined) {
    const parsed = parseServiceAccount(raw.FCM_SERVICE_ACCOUNT_JSON);
    if (typeof parsed === 'string') problems.push(`FCM_SERVICE_ACCOUNT_JSON: ${parsed}`);
    else if (production && !parsed.tokenUri.startsWith('https://')) problems.push('FCM_SERVICE_ACCOUNT_JSON: token_uri must be https when APP_ENV=production');
    else out.fcm = { serviceAccount: parsed, apiUrl: (raw.FCM_API_URL ?? 'https://fcm.googleapis.com').replace(/\/+$/, '') };
  }

  const twilioSet = [raw.TWILIO_ACCOUNT_SID, raw.TWILIO_AUTH_TOKEN, raw.TWILIO_API_KEY_SID, raw.TWILIO_API_KEY_SECRET, raw.TWILIO_FROM, raw.TWILIO_MESSAGING_SERVICE_SID];
  if (twilioSet.some((v) => v !== undefined)) {
    const before = problems.length;
    if (!raw.TWILIO_ACCOUNT_SID) problems.push('TWILIO_ACCOUNT_SID: is required when any TWILIO_ setting is set');
    const apiKey = raw.TWILIO_API_KEY_SID !== undefined || raw.TWILIO_API_KEY_SECRET !== undefined;
    if (apiKey && (!raw.TWILIO_API_KEY_SID || !raw.TWILIO_API_KEY_SECRET)) problems.push('TWILIO_API_KEY_SID: and TWILIO_API_KEY_SECRET must be set together');
    if (!apiKey && !raw.TWILIO_AUTH_TOKEN) problems.push('TWILIO_AUTH_TOKEN: is required (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)');
    if (!raw.TWILIO_FROM && !raw.TWILIO_MESSAGING_SERVICE_SID) problems.push('TWILIO_FROM: or TWILIO_MESSAGING_SERVICE_SID is required to send SMS');
    if (problems.length === before && raw.TWILIO_ACCOUNT_SID) {
      out.twilio = {
        accountSid: raw.TWILIO_ACCOUNT_SID,
        username: apiKey ? raw.TWILIO_API_KEY_SID! : raw.TWILIO_ACCOUNT_SID,
        password: apiKey ? raw.TWILIO_API_KEY_SECRET! : raw.TWILIO_AUTH_TOKEN!,
        ...(raw.TWILIO_FROM ? { from: raw.TWILIO_FROM } : {}),
        ...(raw.TWILIO_MESSAGING_SERVICE_SID ? { messagingServiceSid: raw.TWILIO_MESSAGING_SERVICE_SID } : {}),
        apiUrl: (raw.TWILIO_API_URL ?? 'https://api.twilio.com').replace(/\/+$/, ''),
      };
    }
  }

  if (raw.RESEND_API_KEY !== undefined || raw.EMAIL_FROM !== undefined) {
    if (!raw.RESEND_API_KEY) problems.push('RESEND_API_KEY: is required when EMAIL_FROM is set');
    else if (!raw.EMAIL_FROM) problems.push('EMAIL_FROM: is required when RESEND_API_KEY is set');
    else out.resend = { apiKey: raw.RESEND_API_KEY, from: raw.EMAIL_FROM, apiUrl: (raw.RESEND_API_URL ?? 'https://api.resend.com').replace(/\/+$/, '') };
  }
  return out;
}
