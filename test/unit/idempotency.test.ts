import { describe, it, expect } from 'vitest';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import { createHash } from 'node:crypto';
import { canonicalJson, fingerprintRequest, validateIdempotencyKey, webCryptoSha256Hex } from '../../src/domain/idempotency.js';

function expectCode(fn: () => unknown, code: DomainErrorCode): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(code);
    return;
  }
  throw new Error(`expected DomainError ${code}`);
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    const value = { b: 1, a: { z: [3, { y: 1, x: 2 }], m: 'q' } };
    expect(canonicalJson(value)).toBe('{"a":{"m":"q","z":[3,{"x":2,"y":1}]},"b":1}');
  });

  it('is independent of key insertion order and source whitespace', () => {
    const a = JSON.parse('{ "qty": 2, "items": [ {"id":"x","n":1} ] }');
    const b = JSON.parse('{"items":[{"n":1,"id":"x"}],"qty":2}');
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  it('follows JSON.stringify for undefined, functions, non-finite numbers, dates and escapes', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: null })).toBe('{"c":null}');
    expect(canonicalJson([undefined, Number.NaN, Infinity, -0])).toBe('[null,null,null,0]');
    expect(canonicalJson({ at: new Date('2026-01-01T00:00:00Z') })).toBe('{"at":"2026-01-01T00:00:00.000Z"}');
    expect(canonicalJson({ 'q"k': 'line\nbreak ☃' })).toBe(JSON.stringify({ 'q"k': 'line\nbreak ☃' }));
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(null)).toBe('null');
  });

  it('allows shared references but rejects cycles, BigInt and top-level undefined', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});

describe('fingerprintRequest', () => {
  const body = { b: [2, { d: null, c: 3 }], a: 1 };

  it('is the SHA-256 hex of "METHOD path\\n" + canonical body', async () => {
    // printf 'POST /v1/orders\n{"a":1,"b":[2,{"c":3,"d":null}]}' | sha256sum
    expect(await fingerprintRequest({ method: 'post', path: '/v1/orders', body })).toBe(
      '8e9b007050375b2df2aa58f075456a11dba35a43f303f9ed8924a5a313d36079',
    );
    // printf 'DELETE /v1/orders/1\n' | sha256sum
    expect(await fingerprintRequest({ method: 'DELETE', path: '/v1/orders/1', body: undefined })).toBe(
      'b496c5f2cd542a0f4800e9e70ea1b77d9bc7a706d88c71f2140e664e193de738',
    );
  });

  it('is the same with the Node entry’s hasher (node:crypto) as with WebCrypto: both runtimes share one database', async () => {
    const nodeHasher = (text: string) => Promise.resolve(createHash('sha256').update(text).digest('hex'));
    const unicode = { note: 'Ring twice — façade door 🚪', a: 1 };
    for (const input of [
      { method: 'post', path: '/v1/orders', body },
      { method: 'POST', path: '/v1/orders', body: unicode },
    ]) {
      expect(await fingerprintRequest(input, nodeHasher)).toBe(await fingerprintRequest(input));
    }
    expect(await webCryptoSha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('matches for bodies that differ only in key order or whitespace', async () => {
    const reordered = JSON.parse('{ "a" : 1,\n "b": [ 2, { "c": 3, "d": null } ] }');
    const one = await fingerprintRequest({ method: 'POST', path: '/v1/orders', body });
    const two = await fingerprintRequest({ method: 'POST', path: '/v1/orders', body: reordered });
    expect(two).toBe(one);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when any value, the method or the path changes', async () => {
    const base = await fingerprintRequest({ method: 'POST', path: '/v1/orders', body });
    const variants = await Promise.all([
      fingerprintRequest({ method: 'POST', path: '/v1/orders', body: { ...body, a: 2 } }),
      fingerprintRequest({ method: 'POST', path: '/v1/orders', body: { ...body, a: '1' } }),
      fingerprintRequest({ method: 'POST', path: '/v1/orders', body: { ...body, b: [{ d: null, c: 3 }, 2] } }),
      fingerprintRequest({ method: 'POST', path: '/v1/orders', body: { ...body, extra: null } }),
      fingerprintRequest({ method: 'PUT', path: '/v1/orders', body }),
      fingerprintRequest({ method: 'POST', path: '/v1/orders/x', body }),
      fingerprintRequest({ method: 'POST', path: '/v1/orders', body: null }),
      fingerprintRequest({ method: 'POST', path: '/v1/orders', body: undefined }),
    ]);
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });
});

describe('validateIdempotencyKey', () => {
  it('returns a valid key unchanged, at both length bounds', () => {
    expect(validateIdempotencyKey('order:2026-01-01_abc.DEF')).toBe('order:2026-01-01_abc.DEF');
    expect(validateIdempotencyKey('a'.repeat(8))).toBe('aaaaaaaa');
    expect(validateIdempotencyKey('a'.repeat(255))).toHaveLength(255);
    expect(validateIdempotencyKey('123e4567-e89b-12d3-a456-426614174000')).toHaveLength(36);
  });

  it.each([undefined, ''])('reports %j as missing', (raw) => {
    expectCode(() => validateIdempotencyKey(raw), 'idempotency_key_missing');
  });

  it.each(['a'.repeat(7), 'a'.repeat(256), 'has space1', 'slash/abcd', 'ünïcode-key', ' padded-key '])(
    'rejects %j as invalid',
    (raw) => {
      expectCode(() => validateIdempotencyKey(raw), 'idempotency_key_invalid');
    },
  );
});
