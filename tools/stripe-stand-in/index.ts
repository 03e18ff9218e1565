/**
 * stripe-stand-in: a local stand-in for the part of Stripe's REST API the laundry API uses, so
 * the REAL stripe-node SDK (and webhook verification) runs unchanged in tests, offline.
 *
 *   npx tsx tools/stripe-stand-in/index.ts --port 12111 [--host 127.0.0.1] [--api-key sk_test_…]
 *
 *   new Stripe('sk_test_…', { host: '127.0.0.1', port: 12111, protocol: 'http',
 *     httpClient: Stripe.createFetchHttpClient(), apiVersion: '2026-10-28.endive', maxNetworkRetries: 0 })
 *
 * Wire: form-encoded bodies with bracket notation (`metadata[k]=v`, `expand[0]=…`), JSON
 * answers; errors are `{"error": {type, code, message, param, decline_code?, payment_intent?}}`
 * with 400/401/402/404/500 so the SDK raises its typed errors. `Authorization: Bearer sk_test_…`
 * (or Basic) is required. POSTs honour `Idempotency-Key` per API key like Stripe
 * (https://docs.stripe.com/api/idempotent_requests; idempotency.ts): the first answer, 500s
 * included, is stored (unless the parameters failed validation) and replayed with
 * `Idempotent-Replayed: true` for the same parameters; other parameters → 400 idempotency_error.
 * Keys expire after 24 h of the stand-in's clock (advanceTime), then the key executes afresh.
 *
 * Resources: customers (create/retrieve/update/list/delete), payment_methods (retrieve, attach, detach,
 * customer's list; `pm_card_visa`, `pm_card_chargeDeclined…`, `pm_card_authenticationRequired`,
 * `pm_card_pendingRefund`, `pm_card_refundFail` test ids), payment_intents
 * (create/retrieve/update/list by customer and created/confirm/capture/cancel), charges, refunds
 * (pending/succeeded/failed/canceled), disputes (retrieve), ephemeral_keys (Stripe-Version
 * required), customer_sessions, events. Parameters follow API version 2026-10-28.endive; unknown
 * ones are rejected (400 parameter_unknown) like Stripe does.
 * Parts: tools/stripe-stand-in/{types,util,store,idempotency,failures,customers,payments,charges,refunds,events,routes,control}.ts.
 *
 * Test controls, in-process on the returned handle and over HTTP (JSON) under `/__control/`:
 *   GET requests · POST reset · POST fail-next {mode, path?|pathRegex?, method?, times?, ms?,
 *   applyThenFail?, stored?, declineCode?} · POST authorize {payment_intent, amount?,
 *   payment_method?, decline?} · POST dispute {charge, amount?, reason?} · POST settle-refund
 *   {refund, status: succeeded|failed|canceled, failure_reason?} · POST advance-time {seconds} ·
 *   POST event {type, id|object} · POST signed-event {secret, event | type + id|object,
 *   timestamp?} → {event, payload, header} · GET emitted-events · GET state
 *
 * failNext: `server_error` answers 500 api_error and, like Stripe, that 500 is the key's stored
 * answer: a retry with the same key gets the same 500 (`stored: false`: a 500 from in front of
 * Stripe's idempotency layer, not stored — only for tests that mean "never reached Stripe").
 * `timeout` holds the request open for `ms` (default 30 000) and then destroys the socket without
 * an answer; `disconnect` destroys it at once (note: stripe-node's Node http client retries a
 * reset connection once, even with maxNetworkRetries 0; its fetch client does not). None of these
 * applies the request; timeout and disconnect store nothing, so a retry with the same key
 * executes afresh — unless `applyThenFail: true`: the request is executed and its answer stored,
 * then the failure is sent instead, so a retry with the same key gets the stored answer (one
 * effect); with `server_error` the stored answer is the 500 (unless `stored: false`).
 * `decline`: the next confirming request (create with confirm=true, or /confirm) is a 402
 * card_error `card_declined` (decline_code from `declineCode`, default generic_decline).
 * advanceTime: holds past capture_before are canceled (`automatic`), keys older than 24 h are
 * forgotten. What is strict like Stripe, with the docs it follows: README.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { StripeState, type RequestContext } from './store.js';
import { authorizePaymentIntent, expireAuthorizations } from './payments.js';
import { charge, disputeFor } from './charges.js';
import { settleRefund } from './refunds.js';
import { dispatch } from './routes.js';
import {
  apiKeyOf,
  BodyTooLarge,
  canonical,
  clone,
  decodeForm,
  MAX_BODY_BYTES,
  randomToken,
  readBody,
  StripeApiError,
} from './util.js';
import { eventFor, signEvent } from './events.js';
import { controlRequest } from './control.js';
import { IdempotencyStore, INJECTED_SERVER_ERROR } from './idempotency.js';
import { FailureRules, sendJson } from './failures.js';
import { runIfEntryPoint, stopOnSignals } from '../shared/entry.js';
import type { RecordedRequest, StartStripeStandInOptions, StripeStandIn } from './types.js';

export { DEFAULT_API_VERSION, type PaymentIntent, type StripeEvent } from './store.js';
export type { AuthorizeOptions } from './payments.js';
export type { Refund, RefundStatus, SettleRefundOptions } from './refunds.js';
export type { StripeObject } from './util.js';

export { MAX_BODY_BYTES } from './util.js';
export { DEFAULT_TIMEOUT_HOLD_MS } from './failures.js';

export type {
  FailMode,
  FailNextOptions,
  RecordedRequest,
  SignedEvent,
  StartStripeStandInOptions,
  StripeStandIn,
  StripeStandInState,
} from './types.js';

export async function startStripeStandIn(opts: StartStripeStandInOptions = {}): Promise<StripeStandIn> {
  const host = opts.host ?? '127.0.0.1';
  const state = new StripeState();
  const failures = new FailureRules();
  let recorded: RecordedRequest[] = [];
  const idempotency = new IdempotencyStore(() => state.nowMs());

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const requestId = `req_${randomToken(14)}`;
    const idempotencyKey = method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) ?? null : null;
    const stripeVersion = (req.headers['stripe-version'] as string | undefined) ?? null;
    const headers: Record<string, string> = { 'request-id': requestId, 'stripe-version': stripeVersion ?? state.apiVersion };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const rec: RecordedRequest = {
      method, path, query: decodeForm(url.search.slice(1)), form: {}, idempotencyKey, stripeVersion, at: Date.now(), status: null, outcome: 'ok',
    };
    recorded.push(rec);
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      rec.status = status;
      if (status >= 400 && rec.outcome === 'ok') rec.outcome = 'error';
      sendJson(res, status, typeof body === 'string' ? body : JSON.stringify(body), { ...headers, ...extra });
    };

    let text: string;
    try {
      text = await readBody(req);
    } catch (e) {
      if (!(e instanceof BodyTooLarge)) throw e;
      res.on('finish', () => req.destroy());
      return answer(413, { error: { type: 'invalid_request_error', message: `Request body larger than ${MAX_BODY_BYTES} bytes.` } }, { connection: 'close' });
    }
    rec.form = method === 'POST' ? decodeForm(text) : rec.query;
    const key = apiKeyOf(req);
    if (!key || !(opts.apiKey ? key === opts.apiKey : key.startsWith('sk_test_'))) {
      const message = key
        ? `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(4)}${key.slice(-4)}`
        : 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').';
      return answer(401, { error: { type: 'invalid_request_error', message } }, { 'www-authenticate': 'Bearer realm="Stripe"' });
    }
    if (idempotencyKey && idempotencyKey.length > 255) {
      const message = 'Idempotency-Key must be at most 255 characters long.';
      return answer(400, { error: { type: 'invalid_request_error', param: 'Idempotency-Key', message } });
    }
    // Stripe refuses a Stripe-Version that is not an API version (`YYYY-MM-DD[.name]`, betas after `;`).
    if (stripeVersion !== null && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?(;\s*[\w.=-]+)*$/.test(stripeVersion)) {
      return answer(400, { error: { type: 'invalid_request_error', message: `Invalid Stripe API version: ${stripeVersion}` } });
    }

    const rule = failures.take(method, path, false);
    const fingerprint = `${method} ${path} ${canonical(rec.form)}`;
    // An injected 500 is an answer Stripe gave, so it is the key's stored result (unless `stored: false`).
    const keeps500 = rule?.mode === 'server_error' && rule.stored !== false;
    const save500 = () => idempotencyKey && idempotency.save(key, idempotencyKey, { fingerprint, status: 500, body: INJECTED_SERVER_ERROR, requestId });
    const found = idempotencyKey ? idempotency.lookup(key, idempotencyKey, fingerprint) : ({ kind: 'new' } as const);
    if (rule && !rule.applyThenFail) {
      if (keeps500 && found.kind === 'new') save500();
      return failures.fail(res, rule, rec, headers);
    }

    let status: number;
    let body: string;
    let replayHeaders: Record<string, string> = {};
    if (found.kind === 'mismatch') {
      [status, body] = [found.status, found.body];
    } else if (found.kind === 'replay') {
      [status, body] = [found.answer.status, found.answer.body];
      replayHeaders = { 'idempotent-replayed': 'true', 'original-request': found.answer.requestId };
      rec.outcome = 'replayed';
    } else {
      const ctx: RequestContext = {
        requestId,
        idempotencyKey,
        stripeVersion,
        takeDecline: () => {
          const d = failures.take(method, path, true);
          return d && { code: d.code ?? 'card_declined', decline_code: d.declineCode ?? 'generic_decline', message: d.message ?? 'Your card was declined.' };
        },
      };
      let store = true;
      try {
        expireAuthorizations(state);
        [status, body] = [200, JSON.stringify(dispatch(state, method, path, rec.form, ctx))];
      } catch (e) {
        if (!(e instanceof StripeApiError)) {
          console.error('stripe-stand-in: internal error', e);
          store = false;
          [status, body] = [500, JSON.stringify({ error: { type: 'api_error', message: `Stripe stand-in internal error: ${String(e)}` } })];
        } else {
          store = e.stored;
          [status, body] = [e.status, JSON.stringify({ error: e.body })];
        }
      }
      if (idempotencyKey && store) idempotency.save(key, idempotencyKey, { fingerprint, status, body, requestId });
      if (rule && keeps500 && found.kind === 'new') save500(); // applied, but the answer Stripe gave (and keeps) was the 500
    }
    if (rule) return failures.fail(res, rule, rec, headers);
    answer(status, body, replayHeaders);
  }

  const handle: StripeStandIn = {
    url: '',
    host,
    port: 0,
    protocol: 'http',
    requests: () => clone(recorded),
    reset: () => {
      state.reset();
      failures.clear();
      recorded = [];
      idempotency.clear();
    },
    failNext: (o) => failures.add(o),
    authorize: (id, o) => clone(authorizePaymentIntent(state, id, o)),
    dispute: (chargeId, o) => clone(disputeFor(state, charge(state, chargeId), o, true)),
    settleRefund: (id, status, o) => clone(settleRefund(state, id, status, o)),
    advanceTime: (seconds) => {
      state.clockOffsetMs += seconds * 1000;
      expireAuthorizations(state);
    },
    event: (type, object) => eventFor(state, type, object),
    signedEvent: (event, secret, o = {}) => signEvent(event, secret, o.timestamp),
    emittedEvents: () => clone(state.events),
    state: () => state.snapshot(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        failures.dropHeld();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const work = url.pathname.startsWith('/__control/')
      ? controlRequest(handle, req, res, url.pathname.slice('/__control/'.length))
      : handleApi(req, res, url);
    work.catch((e: unknown) => {
      console.error('stripe-stand-in: internal error', e);
      if (!res.headersSent) sendJson(res, 500, JSON.stringify({ error: { type: 'api_error', message: String(e) } }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => (server.off('error', reject), resolve()));
  });
  if (opts.unref) server.unref();
  handle.port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  handle.url = `http://${urlHost}:${handle.port}`;
  return handle;
}

// ------------------------------------------------------------------------------------- CLI

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '12111' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: tsx tools/stripe-stand-in/index.ts [--port 12111] [--host 127.0.0.1] [--api-key sk_test_…]');
    return;
  }
  const standIn = await startStripeStandIn({ port: Number(values.port), host: values.host, apiKey: values['api-key'] });
  console.log(`stripe-stand-in: listening on ${standIn.url} (controls under ${standIn.url}/__control/)`);
  stopOnSignals('stripe-stand-in', () => standIn.close());
}

runIfEntryPoint(import.meta.url, main);
