/**
 * The bench's per-package attribution (tools/bench/static.ts): source map decoding, the package a
 * bundled file belongs to, and a startup CPU profile's samples attributed through both.
 */
import { describe, expect, it } from 'vitest';
import { APP, HELPERS, TOP_LEVEL, attributeProfile, decodeMappings, packageOf, sourceAt } from '../../tools/bench/static.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 VLQ of one signed number, as source maps write it. */
function vlq(n: number): string {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += B64[digit];
  } while (v > 0);
  return out;
}

/** mappings for lines of [generated column, source index] segments (source line and column 0). */
function mappings(lines: Array<Array<[number, number]>>): string {
  let source = 0;
  return lines
    .map((segments) => {
      let column = 0;
      return segments
        .map(([c, s]) => {
          const text = vlq(c - column) + vlq(s - source) + vlq(0) + vlq(0);
          column = c;
          source = s;
          return text;
        })
        .join(',');
    })
    .join(';');
}

const SOURCES = ['../node_modules/zod/v4/core/core.js', '../src/app.ts', '../node_modules/@hono/zod-openapi/dist/index.js'];
const MAP = decodeMappings({ sources: SOURCES, mappings: mappings([[[4, 0], [40, 1], [300, 2]], [], [[5, 1]]]) });

describe('bench: source map lookup', () => {
  it('finds the segment at or before a position, on its own line only', () => {
    expect(sourceAt(MAP, 0, 4)).toBe(SOURCES[0]);
    expect(sourceAt(MAP, 0, 39)).toBe(SOURCES[0]);
    expect(sourceAt(MAP, 0, 40)).toBe(SOURCES[1]);
    expect(sourceAt(MAP, 0, 299)).toBe(SOURCES[1]);
    expect(sourceAt(MAP, 0, 5000)).toBe(SOURCES[2]);
    expect(sourceAt(MAP, 2, 5)).toBe(SOURCES[1]);
    // Before the line's first segment, on a line with none, past the last line: nothing maps there.
    expect(sourceAt(MAP, 0, 3)).toBeUndefined();
    expect(sourceAt(MAP, 1, 0)).toBeUndefined();
    expect(sourceAt(MAP, 2, 4)).toBeUndefined();
    expect(sourceAt(MAP, 9, 0)).toBeUndefined();
  });
});

describe('bench: package of a bundled file', () => {
  it('names npm packages, scoped ones and the app', () => {
    expect(packageOf('../../w/node_modules/zod/v4/core/core.js')).toBe('zod');
    expect(packageOf('node_modules/@neondatabase/serverless/index.mjs')).toBe('@neondatabase/serverless');
    expect(packageOf('node_modules/a/node_modules/b/x.js')).toBe('b');
    expect(packageOf('../../work/wt/x/src/app.ts')).toBe(APP);
  });

  it('maps a package’s own shipped sources (node_modules/src/…) back to it through the metafile inputs', () => {
    const shipped = new Map([
      ['node_modules/drizzle-orm/neon-http/session', 'drizzle-orm'],
      ['node_modules/zod/v4/core/core', 'zod'],
    ]);
    expect(packageOf('../../w/node_modules/src/neon-http/session.ts', shipped)).toBe('drizzle-orm');
    expect(packageOf('../../w/node_modules/zod/v4/core/core.js', shipped)).toBe('zod');
    expect(packageOf('../../w/node_modules/src/nowhere.ts', shipped)).toBe('src');
  });
});

describe('bench: startup profile by package', () => {
  const frame = (functionName: string, url: string, lineNumber: number, columnNumber: number) => ({ functionName, url, lineNumber, columnNumber });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1, -1), children: [2, 3, 4, 7] },
      { id: 2, callFrame: frame('(idle)', '', -1, -1) },
      { id: 3, callFrame: frame('(garbage collector)', '', -1, -1) },
      { id: 4, callFrame: frame('', 'worker.js', -1, -1), children: [5, 8] },
      { id: 5, callFrame: frame('object', 'worker.js', 0, 10), children: [6] },
      { id: 6, callFrame: frame('defineProperty', '', -1, -1) },
      { id: 7, callFrame: frame('(program)', '', -1, -1) },
      { id: 8, callFrame: frame('__name', 'worker.js', 0, 1) },
    ],
    // Each sample owns the time until the next one (timeDeltas[i + 1]); the last owns nothing.
    samples: [4, 5, 6, 2, 3, 8, 7, 5],
    timeDeltas: [999_000, 1000, 2000, 4000, 8000, 16000, 32000, 64000],
  };
  const nameOf = (line: number, column: number) => {
    const source = sourceAt(MAP, line, column);
    return source === undefined ? HELPERS : packageOf(source);
  };

  it('gives each sample’s time to its function’s package, a built-in’s to its caller, and none to idle', () => {
    expect(attributeProfile(profile, nameOf)).toEqual({
      [TOP_LEVEL]: 1,
      zod: 2 + 4,
      '(garbage collector)': 16,
      [HELPERS]: 32,
      '(program)': 64,
    });
  });
});
