import { describe, expect, it } from 'vitest';
import { ifNoneMatchHits } from '../../src/http/conditional.js';

describe('ifNoneMatchHits (RFC 9110 §13.1.2, weak comparison §8.8.3.2)', () => {
  const etag = '"abc123"';
  it.each([
    ['"abc123"', true],
    ['W/"abc123"', true],
    [' "x" , W/"abc123" ', true],
    ['*', true],
    [' * ', true],
    ['"abc1234"', false],
    ['"ABC123"', false],
    ['abc123', false],
    ['"abc123', false],
    ['w/"abc123"', false], // the weak prefix is case-sensitive
    ['"a"b"', false],
    ['', false],
    [',', false],
  ])('%j → %s', (header, hit) => {
    expect(ifNoneMatchHits(header, etag)).toBe(hit);
  });
  it('no header never matches, nor does a malformed own tag', () => {
    expect(ifNoneMatchHits(undefined, etag)).toBe(false);
    expect(ifNoneMatchHits('*', 'abc')).toBe(true);
    expect(ifNoneMatchHits('"abc"', 'abc')).toBe(false);
  });
  it('a weak own tag matches its strong twin', () => {
    expect(ifNoneMatchHits('"abc123"', 'W/"abc123"')).toBe(true);
  });
});
