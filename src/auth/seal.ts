/**
 * Sealing short secrets at rest (issue 18): the one-time token an account email carries waits in
 * `notification_outbox.data` until the dispatcher renders the email, and must not sit there in
 * plain text (a database dump or a read-only role must not yield working reset links).
 *
 * AES-256-GCM (WebCrypto, both runtimes), key = HKDF-SHA-256 of the JWT secret with a fixed salt
 * and `info` naming this use, so the key differs from the JWT signing key and from any other
 * key later derived from the same secret (RFC 5869 §3.2). A fresh 96-bit IV per seal (NIST SP
 * 800-38D §8.2.2: random IVs are fine far below 2^32 messages per key). `context` is bound as
 * additional authenticated data: a sealed value opens only for the purpose it was sealed for.
 *
 * Format: `v1.<base64url(iv ‖ ciphertext ‖ tag)>`. Rotating JWT_SECRET makes unsent sealed
 * tokens unopenable: the delivery then fails (and the user asks again).
 */

const SALT = new TextEncoder().encode('laundry-api/seal/v1');
const INFO = new TextEncoder().encode('account-email-token');
const VERSION = 'v1';

const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 8) keys.clear();
    key = crypto.subtle
      .importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey'])
      .then((base) =>
        crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: SALT, info: INFO }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']),
      );
    keys.set(secret, key);
  }
  return key;
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function fromB64url(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Seals `plaintext` under a key derived from `secret`, bound to `context`. */
export async function seal(secret: string, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(context) },
    await keyFor(secret),
    new TextEncoder().encode(plaintext),
  );
  const out = new Uint8Array(iv.length + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), iv.length);
  return `${VERSION}.${b64url(out)}`;
}

/** Opens what `seal` made with the same secret and context; undefined when it does not open (other key, context, or tampered). */
export async function open(secret: string, sealed: string, context: string): Promise<string | undefined> {
  const [version, body] = sealed.split('.');
  if (version !== VERSION || !body) return undefined;
  try {
    const bytes = fromB64url(body);
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData: new TextEncoder().encode(context) },
      await keyFor(secret),
      bytes.slice(12),
    );
    return new TextDecoder().decode(pt);
  } catch {
    return undefined;
  }
}

/** A new one-time token: 256 random bits, base64url (43 characters). */
export function newAccountToken(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}
