import { describe, expect, it } from 'vitest';
import { createMemoryLogger, redact } from '../../src/logger.js';

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
