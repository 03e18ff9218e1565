/**
 * stripe-stand-in, part: the test controls over HTTP (JSON), under `/__control/`, for tests
 * that cannot hold the in-process handle (e.g. code running inside workerd). Unauthenticated:
 * bind the stand-in to loopback only.
 */
import type http from 'node:http';
import type { FailMode, StripeStandIn } from './types.js';
import type { StripeEvent } from './store.js';
import type { StripeObject } from './util.js';

type Json = Record<string, unknown>;

async function readJson(req: http.IncomingMessage): Promise<Json> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 1024 * 1024) throw new Error('control body too large');
  }
  if (!text.trim()) return {};
  const v: unknown = JSON.parse(text);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('control body must be a JSON object');
  return v as Json;
}

const optNum = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${name} must be a number`);
  return v;
};
const optStr = (v: unknown, name: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${name} must be a string`);
  return v;
};
const reqStr = (v: unknown, name: string): string => {
  const s = optStr(v, name);
  if (!s) throw new Error(`${name} is required`);
  return s;
};

function eventFrom(standIn: StripeStandIn, b: Json): StripeEvent {
  if (b.event && typeof b.event === 'object') return b.event as StripeEvent;
  const type = reqStr(b.type, 'type');
  if (b.object && typeof b.object === 'object') return standIn.event(type, b.object as StripeObject);
  return standIn.event(type, reqStr(b.id, 'id'));
}

/** Handles `/__control/<name>`; answers 200 JSON, or 400/404 `{error: {message}}`. */
export async function controlRequest(
  standIn: StripeStandIn,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  name: string,
): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const route = `${req.method ?? 'GET'} ${name}`;
  try {
    const b = req.method === 'POST' ? await readJson(req) : {};
    switch (route) {
      case 'GET requests':
        return reply(200, standIn.requests());
      case 'GET state':
        return reply(200, standIn.state());
      case 'GET emitted-events':
        return reply(200, standIn.emittedEvents());
      case 'POST reset':
        standIn.reset();
        return reply(200, { ok: true });
      case 'POST fail-next': {
        const pathRegex = optStr(b.pathRegex, 'pathRegex');
        standIn.failNext({
          mode: reqStr(b.mode, 'mode') as FailMode,
          path: pathRegex !== undefined ? new RegExp(pathRegex) : optStr(b.path, 'path'),
          method: optStr(b.method, 'method'),
          times: optNum(b.times, 'times'),
          ms: optNum(b.ms, 'ms'),
          applyThenFail: b.applyThenFail === true,
          stored: b.stored === false ? false : undefined,
          declineCode: optStr(b.declineCode, 'declineCode'),
          code: optStr(b.code, 'code'),
          message: optStr(b.message, 'message'),
        });
        return reply(200, { ok: true });
      }
      case 'POST authorize': {
        const decline = b.decline === true || typeof b.decline === 'string' ? (b.decline as boolean | string) : undefined;
        const pi = standIn.authorize(reqStr(b.payment_intent, 'payment_intent'), {
          amount: optNum(b.amount, 'amount'),
          paymentMethod: optStr(b.payment_method, 'payment_method'),
          decline,
        });
        return reply(200, pi);
      }
      case 'POST dispute':
        return reply(200, standIn.dispute(reqStr(b.charge, 'charge'), { amount: optNum(b.amount, 'amount'), reason: optStr(b.reason, 'reason') }));
      case 'POST settle-refund': {
        const status = reqStr(b.status, 'status') as 'succeeded' | 'failed' | 'canceled';
        return reply(200, standIn.settleRefund(reqStr(b.refund, 'refund'), status, { failureReason: optStr(b.failure_reason, 'failure_reason') }));
      }
      case 'POST advance-time':
        standIn.advanceTime(optNum(b.seconds, 'seconds') ?? 0);
        return reply(200, { ok: true });
      case 'POST event':
        return reply(200, eventFrom(standIn, b));
      case 'POST signed-event': {
        const event = eventFrom(standIn, b);
        const signed = standIn.signedEvent(event, reqStr(b.secret, 'secret'), { timestamp: optNum(b.timestamp, 'timestamp') });
        return reply(200, { event, ...signed });
      }
      default:
        return reply(404, { error: { message: `no control endpoint ${route}` } });
    }
  } catch (e) {
    reply(400, { error: { message: e instanceof Error ? e.message : String(e) } });
  }
}
