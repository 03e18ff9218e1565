import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { CursorInstant, CursorUuid, decodeCursor, encodeCursor } from '../../src/http/cursor.js';
import { date, parseDate, parseTimestamp, text, textProblem, timestamp } from '../../src/http/schemas.js';
import { ApiError } from '../../src/errors.js';

const firstMessage = (r: { success: boolean; error?: z.ZodError }) => r.error?.issues[0]?.message;

describe('text()', () => {
  const name = text({ min: 1, max: 10 });

  it('trims, bounds and passes ordinary text, including astral characters (a surrogate pair)', () => {
    expect(name.parse('  Ada  ')).toBe('Ada');
    expect(name.parse('Zoë 🧺')).toBe('Zoë 🧺');
    expect(name.safeParse('').success).toBe(false);
    expect(name.safeParse('x'.repeat(11)).success).toBe(false);
  });

  it('refuses NUL anywhere, and says so rather than some other rule', () => {
    for (const v of ['\u0000', 'a\u0000b', `${'x'.repeat(20)}\u0000`]) {
      const r = name.safeParse(v);
      expect(r.success).toBe(false);
      expect(firstMessage(r)).toMatch(/NUL/);
    }
  });

  it('refuses unpaired surrogates of either half, anywhere', () => {
    for (const v of ['\ud800', 'a\udbff', '\udc00b', '\udfff', 'a\ud83e', '\udde6\ud83e']) {
      expect(textProblem(v)).toMatch(/surrogate/);
      expect(name.safeParse(v).success).toBe(false);
    }
    expect(textProblem('\ud83e\uddfa')).toBeNull(); // 🧺, a well-formed pair
  });

  it('keeps surrounding whitespace when asked (secrets, tokens)', () => {
    expect(text({ max: 20, trim: false }).parse('  pass word  ')).toBe('  pass word  ');
  });
});

describe('parseTimestamp / timestamp()', () => {
  it('reads ISO 8601 with an offset into the instant', () => {
    expect(parseTimestamp('2026-03-27T09:00:00Z')?.toISOString()).toBe('2026-03-27T09:00:00.000Z');
    expect(parseTimestamp('2026-03-27T09:00:00+01:00')?.toISOString()).toBe('2026-03-27T08:00:00.000Z');
    expect(parseTimestamp('2026-03-27T09:00-0530')?.toISOString()).toBe('2026-03-27T14:30:00.000Z');
    expect(parseTimestamp('2026-03-27T09:00:00.123456789Z')?.toISOString()).toBe('2026-03-27T09:00:00.123Z');
    expect(parseTimestamp('2024-02-29T00:00:00Z')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('refuses malformed values and instants outside years 2000–2100', () => {
    for (const v of [
      '',
      '2026-03-27',
      '2026-03-27T09:00:00', // no offset: ambiguous
      '2026-02-30T09:00:00Z',
      '2025-02-29T09:00:00Z',
      '2026-03-27T24:00:00Z',
      '2026-03-27T09:60:00Z',
      '2026-03-27T09:00:60Z',
      '2026-03-27T09:00:00+24:00',
      '0000-01-01T00:00:00Z',
      '1999-12-31T23:59:59.999Z',
      '2101-01-01T00:00:00Z',
      '2100-12-31T23:00:00-05:00', // 2101 in UTC
      '9999-12-31T20:00:00Z',
      '+275760-09-13T00:00:00Z',
      ' 2026-03-27T09:00:00Z',
    ]) {
      expect(parseTimestamp(v), v).toBeNull();
      expect(timestamp().safeParse(v).success, v).toBe(false);
    }
    expect(parseTimestamp('2000-01-01T00:00:00Z')).not.toBeNull();
    expect(parseTimestamp('2100-12-31T23:59:59.999Z')).not.toBeNull();
  });

  it('hands the handler the instant in UTC, whatever offset was sent', () => {
    expect(timestamp().parse('2026-03-27T09:00:00+01:00')).toBe('2026-03-27T08:00:00.000Z');
    expect(firstMessage(timestamp().safeParse('9999-12-31T20:00:00Z'))).toMatch(/2000-01-01.*2100-12-31/);
  });
});

describe('parseDate / date()', () => {
  it('reads calendar dates in years 2000–2100 only', () => {
    expect(parseDate('2026-12-25')).toEqual({ year: 2026, month: 12, day: 25 });
    expect(parseDate('2000-01-01')).not.toBeNull();
    expect(parseDate('2100-12-31')).not.toBeNull();
    for (const v of ['0000-01-01', '1999-12-31', '2101-01-01', '9999-12-31', '2026-02-30', '2026-13-01', '2026-1-1', '2026-12-25T00:00:00Z', '+275760-09-13']) {
      expect(parseDate(v), v).toBeNull();
      expect(date().safeParse(v).success, v).toBe(false);
    }
  });
});

describe('cursors', () => {
  const shape = z.tuple([CursorInstant, CursorUuid]);
  const id = '0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a10';
  const invalid = (cursor: string) => {
    try {
      decodeCursor(cursor, shape);
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(422);
      expect((err as ApiError).errors).toEqual([{ field: 'query.cursor', message: expect.any(String) }]);
      return true;
    }
    return false;
  };
  const b64 = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

  it('round-trips what it encodes, at microsecond precision', () => {
    const cursor = encodeCursor(['2026-03-27T09:00:00.123456Z', id]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, shape)).toEqual(['2026-03-27T09:00:00.123456Z', id]);
  });

  it('refuses anything it did not issue', () => {
    for (const cursor of [
      '',
      '!!!!',
      'a b',
      `${encodeCursor(['2026-03-27T09:00:00.123456Z', id])}=`, // padded: not our spelling
      b64(`2026-03-27T09:00:00.000Z|not-a-uuid`),
      b64(`2026-03-27T09:00:00.000Z|------------------------------------`),
      b64(`2026-03-27T09:00:00.000Z|${id}|extra`),
      b64(`2026-03-27T09:00:00.000Z`),
      b64(`9999-12-31T23:59:59.999Z|${id}`),
      b64(`0000-01-01T00:00:00.000Z|${id}`),
      b64(`+275760-09-13T00:00:00.000Z|${id}`),
      b64(`2026-03-27T09:00:00.000+01:00|${id}`),
      b64(`2026-03-27T09:00:00.000Z|${id}\u0000`),
      'A'.repeat(301),
    ]) {
      expect(invalid(cursor), cursor).toBe(true);
    }
  });
});
