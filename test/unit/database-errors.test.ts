/**
 * The one classification of database failures (src/db/errors.ts) over the errors each driver
 * really raises: node-postgres, Neon's serverless driver, fetch/undici, AbortSignal, PGlite,
 * each also as drizzle wraps it.
 */
import { messages } from '@electric-sql/pglite';
import { NeonDbError } from '@neondatabase/serverless';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { classifyDatabaseError, databaseFaultProblem, pgError as pgErrorInfo } from '../../src/db/errors.js';

const pgError = (code: string, message = 'x') => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code, severity: 'FATAL' });
const wrapped = (cause: unknown, params: unknown[] = []) => new DrizzleQueryError('select 1', params, cause as Error);
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });
const neonError = (message: string, fields: Record<string, unknown> = {}) => Object.assign(new NeonDbError(message), fields);

describe('classifyDatabaseError: unavailable', () => {
  const cases: Array<[string, unknown, string]> = [
    ['pg 57P01 admin shutdown (pg_terminate_backend)', pgError('57P01', 'terminating connection due to administrator command'), '57P01'],
    ['pg 57P02 crash shutdown', pgError('57P02'), '57P02'],
    ['pg 57P03 cannot connect now (starting up)', pgError('57P03', 'the database system is starting up'), '57P03'],
    ['pg class 08 connection failure', pgError('08006'), '08006'],
    ['pg 57014 statement timeout', pgError('57014', 'canceling statement due to statement timeout'), '57014'],
    ['pg 53300 too many connections', pgError('53300'), '53300'],
    ['ECONNREFUSED', errno('ECONNREFUSED'), 'ECONNREFUSED'],
    ['ECONNRESET', errno('ECONNRESET'), 'ECONNRESET'],
    ['EPIPE', errno('EPIPE'), 'EPIPE'],
    ['ETIMEDOUT', errno('ETIMEDOUT'), 'ETIMEDOUT'],
    ['AggregateError of refusals (localhost → ::1 and 127.0.0.1)', new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')], ''), 'ECONNREFUSED'],
    ['pg "Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly'), 'connection'],
    ['pg connect timeout', new Error('Connection terminated due to connection timeout'), 'timeout'],
    ['pg query_timeout', new Error('Query read timeout'), 'timeout'],
    ['pg-pool checkout timeout', new Error('timeout exceeded when trying to connect'), 'timeout'],
    ['pg client already broken', new Error('Client has encountered a connection error and is not queryable'), 'connection'],
    ['undici fetch failed', new TypeError('fetch failed', { cause: errno('ECONNREFUSED') }), 'connection'],
    ['AbortSignal.timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
    ['abort', new DOMException('This operation was aborted', 'AbortError'), 'timeout'],
    ['Neon: fetch threw', neonError('Error connecting to database: TypeError: fetch failed'), 'connection'],
    ['Neon: fetch aborted', neonError('Error connecting to database: TimeoutError: The operation was aborted due to timeout'), 'timeout'],
    ['Neon: HTTP 500', neonError('Server error (HTTP status 500): upstream'), 'connection'],
    ['Neon: proxy error with code ""', neonError("Couldn't connect to compute node", { code: '' }), 'neon'],
    ['Neon: 57P01 from the compute', neonError('terminating connection due to administrator command', { code: '57P01' }), '57P01'],
    ['PGlite closed', new Error('PGlite is closed'), 'connection'],
    ['serialization failure (rolled back, retryable)', pgError('40001'), '40001'],
    ['deadlock detected (rolled back, retryable)', pgError('40P01'), '40P01'],
    ['read-only standby mid-failover', pgError('25006'), '25006'],
  ];
  for (const [name, err, reason] of cases) {
    it(name, () => {
      expect(classifyDatabaseError(err)).toMatchObject({ kind: 'unavailable', reason });
      // drizzle wraps every driver error in DrizzleQueryError with the original as cause.
      expect(classifyDatabaseError(wrapped(err))).toMatchObject({ kind: 'unavailable', reason });
    });
  }

  it("a 4xx from Neon's endpoint (our request too large, a bad header) is our bug, not an outage", () => {
    expect(classifyDatabaseError(wrapped(neonError('Server error (HTTP status 413): request body too large')))).toBeUndefined();
  });

  it("Neon's 507 (a response over 10 MiB) is our query's bug, not an outage: a retry cannot fix it", () => {
    expect(classifyDatabaseError(wrapped(neonError('Server error (HTTP status 507): response is too large')))).toBeUndefined();
  });

  it('Neon keeps the underlying fetch error as sourceError', () => {
    const err = neonError('something else');
    (err as { sourceError?: unknown }).sourceError = new DOMException('aborted', 'TimeoutError');
    expect(classifyDatabaseError(wrapped(err))).toMatchObject({ kind: 'unavailable', reason: 'timeout' });
  });
});

describe('classifyDatabaseError: bad input that reached the database', () => {
  for (const code of ['22021', '22008', '22007', '22P02']) {
    it(`pg ${code} → bad_input`, () => expect(classifyDatabaseError(wrapped(pgError(code)))).toMatchObject({ kind: 'bad_input', reason: code }));
  }
  it('PGlite DatabaseError 22021 (NUL in text)', () => {
    const err = Object.assign(new messages.DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', 0, 'error'), { code: '22021' });
    expect(classifyDatabaseError(wrapped(err))).toMatchObject({ kind: 'bad_input', reason: '22021' });
  });
  it('Neon 400 with SQLSTATE 22P02', () => {
    expect(classifyDatabaseError(neonError('invalid input syntax for type uuid', { code: '22P02' }))).toMatchObject({ kind: 'bad_input' });
  });
});

describe('classifyDatabaseError: not a fault (stays a 500, or is handled where it happens)', () => {
  it('a unique violation', () => expect(classifyDatabaseError(wrapped(pgError('23505')))).toBeUndefined());
  it('a syntax error (a bug)', () => expect(classifyDatabaseError(wrapped(pgError('42601')))).toBeUndefined());
  it('a plain bug', () => expect(classifyDatabaseError(new TypeError('cannot read properties of undefined'))).toBeUndefined());
  it('user input quoted in drizzle’s message cannot fake a fault', () => {
    expect(classifyDatabaseError(wrapped(pgError('42601'), ['Connection terminated', 'fetch failed']))).toBeUndefined();
    expect(classifyDatabaseError(wrapped(new Error('boom'), ['Query read timeout']))).toBeUndefined();
  });
  it('a real SQLSTATE decides even when a cause says otherwise', () => {
    const err = Object.assign(pgError('23505'), { cause: errno('ECONNRESET') });
    expect(classifyDatabaseError(err)).toBeUndefined();
  });
  it('non-errors', () => {
    for (const v of [undefined, null, 'ECONNREFUSED', 42]) expect(classifyDatabaseError(v)).toBeUndefined();
  });
});

describe('databaseFaultProblem', () => {
  it('unavailable: 503 database_unavailable with Retry-After and an honest word about writes', () => {
    const e = databaseFaultProblem({ kind: 'unavailable', reason: '57P01', message: '' });
    expect(e).toMatchObject({ code: 'database_unavailable', status: 503, retryAfterSeconds: 2 });
    expect(e.message).toMatch(/committed whole or not at all/);
    expect(e.message).toMatch(/same Idempotency-Key/);
  });
  it('bad input: 422 validation_failed without the driver’s text', () => {
    const e = databaseFaultProblem({ kind: 'bad_input', reason: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' });
    expect(e).toMatchObject({ code: 'validation_failed', status: 422 });
    expect(e.message).not.toMatch(/UTF8|0x00/);
  });
});

describe('pgError: the SQLSTATE layer, whichever driver and however drizzle wraps it', () => {
  // laundry_abort's reason is read from this message: drizzle's wrapper quotes the whole statement,
  // which names every reason the statement could raise (a full delivery slot once read as the pickup).
  const statement = "SELECT CASE WHEN a THEN laundry_abort('slot_unavailable:pickup:full') ELSE laundry_abort('slot_unavailable:delivery:full') END";
  it.each([
    ['pg', new DrizzleQueryError(statement, [], pgError('P0001', 'slot_unavailable:delivery:full'))],
    ['Neon', new DrizzleQueryError(statement, [], neonError('slot_unavailable:delivery:full', { code: 'P0001' }))],
    ['PGlite', new DrizzleQueryError(statement, [], new messages.DatabaseError('slot_unavailable:delivery:full', 0, 'error'))],
  ])('%s: the code and the database\'s own message, not the wrapper\'s', (_driver, err) => {
    if (err.cause instanceof messages.DatabaseError) Object.assign(err.cause, { code: 'P0001' });
    expect(pgErrorInfo(err)).toEqual({ code: 'P0001', constraint: undefined, message: 'slot_unavailable:delivery:full' });
  });
});
