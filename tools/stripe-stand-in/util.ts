/**
 * stripe-stand-in, part: wire helpers shared by the store and the server — ids, the
 * `application/x-www-form-urlencoded` bracket decoding stripe-node uses, parameter
 * validation, and Stripe-shaped API errors. See tools/stripe-stand-in/index.ts.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';

/** A decoded form/query: strings, nested objects and arrays (`a[b]=`, `a[0]=`, `a[]=`). */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Form = { [key: string]: FormValue };

/** Any Stripe-shaped JSON object held by the stand-in. */
export type StripeObject = { id: string; object: string; [key: string]: unknown };

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomToken(length = 24): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** `cus_…`, `pi_…`: prefix plus 24 base62 characters, like Stripe's ids. */
export function newId(prefix: string): string {
  return `${prefix}_${randomToken(24)}`;
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Decodes `a[b][0]=x&c[]=y` into nested objects; objects keyed 0..n-1 become arrays. */
export function decodeForm(text: string): Form {
  const root: Form = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const m = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    const path = m ? [m[1]!, ...[...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]!)] : [rawKey];
    let node: { [key: string]: FormValue } = root;
    path.forEach((segment, i) => {
      const key = segment === '' ? String(Object.keys(node).length) : segment; // `a[]=` appends
      if (i === path.length - 1) {
        node[key] = value;
        return;
      }
      const next = node[key];
      if (typeof next === 'object' && !Array.isArray(next)) node = next;
      else node = node[key] = {};
    });
  }
  return arrayify(root) as Form;
}

function arrayify(value: FormValue): FormValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(arrayify);
  const keys = Object.keys(value);
  const out: { [key: string]: FormValue } = {};
  for (const k of keys) out[k] = arrayify(value[k]!);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => out[k]!);
  return out;
}

/** Order-independent serialisation, for comparing the parameters of idempotent requests. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export interface StripeErrorBody {
  type: 'invalid_request_error' | 'card_error' | 'idempotency_error' | 'api_error';
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
}

/**
 * An error answered in Stripe's `{"error": {...}}` shape. `stored` says whether Stripe would
 * save it as the idempotent result: it does once the endpoint started executing (state
 * errors, declines), not when the parameters failed validation.
 */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly stored = true,
  ) {
    super(body.message);
  }
}

export function invalidParam(param: string, message: string, code = 'parameter_invalid'): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', code, param, message }, false);
}

export function missing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(
    404,
    { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` },
    false,
  );
}

export function unexpectedState(message: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code: 'payment_intent_unexpected_state',
    message,
    doc_url: 'https://stripe.com/docs/error-codes/payment-intent-unexpected-state',
  });
}

/** Typed, validating access to one request's decoded parameters. */
export class Params {
  constructor(
    readonly form: Form,
    allowed: readonly string[],
  ) {
    for (const key of Object.keys(form)) {
      if (key !== 'expand' && !allowed.includes(key)) {
        throw invalidParam(key, `Received unknown parameter: ${key}`, 'parameter_unknown');
      }
    }
  }

  has(name: string): boolean {
    return this.form[name] !== undefined;
  }

  /** A string, or null when absent or sent empty (Stripe's "unset"). */
  str(name: string): string | null {
    const v = this.form[name];
    if (v === undefined || v === '') return null;
    if (typeof v !== 'string') throw invalidParam(name, `Invalid string: ${name} must be a string`);
    return v;
  }

  required(name: string): string {
    const v = this.str(name);
    if (v === null) throw invalidParam(name, `Missing required param: ${name}.`, 'parameter_missing');
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | null {
    const v = this.str(name);
    if (v !== null && !values.includes(v as T)) {
      throw invalidParam(name, `Invalid ${name}: must be one of ${values.join(', ')}`);
    }
    return v as T | null;
  }

  int(name: string, value: FormValue | undefined = this.form[name]): number | null {
    if (value === undefined || value === '') return null;
    if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
      throw invalidParam(name, `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
    return Number(value);
  }

  bool(name: string): boolean | null {
    const v = this.str(name);
    if (v === null) return null;
    if (v !== 'true' && v !== 'false') throw invalidParam(name, `Invalid boolean: ${v}`);
    return v === 'true';
  }

  obj(name: string): { [key: string]: FormValue } | null {
    const v = this.form[name];
    if (v === undefined || v === '') return null;
    if (typeof v !== 'object' || Array.isArray(v)) throw invalidParam(name, `Invalid object: ${name}`);
    return v;
  }

  /** Validated metadata; `existing` is merged into (an empty value deletes a key), as on update. */
  metadata(existing: Record<string, string> = {}): Record<string, string> {
    if (this.form.metadata === '') return {};
    const m = this.obj('metadata');
    const out = { ...existing };
    if (!m) return out;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'string') throw invalidParam(`metadata[${k}]`, 'Invalid metadata value: must be a string');
      if (k.length > 40) throw invalidParam('metadata', `Metadata keys can have up to 40 characters: ${k}`);
      if (v.length > 500) throw invalidParam(`metadata[${k}]`, 'Metadata values can have up to 500 characters');
      if (v === '') delete out[k];
      else out[k] = v;
    }
    if (Object.keys(out).length > 50) throw invalidParam('metadata', 'Metadata can have up to 50 keys');
    return out;
  }

  /** `expand[]` paths. */
  expand(): string[] {
    const v = this.form.expand;
    if (v === undefined) return [];
    const list = Array.isArray(v) ? v : [v];
    return list.filter((x): x is string => typeof x === 'string');
  }
}

