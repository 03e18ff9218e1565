import { describe, expect, it } from 'vitest';
import { createJsonLogger, createMemoryLogger, redact } from '../../src/logger.js';

describe('logger', () => {
  it('writes one JSON object per entry with the bound fields', () => {
    const logger = createMemoryLogger();
    logger.child({ requestId: 'req_1' }).info('request', { status: 200 });
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'info', msg: 'request', requestId: 'req_1', status: 200 })]);
  });

  it('redacts secrets wherever they appear', () => {
    const out = JSON.stringify(
      redact({ password: 'hunter2', nested: { refreshToken: 'abc', authorization: 'Bearer x', list: [{ card: '4242' }] }, email: 'a@b.c' }),
    );
    for (const secret of ['hunter2', 'abc', 'Bearer x', '4242']) expect(out).not.toContain(secret);
    expect(out).toContain('a@b.c');
  });

  it('keeps error stacks for the log (never for clients)', () => {
    const entry = redact({ error: new Error('boom') }) as { error: { message: string; stack: string } };
    expect(entry.error.message).toBe('boom');
    expect(entry.error.stack).toContain('Error: boom');
  });
});

describe('logger lines', () => {
  // What every line must equal: the entry object through JSON.stringify (the concatenated path
  // in src/logger.ts writes the same text without building it).
  const reference = (time: string, level: string, msg: string, base: Record<string, unknown>, fields: Record<string, unknown>) =>
    JSON.stringify({ time, level, msg, ...base, ...(redact(fields) as Record<string, unknown>) });

  const lines = (base: Record<string, unknown>, child: Record<string, unknown> | undefined, msg: string, fields: Record<string, unknown>) => {
    const out: string[] = [];
    const root = createJsonLogger({ level: 'debug', base, sink: (l) => out.push(l) });
    (child ? root.child(child) : root).info(msg, fields);
    return out;
  };

  const cases: Array<[string, Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>]> = [
    ['an access line', { runtime: 'node', version: '1.2.3' }, { requestId: 'req_0123456789abcdef' }, { method: 'GET', route: '/v1/services', status: 200, durationMs: 0.42, userId: undefined, version: '1.2.3', runtime: 'node' }],
    ['a signed-in access line', { runtime: 'node', version: '1.2.3' }, { requestId: 'req_1' }, { method: 'POST', route: '/v1/orders', status: 201, durationMs: 12.5, userId: 'u-1', version: '1.2.3', runtime: 'node' }],
    ['a field that repeats a bound one with another value', { runtime: 'node', version: '1' }, { requestId: 'r' }, { version: '2', runtime: 'workerd' }],
    ['secret keys', { runtime: 'node' }, undefined, { password: 'hunter2', refreshToken: undefined, authorization: 'Bearer x', email: 'a@b.c' }],
    ['nested values and errors', {}, { requestId: 'r' }, { error: new Error('boom'), detail: { cardNumber: '4242', ok: [1, { token: 't' }] } }],
    ['odd values', {}, undefined, { nan: Number.NaN, inf: Infinity, nil: null, yes: true, text: 'quote " and \\ and \u2028 and \ud800', fn: () => 1 }],
    ['integer-like and the line’s own keys', { msg: 'base msg' }, undefined, { 2: 'two', 1: 'one', level: 'mine', time: 'then' }],
    ['a child that repeats a bound key', { requestId: 'outer' }, { requestId: 'inner', extra: 1 }, { status: 500 }],
    ['a child with a nested field', { runtime: 'node' }, { ctx: { a: 1 } }, { status: 200 }],
    ['no fields', { runtime: 'node' }, { requestId: 'r' }, {}],
  ];

  for (const [name, base, child, fields] of cases) {
    it(`writes exactly what JSON.stringify of the entry would: ${name}`, () => {
      const [line] = lines(base, child, 'request', fields);
      const time = (JSON.parse(line!) as { time: string }).time;
      expect(line).toBe(reference(time, 'info', 'request', { ...base, ...child }, fields));
    });
  }

  it('writes what JSON.stringify would for a child of a child, bound keys repeated at each level', () => {
    for (const [a, b, fields] of [
      [{ requestId: 'r1' }, { orderId: 'o1' }, { status: 200, requestId: 'r1' }],
      [{ requestId: 'r1' }, { requestId: 'r2' }, { status: 200 }],
      [{ requestId: 'r1' }, { runtime: 'node' }, { version: '9' }],
      [{ ctx: { a: 1 } }, { orderId: 'o1' }, { status: 200, orderId: 'o1' }],
    ] as Array<Array<Record<string, unknown>>>) {
      const out: string[] = [];
      const base = { runtime: 'node', version: '1' };
      createJsonLogger({ level: 'debug', base, sink: (l) => out.push(l) }).child(a!).child(b!).info('m', fields);
      const time = (JSON.parse(out[0]!) as { time: string }).time;
      expect(out[0]).toBe(reference(time, 'info', 'm', { ...base, ...a, ...b }, fields!));
    }
  });
});
