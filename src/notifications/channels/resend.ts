import type { ChannelClient, SendOutcome } from '../types.js';
import { clip, jsonObject, noAnswerError, providerRequest, retryAfterMs, type ChannelDeps, type ProviderAnswer } from './http.js';

export interface ResendSettings {
  apiKey: string;
  /** EMAIL_FROM: `Name <address@verified-domain>`. */
  from: string;
  /** https://api.resend.com, or a stand-in. */
  apiUrl: string;
  timeoutMs: number;
}

/**
 * What a Resend "Send Email" answer means (https://resend.com/docs/api-reference/emails/send-email,
 * errors https://resend.com/docs/api-reference/errors):
 * - 200 `{id}` → sent (providerMessageId = id); a replay of an idempotent request answers the
 *   first request's id again;
 * - 429 (rate_limit_exceeded, daily/monthly_quota_exceeded) → retry after Retry-After, else after
 *   the `ratelimit-reset` seconds; 5xx, timeout, network → retry;
 * - 409 concurrent_idempotent_requests (the first request with this key is still running) → retry:
 *   the next try is answered with the first one's result;
 * - 409 invalid_idempotent_request (the same key was used with a different body: the rendered
 *   message changed between tries) → failed; a new body needs a new key;
 * - 401 missing/restricted key, 403 invalid_api_key (our credentials) → retry, fixable by the operator;
 * - 400/422 validation_error, missing_required_field, invalid_idempotency_key, other 4xx → failed.
 */
export function resendOutcome(answer: ProviderAnswer, now: Date): SendOutcome {
  if (answer.kind !== 'response') return { kind: 'retry', error: noAnswerError('resend', answer) };
  const body = jsonObject(answer.text);
  if (answer.status === 200) return { kind: 'sent', providerMessageId: typeof body?.id === 'string' ? body.id : '' };
  const name = typeof body?.name === 'string' ? body.name : '';
  const error = clip(`resend ${answer.status}${name ? ` ${name}` : ''}: ${typeof body?.message === 'string' ? body.message : answer.text}`);
  if (answer.status === 429) {
    const after = retryAfterMs(answer.headers.get('retry-after'), now) ?? retryAfterMs(answer.headers.get('ratelimit-reset'), now);
    return { kind: 'retry', error, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  if (answer.status >= 500) return { kind: 'retry', error };
  if (answer.status === 409) return name === 'concurrent_idempotent_requests' ? { kind: 'retry', error } : { kind: 'failed', error };
  if (answer.status === 401 || (answer.status === 403 && name === 'invalid_api_key')) return { kind: 'retry', error };
  if (answer.status >= 400) return { kind: 'failed', error };
  return { kind: 'retry', error };
}

/**
 * Email over Resend: POST {apiUrl}/emails, `Authorization: Bearer RESEND_API_KEY`, JSON
 * {from, to: [recipient], subject: title, text: body}, and `Idempotency-Key: idempotencyKey`.
 * Resend keeps a key 24 hours and answers a repeat with the first response without sending again
 * (https://resend.com/docs/dashboard/emails/idempotency-keys), so a retry after a timeout is not a
 * second email. Chosen for that and because it is a plain fetch API (runs on Workers). Never throws.
 */
export function createResendClient(settings: ResendSettings, deps: ChannelDeps): ChannelClient {
  const url = `${settings.apiUrl}/emails`;
  return {
    channel: 'email',
    provider: 'resend',
    async send(message) {
      try {
        const answer = await providerRequest(
          deps,
          url,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${settings.apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': message.idempotencyKey,
            },
            body: JSON.stringify({ from: settings.from, to: [message.recipient], subject: message.title, text: message.body }),
          },
          settings.timeoutMs,
        );
        return resendOutcome(answer, deps.now());
      } catch (error) {
        return { kind: 'retry', error: clip(`resend: ${error instanceof Error ? error.message : String(error)}`) };
      }
    },
  };
}
