import { DomainError } from './errors.js';

export const IDEMPOTENCY_KEY_MIN_LENGTH = 8;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** The characters a key may use (with the lengths above): what `validateIdempotencyKey` enforces and /openapi.json states. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_:.-]+$/;

function serialise(value: unknown, ancestors: object[]): string | undefined {
  // Mirror JSON.stringify so a fingerprint matches what the body would serialise to.
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson cannot serialise a BigInt');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (ancestors.includes(object)) throw new TypeError('canonicalJson cannot serialise a circular structure');
  ancestors.push(object);
  let json: string;
  if (Array.isArray(object)) {
    json = `[${object.map((item) => serialise(item, ancestors) ?? 'null').join(',')}]`;
  } else {
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    // Code-unit order (the default sort) is locale-independent, so every runtime agrees.
    for (const key of Object.keys(record).sort()) {
      const member = serialise(record[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    json = `{${members.join(',')}}`;
  }
  ancestors.pop();
  return json;
}

/**
 * Deterministic JSON: keys sorted at every depth, no whitespace, otherwise JSON.stringify's
 * rules. Throws TypeError where JSON.stringify would (BigInt, cycles) and for a top-level
 * value that has no JSON form (undefined, a function, a symbol).
 */
export function canonicalJson(value: unknown): string {
  const json = serialise(value, []);
  if (json === undefined) throw new TypeError(`canonicalJson cannot serialise ${typeof value}`);
  return json;
}

/**
 * Identifies "the same request" for idempotent replay: a stored key whose fingerprint differs
 * was reused for a different request. A missing body (undefined) fingerprints as empty,
 * distinct from a JSON null body.
 */
export async function fingerprintRequest(
  input: { method: string; path: string; body: unknown },
  sha256Hex: (text: string) => Promise<string> = webCryptoSha256Hex,
): Promise<string> {
  const body = input.body === undefined ? '' : canonicalJson(input.body);
  return sha256Hex(`${input.method.toUpperCase()} ${input.path}\n${body}`);
}

/** SHA-256 of the UTF-8 text, lowercase hex, with WebCrypto (any runtime). */
export async function webCryptoSha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function validateIdempotencyKey(raw: string | undefined): string {
  if (raw === undefined || raw === null || raw === '') {
    throw new DomainError('idempotency_key_missing', 'Send an Idempotency-Key header on every write');
  }
  if (
    typeof raw !== 'string' ||
    raw.length < IDEMPOTENCY_KEY_MIN_LENGTH ||
    raw.length > IDEMPOTENCY_KEY_MAX_LENGTH ||
    !IDEMPOTENCY_KEY_PATTERN.test(raw)
  ) {
    throw new DomainError(
      'idempotency_key_invalid',
      `Idempotency-Key must be ${IDEMPOTENCY_KEY_MIN_LENGTH}-${IDEMPOTENCY_KEY_MAX_LENGTH} ` +
        'characters of A-Z a-z 0-9 _ : . -',
    );
  }
  return raw;
}
