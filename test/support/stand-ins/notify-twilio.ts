/**
 * Twilio's "Create a Message" (POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
 * https://www.twilio.com/docs/messaging/api/message-resource), strict: Basic auth with the
 * account SID + auth token or an API key SID + secret of that account (else 401 20003); a
 * form-encoded body with To (E.164, else 21211), Body (≤ 1600 characters, else 21617; required,
 * 21602), and From (one of the account's numbers, else 21606) or MessagingServiceSid (the
 * account's, else 21705; one of the two required, 21603). Recipients can be marked as having
 * replied STOP (21610) or as landlines (21614). Answers 201 with the message resource (sid SM…).
 * Errors are Twilio's JSON {code, message, more_info, status}.
 */
import { FaultQueue, formBody, randomHex, startServer, type Fault, type StandInAnswer } from './notify-http.js';

export interface TwilioRecord {
  auth: string;
  form: Record<string, string>;
  status: number | null;
  code?: number;
}

export interface TwilioStandIn {
  url: string;
  accountSid: string;
  authToken: string;
  apiKeySid: string;
  apiKeySecret: string;
  from: string;
  messagingServiceSid: string;
  requests: TwilioRecord[];
  /** Messages accepted (201). */
  messages: Array<{ sid: string; to: string; body: string; from: string | null; messagingServiceSid: string | null }>;
  failNext(fault: Fault, times?: number): void;
  /** The number replied STOP: 21610 from now on. */
  optOut(number: string): void;
  /** The number is a landline: 21614. */
  landline(number: string): void;
  /** Drops queued faults, opt-outs and landlines. */
  clearFaults(): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const twilioError = (status: number, code: number, message: string): StandInAnswer => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

export async function startTwilioStandIn(): Promise<TwilioStandIn> {
  const accountSid = `AC${randomHex(32)}`;
  const authToken = randomHex(32);
  const apiKeySid = `SK${randomHex(32)}`;
  const apiKeySecret = randomHex(32);
  const from = '+15005550006';
  const messagingServiceSid = `MG${randomHex(32)}`;
  const faults = new FaultQueue();
  const stopped = new Set<string>();
  const landlines = new Set<string>();
  const requests: TwilioRecord[] = [];
  const messages: TwilioStandIn['messages'] = [];

  const server = await startServer((req) => {
    const form = formBody(req);
    const record: TwilioRecord = { auth: '', form: Object.fromEntries(form ?? []), status: null };
    requests.push(record);
    const done = (a: StandInAnswer) => {
      record.status = a.status;
      const code = (a.body as { code?: number } | undefined)?.code;
      if (code !== undefined) record.code = code;
      return a;
    };
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.path);
    if (req.method !== 'POST' || !m) return done(twilioError(404, 20404, 'The requested resource was not found'));
    const auth = String(req.headers.authorization ?? '');
    const [user, pass] = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':') : [];
    record.auth = user ?? '';
    const ok = (user === accountSid && pass === authToken) || (user === apiKeySid && pass === apiKeySecret);
    if (!ok) return done(twilioError(401, 20003, 'Authenticate'));
    if (m[1] !== accountSid) return done(twilioError(404, 20404, `The requested resource /2010-04-01/Accounts/${m[1]}/Messages.json was not found`));
    const fault = faults.take();
    if (fault && 'hang' in fault) return undefined;
    if (fault) {
      const a = fault.status === 429 ? twilioError(429, 20429, 'Too Many Requests') : twilioError(fault.status, 20500, 'An internal server error has occurred');
      return done({ ...a, ...(fault.retryAfter ? { headers: { 'retry-after': fault.retryAfter } } : {}) });
    }
    const to = form?.get('To') ?? '';
    const body = form?.get('Body') ?? '';
    const fromField = form?.get('From') ?? '';
    const service = form?.get('MessagingServiceSid') ?? '';
    if (!to) return done(twilioError(400, 21604, "A 'To' phone number is required."));
    if (!fromField && !service) return done(twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."));
    if (!body && !form?.get('MediaUrl')) return done(twilioError(400, 21602, 'Message body is required.'));
    if (!E164.test(to)) return done(twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`));
    if (service && service !== messagingServiceSid) return done(twilioError(400, 21705, 'The Messaging Service is invalid'));
    if (!service && fromField !== from) return done(twilioError(400, 21606, `The From phone number ${fromField} is not a valid, SMS-capable inbound phone number or short code for your account.`));
    if ([...body].length > 1600) return done(twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'));
    if (stopped.has(to)) return done(twilioError(400, 21610, 'Attempt to send to unsubscribed recipient'));
    if (landlines.has(to)) return done(twilioError(400, 21614, `'To' number ${to} is not a valid mobile number`));
    const sid = `SM${randomHex(32)}`;
    messages.push({ sid, to, body, from: service ? null : fromField, messagingServiceSid: service || null });
    return done({
      status: 201,
      body: {
        sid,
        account_sid: accountSid,
        api_version: '2010-04-01',
        body,
        to,
        from: service ? null : fromField,
        messaging_service_sid: service || null,
        status: service ? 'accepted' : 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        date_created: new Date().toUTCString(),
        error_code: null,
        error_message: null,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      },
    });
  });

  return {
    url: server.url,
    accountSid,
    authToken,
    apiKeySid,
    apiKeySecret,
    from,
    messagingServiceSid,
    requests,
    messages,
    failNext: (fault, times) => faults.push(fault, times),
    optOut: (n) => stopped.add(n),
    landline: (n) => landlines.add(n),
    clearFaults: () => {
      faults.clear();
      stopped.clear();
      landlines.clear();
    },
    close: () => server.close(),
  };
}
