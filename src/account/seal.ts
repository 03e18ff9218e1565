/**
 * Sealing a secret we must keep but never show (Apple's refresh token): AES-256-GCM through
 * WebCrypto (both runtimes), with a key derived by HKDF-SHA-256 from JWT_SECRET and a purpose
 * label, so one secret in the environment serves and each purpose gets its own key. Sealed text:
 * `v1.<base64url iv>.<base64url ciphertext+tag>`. Rotating JWT_SECRET makes earlier sealed values
 * unreadable (docs/runbook.md, "Account erasure tasks").
 */
const enc = new TextEncoder();

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));

async function keyFor(secret: string, purpose: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', enc.encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('laundry-seal-v1'), info: enc.encode(purpose) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export async function seal(secret: string, purpose: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(purpose) }, await keyFor(secret, purpose), enc.encode(plaintext));
  return `v1.${b64url(iv)}.${b64url(new Uint8Array(data))}`;
}

/** The plaintext, or throws when the text was not sealed with this secret and purpose (or was altered). */
export async function unseal(secret: string, purpose: string, sealed: string): Promise<string> {
  const [version, iv, data] = sealed.split('.');
  if (version !== 'v1' || !iv || !data) throw new Error('not a sealed value');
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromB64url(iv), additionalData: enc.encode(purpose) }, await keyFor(secret, purpose), fromB64url(data));
  return new TextDecoder().decode(plain);
}
