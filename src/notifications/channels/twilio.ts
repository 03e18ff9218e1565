import type { ChannelClient, SendOutcome } from '../types.js';
import { clip, jsonObject, noAnswerError, providerRequest, retryAfterMs, type ChannelDeps, type ProviderAnswer } from './http.js';

export interface TwilioSettings {
  accountSid: string;
  /** Basic auth: the account SID and auth token, or an API key SID (SK…) and its secret. */
  username: string;
  password: string;
  from?: string;
  messagingServiceSid?: string;
  /** https://api.twilio.com, or a stand-in. */
  apiUrl: string;
  timeoutMs: number;
}

/**
 * What a Twilio "Create a Message" answer means
 * (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource;
 * error codes https://www.twilio.com/docs/api/errors):
 * - 201 → sent (providerMessageId = the message `sid`, SM…);
 * - 429 (20429 too many requests) → retry, after Retry-After when given; 5xx, timeout, network → retry;
 * - 401/403 (20003 authenticate: our credentials) → retry, fixable by the operator;
 * - 400 and other 4xx → failed, naming Twilio's code: 21211 invalid To, 21610 the recipient
 *   replied STOP, 21614 To is not a mobile number, 21617 body over 1600 characters, …
 */
export function twilioOutcome(answer: ProviderAnswer, now: Date): SendOutcome {
  if (answer.kind !== 'response') return { kind: 'retry', error: noAnswerError('twilio', answer) };
  const body = jsonObject(answer.text);
  if (answer.status === 201 || answer.status === 200) return { kind: 'sent', providerMessageId: typeof body?.sid === 'string' ? body.sid : '' };
  const error = clip(`twilio ${answer.status}${typeof body?.code === 'number' || typeof body?.code === 'string' ? ` ${body.code}` : ''}: ${typeof body?.message === 'string' ? body.message : answer.text}`);
  if (answer.status === 429) {
    const after = retryAfterMs(answer.headers.get('retry-after'), now);
    return { kind: 'retry', error, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  if (answer.status >= 500 || answer.status === 401 || answer.status === 403) return { kind: 'retry', error };
  if (answer.status >= 400) return { kind: 'failed', error };
  return { kind: 'retry', error };
}

/** btoa over UTF-8 (both runtimes have btoa; it takes Latin-1 only). */
function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * SMS over Twilio's Messages API: POST {apiUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json,
 * Basic auth, form-encoded To (E.164), Body, and MessagingServiceSid when configured (Twilio then
 * picks the sender) else From. Twilio has no idempotency key: the message's
 * `idempotencyKey` is logged, and a timeout is a retry that may, rarely, send twice. Never throws.
 */
export function createTwilioClient(settings: TwilioSettings, deps: ChannelDeps): ChannelClient {
  const url = `${settings.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const authorization = `Basic ${base64(`${settings.username}:${settings.password}`)}`;
  return {
    channel: 'sms',
    provider: 'twilio',
    async send(message) {
      try {
        const form = new URLSearchParams({ To: message.recipient, Body: message.body });
        if (settings.messagingServiceSid) form.set('MessagingServiceSid', settings.messagingServiceSid);
        else if (settings.from) form.set('From', settings.from);
        const answer = await providerRequest(
          deps,
          url,
          { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
          settings.timeoutMs,
        );
        if (answer.kind !== 'response') deps.logger.warn('twilio send unanswered: it may have been sent', { idempotencyKey: message.idempotencyKey, kind: answer.kind });
        return twilioOutcome(answer, deps.now());
      } catch (error) {
        return { kind: 'retry', error: clip(`twilio: ${error instanceof Error ? error.message : String(error)}`) };
      }
    },
  };
}
