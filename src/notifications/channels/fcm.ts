import type { ChannelClient, RenderedMessage, SendOutcome } from '../types.js';
import { FCM_SCOPE, GoogleAccessTokens } from '../google-oauth.js';
import { clip, jsonObject, noAnswerError, providerRequest, retryAfterMs, type ChannelDeps, type ProviderAnswer } from './http.js';
import type { ServiceAccount } from './service-account.js';

export interface FcmSettings {
  serviceAccount: ServiceAccount;
  /** https://fcm.googleapis.com, or a stand-in. */
  apiUrl: string;
  /** One request's upper bound, ms (NOTIFY_TIMEOUT_MS), for the token request and the send alike. */
  timeoutMs: number;
}

/** Types the customer must act on or be at the door for: delivered at once (Android HIGH, APNs 10); the rest NORMAL / 5. */
const URGENT: ReadonlySet<string> = new Set(['out_for_delivery', 'payment_action_required', 'pickup_reminder']);

/** The FCM error detail that names the cause: `error.details[]` of `@type` …google.firebase.fcm.v1.FcmError. */
function fcmErrorCode(body: Record<string, unknown> | undefined): { status?: string; errorCode?: string; message?: string } {
  const error = body?.error as { status?: unknown; message?: unknown; details?: unknown } | undefined;
  if (!error || typeof error !== 'object') return {};
  const details = Array.isArray(error.details) ? (error.details as Array<Record<string, unknown>>) : [];
  const fcm = details.find((d) => typeof d?.['@type'] === 'string' && (d['@type']).endsWith('google.firebase.fcm.v1.FcmError'));
  return {
    ...(typeof error.status === 'string' ? { status: error.status } : {}),
    ...(typeof fcm?.errorCode === 'string' ? { errorCode: fcm.errorCode } : {}),
    ...(typeof error.message === 'string' ? { message: error.message } : {}),
  };
}

/**
 * What an FCM HTTP v1 answer means for the delivery. Source: "FCM error codes",
 * https://firebase.google.com/docs/cloud-messaging/error-codes (REST error codes for the HTTP v1
 * API; the FcmError detail carries the FCM-specific code).
 * - 200 `{name: "projects/…/messages/…"}` → sent (providerMessageId = name);
 * - 404, or any answer whose FcmError is UNREGISTERED → unregistered (the app was uninstalled or
 *   the token expired: the device row goes);
 * - 429 QUOTA_EXCEEDED, 503 UNAVAILABLE → retry, after Retry-After when given;
 *   500 INTERNAL, 502, 504, a timeout, a network error → retry;
 * - 401 (left after one refreshed token), 403 other than SENDER_ID_MISMATCH → retry: our own
 *   credentials or project permission, fixable by the operator, so the message is not dropped;
 * - 400 INVALID_ARGUMENT, 403 SENDER_ID_MISMATCH (the token belongs to another project), any other
 *   4xx → failed;
 * - anything else → retry.
 */
export function fcmOutcome(answer: ProviderAnswer, now: Date): SendOutcome {
  if (answer.kind !== 'response') return { kind: 'retry', error: noAnswerError('fcm', answer) };
  const body = jsonObject(answer.text);
  const { status: s, errorCode, message } = fcmErrorCode(body);
  if (answer.status === 200) return { kind: 'sent', providerMessageId: typeof body?.name === 'string' ? body.name : '' };
  const error = clip(`fcm ${answer.status} ${errorCode ?? s ?? ''}: ${message ?? answer.text}`);
  if (answer.status === 404 || errorCode === 'UNREGISTERED') return { kind: 'unregistered', error };
  if (answer.status === 429 || answer.status === 503) {
    const after = retryAfterMs(answer.headers.get('retry-after'), now);
    return { kind: 'retry', error, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  if (answer.status === 500 || answer.status === 502 || answer.status === 504) return { kind: 'retry', error };
  if (answer.status === 401 || (answer.status === 403 && errorCode !== 'SENDER_ID_MISMATCH')) return { kind: 'retry', error };
  if (answer.status >= 400 && answer.status < 500) return { kind: 'failed', error };
  return { kind: 'retry', error };
}

/**
 * The FCM HTTP v1 `messages:send` body (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages):
 * a notification message to one registration token, `data` string values only, Android priority
 * and the APNs priority header to match.
 */
export function fcmMessage(m: RenderedMessage): Record<string, unknown> {
  const urgent = URGENT.has(m.type);
  return {
    message: {
      token: m.recipient,
      notification: { title: m.title, body: m.body },
      data: m.data,
      android: { priority: urgent ? 'HIGH' : 'NORMAL' },
      apns: { headers: { 'apns-priority': urgent ? '10' : '5' }, payload: { aps: { sound: 'default' } } },
    },
  };
}

/**
 * Push over FCM HTTP v1 with a service account's OAuth 2.0 access token (src/notifications/google-oauth.ts).
 * A 401 from FCM drops the cached token and the send is tried once more with a fresh one.
 * A token endpoint that refuses us (invalid_grant) or is down is a `retry` naming google_oauth.
 * Never throws.
 */
export function createFcmClient(settings: FcmSettings, deps: ChannelDeps): ChannelClient {
  const tokens = new GoogleAccessTokens(settings.serviceAccount, FCM_SCOPE, deps, settings.timeoutMs);
  const url = `${settings.apiUrl}/v1/projects/${encodeURIComponent(settings.serviceAccount.projectId)}/messages:send`;
  return {
    channel: 'push',
    provider: 'fcm',
    async send(message) {
      try {
        const body = JSON.stringify(fcmMessage(message));
        for (let attempt = 1; ; attempt++) {
          const token = await tokens.token();
          if (!token.ok) {
            if (!token.transient) deps.logger.error('fcm access token refused', { error: token.error });
            return { kind: 'retry', error: token.error, ...(token.retryAfterMs !== undefined ? { retryAfterMs: token.retryAfterMs } : {}) };
          }
          const answer = await providerRequest(
            deps,
            url,
            { method: 'POST', headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json; charset=utf-8' }, body },
            settings.timeoutMs,
          );
          if (answer.kind === 'response' && answer.status === 401 && attempt === 1) {
            tokens.invalidate(token.token);
            continue;
          }
          return fcmOutcome(answer, deps.now());
        }
      } catch (error) {
        return { kind: 'retry', error: clip(`fcm: ${error instanceof Error ? error.message : String(error)}`) };
      }
    },
  };
}
