import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/logger.js';

describe('logs: database errors', () => {
  it('keep the failed SQL but not its bound values (password and token hashes, emails)', () => {
    const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
    const err = new DrizzleQueryError(
      'INSERT INTO users (email, password_hash) VALUES ($1, $2)',
      ['ada@example.com', hash, 'multi\nline value'],
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    );
    const logger = createMemoryLogger();
    logger.error('unhandled error', { error: err });
    const line = JSON.stringify(logger.entries[0]);
    expect(line).not.toContain(hash);
    expect(line).not.toContain('ada@example.com');
    expect(line).not.toContain('multi');
    expect(logger.entries[0]).toMatchObject({
      error: {
        message: 'Failed query: INSERT INTO users (email, password_hash) VALUES ($1, $2)\nparams: [redacted]',
        stack: expect.stringMatching(/^Error: Failed query: INSERT INTO users[^\n]*\nparams: \[redacted\]\n {4}at /),
        cause: { message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
      },
    });
  });
});