/** Card brand, last4 and test behaviour of Stripe's documented test PaymentMethods (`pm_card_*`). */
export interface TestCard {
  brand: string;
  last4: string;
  decline?: { code: string; decline_code: string; message: string };
  authenticationRequired?: boolean;
  /** Refunds of its charges begin `pending` (pm_card_pendingRefund) or later `fail` (pm_card_refundFail). */
  refund?: 'pending' | 'fail';
}

const DECLINES: Record<string, TestCard['decline']> = {
  chargedeclined: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  chargedeclinedinsufficientfunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  chargedeclinedlostcard: { code: 'card_declined', decline_code: 'lost_card', message: 'Your card was declined.' },
  chargedeclinedstolencard: { code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.' },
  chargedeclinedexpiredcard: { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' },
  chargedeclinedincorrectcvc: { code: 'incorrect_cvc', decline_code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  chargedeclinedprocessingerror: { code: 'processing_error', decline_code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  // 4000 0000 0000 0341: "Attaching this card to a Customer object succeeds, but attempts to charge the customer fail"
  // (https://docs.stripe.com/testing#declined-payments): the saved card an off-session charge finds declined.
  chargecustomerfail: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
};

/** `pm_card_visa`, `pm_card_mastercard`, `pm_card_visa_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`, `pm_card_chargeCustomerFail`, `pm_card_authenticationRequired`, `pm_card_pendingRefund`, `pm_card_refundFail`… (https://docs.stripe.com/testing) */
export function testCard(id: string): TestCard | null {
  if (!id.startsWith('pm_card_')) return null;
  const rest = id.slice('pm_card_'.length).toLowerCase();
  const brand = /^(visa|mastercard|amex|discover)/.exec(rest)?.[1] ?? 'visa';
  const behaviour = rest.replace(/^(visa|mastercard|amex|discover)_?(debit_?)?/, '');
  const last4 = { visa: '4242', mastercard: '4444', amex: '8431', discover: '1117' }[brand] ?? '4242';
  if (behaviour === '') return { brand, last4 };
  if (behaviour.startsWith('authenticationrequired')) return { brand, last4: '3184', authenticationRequired: true };
  if (behaviour === 'chargecustomerfail') return { brand, last4: '0341', decline: DECLINES.chargecustomerfail };
  if (behaviour === 'pendingrefund') return { brand, last4: '7726', refund: 'pending' };
  if (behaviour === 'refundfail') return { brand, last4: '5126', refund: 'fail' };
  const decline = DECLINES[behaviour];
  return decline ? { brand, last4: '0002', decline } : null;
}

// ------------------------------------------------------------------------------------ HTTP

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLarge extends Error {}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function pathMatches(rule: { method?: string; path?: RegExp | string }, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method) return false;
  if (rule.path === undefined) return true;
  if (rule.path instanceof RegExp) {
    rule.path.lastIndex = 0;
    return rule.path.test(path);
  }
  const source = rule.path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`).test(path);
}

/** Who the key is: `Bearer sk_test_…` or Basic with the key as user name. */
export function apiKeyOf(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+(\S+)$/i.exec(auth);
  return basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0]! || null : null;
}
