/**
 * Password hashing with Argon2id, stored as PHC strings:
 *   $argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>
 *
 * Why Argon2id and not PBKDF2: deployed Workers cap PBKDF2 at 100,000 iterations, below
 * OWASP's 600,000 for PBKDF2-HMAC-SHA256. Argon2id with m=19 MiB, t=2, p=1 is OWASP's
 * first choice and costs ~60–80 ms in workerd. The wasm kernel is injected by the entry
 * file (statically imported modules on Workers, files on Node), so this module is the
 * same on both runtimes.
 */

export interface Argon2idParams {
  /** Memory in KiB. */
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

/** What one Argon2id derivation takes: the `argon2id` package's argument object (memorySize in KiB). */
export interface Argon2idArgs {
  password: Uint8Array;
  salt: Uint8Array;
  parallelism: number;
  passes: number;
  memorySize: number;
  tagLength: number;
}

/**
 * The kernel from the `argon2id` package once its wasm is set up (synchronous: inline on
 * Workers), or a stand-in that runs it elsewhere and answers later (the worker-thread pool
 * on Node, src/auth/hash-pool.ts). Everything around it (salts, PHC strings, comparison)
 * stays here, so both runtimes store and check the same strings.
 */
export type Argon2idKernel = (args: Argon2idArgs) => Uint8Array | Promise<Uint8Array>;

export const OWASP_ARGON2ID: Argon2idParams = { memoryKiB: 19456, passes: 2, parallelism: 1 };

const SALT_BYTES = 16;
const TAG_BYTES = 32;
const MAX_PASSWORD_BYTES = 1024;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant work whether or not `phc` parses, so callers cannot leak which case occurred. */
  verify(password: string, phc: string | null): Promise<boolean>;
  /** True when the stored hash used weaker parameters than the current ones. */
  needsRehash(phc: string): boolean;
  /** Releases what the kernel holds (Node's worker threads); absent when there is nothing to release. */
  close?(): Promise<void>;
}

interface ParsedPhc {
  params: Argon2idParams;
  salt: Uint8Array;
  hash: Uint8Array;
}

const encoder = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/=+$/, '');
}

function unb64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodePhc(params: Argon2idParams, salt: Uint8Array, hash: Uint8Array): string {
  return `$argon2id$v=19$m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(hash)}`;
}

export function parsePhc(phc: string): ParsedPhc | null {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!m) return null;
  const [memoryKiB, passes, parallelism] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Refuse absurd parameters rather than let a corrupted row burn CPU or memory.
  if (memoryKiB < 8 || memoryKiB > 1 << 20 || passes < 1 || passes > 10 || parallelism < 1 || parallelism > 4) {
    return null;
  }
  try {
    return { params: { memoryKiB, passes, parallelism }, salt: unb64(m[4]!), hash: unb64(m[5]!) };
  } catch {
    return null;
  }
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function createPasswordHasher(
  loadKernel: () => Promise<Argon2idKernel>,
  params: Argon2idParams = OWASP_ARGON2ID,
  close?: () => Promise<void>,
): PasswordHasher {
  let kernel: Promise<Argon2idKernel> | undefined;
  const getKernel = () => (kernel ??= loadKernel());

  const derive = async (password: string, salt: Uint8Array, p: Argon2idParams, tagLength: number) => {
    const run = await getKernel();
    const bytes = encoder.encode(password);
    if (bytes.length > MAX_PASSWORD_BYTES) throw new Error('password too long');
    return await run({
      password: bytes,
      salt,
      parallelism: p.parallelism,
      passes: p.passes,
      memorySize: p.memoryKiB,
      tagLength,
    });
  };

  // A fixed decoy so that an unknown email costs the same Argon2id work as a wrong password.
  const decoySalt = new Uint8Array(SALT_BYTES);

  return {
    async hash(password) {
      const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
      return encodePhc(params, salt, await derive(password, salt, params, TAG_BYTES));
    },
    async verify(password, phc) {
      const parsed = phc ? parsePhc(phc) : null;
      if (!parsed) {
        await derive(password, decoySalt, params, TAG_BYTES);
        return false;
      }
      const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
      return constantTimeEqual(candidate, parsed.hash);
    },
    needsRehash(phc) {
      const parsed = parsePhc(phc);
      if (!parsed) return true;
      const p = parsed.params;
      return p.memoryKiB < params.memoryKiB || p.passes < params.passes || p.parallelism !== params.parallelism;
    },
    ...(close ? { close } : {}),
  };
}
