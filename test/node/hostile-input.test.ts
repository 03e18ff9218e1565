/**
 * Hostile input over every operation in /openapi.json (issue 11). The cases come from the
 * document itself: every string field gets a NUL and an unpaired surrogate, every date or
 * date-time the far ends of the calendar, every cursor garbage, every integer a value beyond
 * int4. Nothing may answer 5xx; every 4xx is problem+json with a `code`; and the mutated field
 * is named in a 422 `validation_failed`. Each operation first gets a baseline request that
 * passes validation, so a case proves the field's own rule and not some other refusal. A new
 * operation the generator cannot build a baseline for fails the first test: no silent skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INT4_MAX } from '../../src/http/schemas.js';
import type { ApiResponse } from '../support/client.js';
import {
  badAnswer,
  baseline,
  bodyFixture,
  fieldCases,
  notRejected,
  send,
  setupHostile,
  stringBase,
  type Fixtures,
  type Mutation,
} from '../support/hostile-requests.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import {
  bodyField,
  isDateLike,
  leaves,
  operations,
  resolve,
  sample,
  type Schema,
} from '../support/openapi-walk.js';

const CALENDAR_EDGES = [
  '0000-01-01',
  '9999-12-31T20:00:00Z',
  '+275760-09-13T00:00:00Z',
  '-271821-04-20T00:00:00Z',
  '1999-12-31',
  '1999-12-31T23:59:59Z',
  '2101-01-01',
  '2101-01-01T00:00:00Z',
  '2100-12-31T23:00:00-05:00',
  '2026-02-30',
  '2026-02-30T09:00:00Z',
];

const b64url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const UUID = '0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a10';
const CURSOR_GARBAGE = [
  b64url('2026-01-01T00:00:00.000Z|not-a-uuid'),
  b64url('2026-01-01T00:00:00.000Z|------------------------------------'),
  b64url(`+275760-09-13T00:00:00.000Z|${UUID}`),
  b64url(`9999-12-31T23:59:59.999Z|${UUID}`),
  b64url(`0000-01-01T00:00:00.000Z|${UUID}`),
  b64url(`2026-01-01T00:00:00.000Z|${UUID}|extra`),
  b64url(`2026-01-01T00:00:00.000Z|${UUID}\u0000`),
  b64url('pickup|2026-01-01T00:00:00.000000Z|not-a-uuid'),
  b64url(`pickup|9999-12-31T23:59:59.999999Z|${UUID}`),
  b64url(`pickup|2026-01-01T00:00:00.000000Z|${UUID}|x`),
  `${b64url(`2026-01-01T00:00:00.000Z|${UUID}`)}==`,
  '!!!!',
  'not base64 at all',
  '',
  'A'.repeat(10_000),
];
const HUGE_INTEGERS = [2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e300];

let t: TestApp;
let doc: Schema;
let f: Fixtures;

beforeAll(async () => {
  // Sign in with Apple/Google configured, so their bodies reach the token check (a key set that
  // cannot be reached: no baseline token is a JWS, so none is ever fetched).
  const unreachable = 'http://127.0.0.1:9/keys';
  t = await createTestApp({
    env: { APPLE_CLIENT_IDS: 'com.example.hostile', GOOGLE_CLIENT_IDS: 'hostile.apps.googleusercontent.com', APPLE_JWKS_URL: unreachable, GOOGLE_JWKS_URL: unreachable },
  });
  ({ doc, f } = await setupHostile(t));
});
afterAll(async () => {
  await t?.close();
});

describe('hostile input over every operation in /openapi.json', () => {
  it('every operation has a baseline request that passes authentication and validation', async () => {
    const failures: string[] = [];
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    for (const o of ops) {
      let res: ApiResponse;
      try {
        res = await send(o, baseline(o));
      } catch (error) {
        failures.push(`${o.key}: cannot build a request: ${(error as Error).message}`);
        continue;
      }
      const bad = badAnswer(res);
      if (bad) failures.push(`${o.key}: ${bad}`);
      else if ([401, 403, 404].includes(res.status) && ['auth_required', 'invalid_token', 'forbidden', 'route_not_found'].includes(res.body?.code)) {
        failures.push(`${o.key}: baseline refused before the handler: ${res.status} ${res.body.code}`);
      } else if (res.body?.code === 'validation_failed') {
        failures.push(`${o.key}: baseline does not validate (add a fixture): ${res.text.slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a NUL in any string field is 422 validation_failed naming that field', async () => {
    const failures: string[] = [];
    let cases = 0;
    for (const c of fieldCases()) {
      if (c.schema.type !== 'string') continue;
      cases++;
      const base = stringBase(c);
      if (c.header) {
        // Fetch refuses NUL in a header value, so the nearest hostile header: latin-1 and oversized.
        for (const v of [`${base}\u00ff`, 'k'.repeat(5000)]) {
          const bad = badAnswer(await send(c.o, c.b, c.with(v)));
          if (bad) failures.push(`${c.o.key} ${c.field}=${v.slice(0, 20)}…: ${bad}`);
        }
        continue;
      }
      for (const v of [`${base}\u0000`, `\u0000${base}`]) {
        const why = notRejected(await send(c.o, c.b, c.with(v)), c.field);
        if (why) failures.push(`${c.o.key} ${c.field}: ${why}`);
      }
    }
    expect(cases).toBeGreaterThan(50);
    expect(failures).toEqual([]);
  });

  it('an unpaired UTF-16 surrogate in any string field is refused, never stored or a 5xx', async () => {
    const failures: string[] = [];
    for (const c of fieldCases()) {
      if (c.schema.type !== 'string' || c.header) continue;
      const base = stringBase(c);
      if (c.location === 'body') {
        for (const v of [`${base}\ud800`, `\udfff${base}`]) {
          const why = notRejected(await send(c.o, c.b, c.with(v)), c.field);
          if (why) failures.push(`${c.o.key} ${c.field}: ${why}`);
        }
      } else {
        // A URL cannot carry a lone surrogate: its UTF-8 spelling (%ED%A0%80) is invalid UTF-8.
        const raw = `${encodeURIComponent(base)}%ED%A0%80`;
        const m: Mutation = c.location === 'query' ? { rawQuery: { [c.field.slice('query.'.length)]: raw } } : c.with(`${base}\ud800`);
        if (c.location === 'query') {
          const name = c.field.slice('query.'.length);
          const { [name]: _dropped, ...rest } = c.b.query;
          const res = await send(c.o, { ...c.b, query: rest }, m);
          const bad = badAnswer(res);
          if (bad || res.status < 400) failures.push(`${c.o.key} ${c.field}: ${bad ?? `accepted with ${res.status}`}`);
        } else {
          const why = notRejected(await send(c.o, c.b, m), c.field);
          if (why) failures.push(`${c.o.key} ${c.field}: ${why}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('every date and date-time field refuses the far ends of the calendar with 422 naming it', async () => {
    const failures: string[] = [];
    let fields = 0;
    for (const c of fieldCases()) {
      // By format, or by an example that looks like one (so a field that forgot its format is still probed).
      if (!isDateLike(c.schema) && !/^\d{4}-\d{2}-\d{2}/.test(String(c.schema.example ?? ''))) continue;
      fields++;
      for (const v of CALENDAR_EDGES) {
        const why = notRejected(await send(c.o, c.b, c.with(v)), c.field);
        if (why) failures.push(`${c.o.key} ${c.field}=${v}: ${why}`);
      }
    }
    expect(failures).toEqual([]);
    // slots from/to, admin slots from/to, staff date, slot startsAt/endsAt, generate from/to, closure date (body, path)
    expect(fields).toBeGreaterThanOrEqual(11);
  });

  it('every cursor refuses garbage with 422 validation_failed on query.cursor', async () => {
    const failures: string[] = [];
    let cursors = 0;
    for (const c of fieldCases()) {
      if (c.field !== 'query.cursor') continue;
      cursors++;
      for (const v of CURSOR_GARBAGE) {
        const why = notRejected(await send(c.o, c.b, c.with(v)), c.field);
        if (why) failures.push(`${c.o.key} cursor=${v.slice(0, 40)}: ${why}`);
      }
    }
    expect(cursors).toBe(4); // GET /v1/orders, GET /v1/staff/orders, GET /v1/me/notifications and GET /v1/me/credit
    expect(failures).toEqual([]);
  });

  it('every integer field refuses values beyond PostgreSQL integer with 422 naming it', async () => {
    const failures: string[] = [];
    for (const c of fieldCases()) {
      if (c.schema.type !== 'integer') continue;
      for (const v of HUGE_INTEGERS) {
        const why = notRejected(await send(c.o, c.b, c.with(v)), c.field);
        if (why) failures.push(`${c.o.key} ${c.field}=${v}: ${why}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a path id that is not a UUID is 404 or 422, never 5xx', async () => {
    const failures: string[] = [];
    for (const c of fieldCases()) {
      // A push token is opaque text, not an id: these values are valid tokens (its own bounds: test/journeys/notifications.ts).
      if (c.location !== 'path' || c.field === 'param.device') continue;
      for (const v of ['not-a-uuid', '0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a1', '------------------------------------', "1' OR '1'='1", 'a'.repeat(2000)]) {
        const res = await send(c.o, c.b, c.with(v));
        const bad = badAnswer(res);
        if (bad || ![404, 422].includes(res.status)) failures.push(`${c.o.key} ${c.field}=${v.slice(0, 20)}: ${bad ?? res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the document bounds every request field: strings, arrays and integers', () => {
    const failures: string[] = [];
    for (const o of operations(doc)) {
      const fields = [
        ...o.parameters.map((p) => ({ field: `${p.in}.${p.name}`, schema: resolve(doc, p.schema) })),
        ...(o.body ? leaves(doc, o.body).map((l) => ({ field: bodyField(l.path), schema: l.schema })) : []),
      ];
      for (const { field, schema: s } of fields) {
        const where = `${o.key} ${field}`;
        if (s.type === 'string' && s.maxLength === undefined && !s.enum && s.format !== 'uuid') failures.push(`${where}: string without maxLength`);
        if (s.type === 'array' && s.maxItems === undefined) failures.push(`${where}: array without maxItems`);
        if (s.type === 'integer' && !(s.maximum <= INT4_MAX && s.minimum >= -INT4_MAX - 1)) failures.push(`${where}: integer not within int4`);
        if (s.type === 'number') failures.push(`${where}: non-integer number (money and weights are integers)`);
        if (s.type === 'object' || s.type === undefined) failures.push(`${where}: free-form value ${JSON.stringify(s).slice(0, 80)}`);
        const example = typeof s.example === 'string' ? s.example : '';
        if (/^\d{4}-\d{2}-\d{2}/.test(example) && !isDateLike(s)) failures.push(`${where}: a date example without format date/date-time`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('malformed bodies and repeated query parameters are 4xx problems on every operation', async () => {
    const failures: string[] = [];
    for (const o of operations(doc)) {
      const b = baseline(o);
      if (o.method === 'POST' || o.method === 'PATCH') {
        for (const raw of ['{', '[]', 'null', '"\u0000"', '{"\u0000":"\u0000"}', '{"a":1e999}', '[[[[[[[[[[]]]]]]]]]]']) {
          const res = await t.api.send(o.method, o.path.replace(/\{(\w+)\}/g, (_, n: string) => b.pathParams[n] ?? ''), undefined, {
            ...(b.token ? { token: b.token } : {}),
            headers: b.headers,
            rawBody: raw,
          });
          // A body where none is declared (capture, the webhook's raw text) is ignored or refused; never 5xx.
          const bad = badAnswer(res) ?? (o.body && res.status < 400 ? `accepted with ${res.status}` : undefined);
          // An optional body (cancel) may read `null` as "no body".
          if (bad && !(raw === 'null' && o.op.requestBody?.required === false)) failures.push(`${o.key} body ${raw}: ${bad}`);
        }
      }
      for (const p of o.parameters.filter((x) => x.in === 'query')) {
        const value = b.query[p.name] ?? String(sample(doc, p.schema));
        const bad = badAnswer(await send(o, b, { rawQuery: { [p.name]: encodeURIComponent(value) }, query: { [p.name]: value } }));
        if (bad) failures.push(`${o.key} ${p.name} twice: ${bad}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('an order whose total would overflow PostgreSQL integer is 422 amount_overflow, not 500', async () => {
    // Each input is in bounds (price ≤ 10,000,000, quantity ≤ 1000); their product is not.
    const svc = await t.api.post(
      '/v1/admin/services',
      { slug: `pricey-${crypto.randomUUID().slice(0, 8)}`, name: 'Pricey', pricingModel: 'per_item', unitPrice: 10_000_000, turnaroundHours: 48 },
      { token: f.admin.token },
    );
    expect(svc.status, svc.text).toBe(201);
    const body = { ...(bodyFixture('POST /v1/orders') as object), items: [{ serviceId: svc.body.id, quantity: 1000 }] };
    const res = await t.api.post('/v1/orders', body, { token: f.customer.token, headers: { 'idempotency-key': `hostile-${crypto.randomUUID()}` } });
    expect({ status: res.status, code: res.body?.code }).toEqual({ status: 422, code: 'amount_overflow' });
  });

  it('a cursor carries microseconds: two orders in the same millisecond are both listed, once', async () => {
    // Listing order is (created_at DESC, id DESC); a millisecond cursor skipped the older one.
    await t.sql(`UPDATE orders SET created_at = '2026-01-01T00:00:00.123789Z' WHERE id = $1`, [f.orderId]);
    await t.sql(`UPDATE orders SET created_at = '2026-01-01T00:00:00.123456Z' WHERE id = $1`, [f.cancellableOrderId]);
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 20; page++) {
      const res = await t.api.get(`/v1/orders?limit=1${cursor}`, { token: f.customer.token });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.data.map((o: { id: string }) => o.id));
      if (!res.body.nextCursor) break;
      cursor = `&cursor=${res.body.nextCursor}`;
    }
    // Other tests here place orders for this customer too (created now, so listed first).
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => id === f.orderId || id === f.cancellableOrderId)).toEqual([f.orderId, f.cancellableOrderId]);
  });

  it('the generator probes a NUL where the issue saw 500s', () => {
    // Guards the generator itself: if walking the document broke, the tests above would pass vacuously.
    const probed = new Set(fieldCases().filter((c) => c.schema.type === 'string').map((c) => `${c.o.key} ${c.field}`));
    for (const expected of [
      'POST /v1/auth/register body.name',
      'POST /v1/addresses body.line1',
      'POST /v1/orders body.notes',
      'POST /v1/orders/{id}/cancel body.reason',
      'POST /v1/staff/orders/{id}/transitions body.note',
      'POST /v1/admin/services body.description',
      'POST /v1/admin/services body.addOns.0.name',
      'POST /v1/admin/zones body.postcodePrefixes.0',
      'GET /v1/orders query.cursor',
      'GET /v1/slots query.from',
      'GET /v1/staff/orders query.date',
      'DELETE /v1/admin/zones/{id}/closures/{date} param.date',
    ]) {
      expect(probed, expected).toContain(expected);
    }
  });
});
