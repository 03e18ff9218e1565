/**
 * Sealing short secrets at rest, in one place for every use:
 * - the one-time token an account email carries (issue 18) waits in `notification_outbox.data`
 *   until the dispatcher renders the email, and must not sit there in plain text (a database dump
 *   or a read-only role must not yield working reset links);
 * - Apple's refresh token, kept only to revoke it when the account is erased.
 *
 * AES-256-GCM through WebCrypto (both runtimes). The key is HKDF-SHA-256 of JWT_SECRET with a
 * fixed salt and `info` = the purpose label, so it differs from the JWT signing key and from the
 * key of every other purpose (RFC 5869 §3.2). The purpose is also bound as additional
 * authenticated data: a sealed value opens only for the purpose it was sealed for. A fresh 96-bit
 * IV per seal (NIST SP 800-38D §8.2.2: random IVs are fine far below 2^32 messages per key).
 *
 * Format: `v1.<base64url iv>.<base64url ciphertext ‖ tag>`. Rotating JWT_SECRET makes earlier
 * sealed values unopenable: unsent account emails then fail (the user asks again) and Apple
 * revocations give up (docs/runbook.md, "Account erasure tasks").
 */
const enc = new TextEncoder();
const SALT = enc.encode('laundry-seal-v1');
const VERSION = 'v1';

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));

/** Derived keys by secret and purpose; bounded so a test run's many secrets cannot grow it. */
const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(secret: string, purpose: string): Promise<CryptoKey> {
  const id = `${purpose}\u0000${secret}`;
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= 16) keys.clear();
    key = crypto.subtle
      .importKey('raw', enc.encode(secret), 'HKDF', false, ['deriveKey'])
      .then((base) =>
        crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: SALT, info: enc.encode(purpose) }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']),
      );
    key.catch(() => keys.delete(id));
    keys.set(id, key);
  }
  return key;
}

/** Seals `plaintext` under the key of (`secret`, `purpose`). */
export async function seal(secret: string, purpose: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(purpose) }, await keyFor(secret, purpose), enc.encode(plaintext));
  return `${VERSION}.${b64url(iv)}.${b64url(new Uint8Array(data))}`;
}

/** The plaintext; throws when the text was not sealed with this secret and purpose, or was altered. */
export async function unseal(secret: string, purpose: string, sealed: string): Promise<string> {
  const [version, iv, data, extra] = sealed.split('.');
  if (version !== VERSION || !iv || !data || extra !== undefined) throw new Error('not a sealed value');
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromB64url(iv), additionalData: enc.encode(purpose) }, await keyFor(secret, purpose), fromB64url(data));
  return new TextDecoder().decode(plain);
}

/** Like `unseal`, but undefined instead of throwing when the value does not open. */
export async function open(secret: string, purpose: string, sealed: string): Promise<string | undefined> {
  try {
    return await unseal(secret, purpose, sealed);
  } catch {
    return undefined;
  }
}

/** A new one-time token: 256 random bits, base64url (43 characters). */
export function newAccountToken(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}
