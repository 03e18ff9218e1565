import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import setupArgon2id from 'argon2id/lib/setup.js';
import { describe, expect, it } from 'vitest';
import {
  OWASP_ARGON2ID,
  createPasswordHasher,
  encodePhc,
  parsePhc,
  type Argon2idKernel,
} from '../../src/auth/password.js';

const require = createRequire(import.meta.url);
const load = (file: string) => (imports: WebAssembly.Imports) =>
  WebAssembly.instantiate(readFileSync(require.resolve(`argon2id/dist/${file}`)), imports);
const realKernel = async () => (await setupArgon2id(load('simd.wasm'), load('no-simd.wasm'))) as Argon2idKernel;

/** Wraps the real kernel to record the work each call asked for. */
function countingKernel() {
  const calls: Array<{ memorySize: number; passes: number; parallelism: number }> = [];
  const loader = async (): Promise<Argon2idKernel> => {
    const kernel = await realKernel();
    return (args) => {
      calls.push({ memorySize: args.memorySize, passes: args.passes, parallelism: args.parallelism });
      return kernel(args);
    };
  };
  return { calls, loader };
}

describe('password hashing (Argon2id, PHC strings)', () => {
  it('runs a kernel that reproduces the RFC 9106 Argon2id test vector', async () => {
    const kernel = (await realKernel()) as unknown as (a: Record<string, unknown>) => Uint8Array;
    const tag = kernel({
      password: new Uint8Array(32).fill(1),
      salt: new Uint8Array(16).fill(2),
      secret: new Uint8Array(8).fill(3),
      ad: new Uint8Array(12).fill(4),
      parallelism: 4,
      passes: 3,
      memorySize: 32,
      tagLength: 32,
    });
    const hex = [...tag].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(hex).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });

  it('stores OWASP parameters with each hash and verifies only the right password', async () => {
    const hasher = createPasswordHasher(realKernel);
    const phc = await hasher.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hasher.verify('correct horse battery staple', phc)).toBe(true);
    expect(await hasher.verify('correct horse battery stapler', phc)).toBe(false);
    expect(await hasher.hash('correct horse battery staple')).not.toBe(phc); // fresh salt each time
  });

  it('verifies hashes made with older parameters and flags them for rehash', async () => {
    const weak = { memoryKiB: 4096, passes: 1, parallelism: 1 };
    const old = await createPasswordHasher(realKernel, weak).hash('legacy password');
    const current = createPasswordHasher(realKernel);
    expect(await current.verify('legacy password', old)).toBe(true);
    expect(current.needsRehash(old)).toBe(true);
    expect(current.needsRehash(await current.hash('legacy password'))).toBe(false);
  });

  it('spends the same Argon2id work on an unknown user or a corrupt hash as on a wrong password', async () => {
    const { calls, loader } = countingKernel();
    const hasher = createPasswordHasher(loader);
    const phc = await hasher.hash('right password');
    calls.length = 0;
    expect(await hasher.verify('wrong password', phc)).toBe(false);
    expect(await hasher.verify('wrong password', null)).toBe(false);
    expect(await hasher.verify('wrong password', '$argon2id$garbage')).toBe(false);
    const owasp = { memorySize: OWASP_ARGON2ID.memoryKiB, passes: OWASP_ARGON2ID.passes, parallelism: OWASP_ARGON2ID.parallelism };
    expect(calls).toEqual([owasp, owasp, owasp]);
  });

  it('parses PHC strings strictly and refuses absurd parameters', () => {
    const salt = new Uint8Array(16).fill(7);
    const hash = new Uint8Array(32).fill(9);
    const phc = encodePhc(OWASP_ARGON2ID, salt, hash);
    expect(parsePhc(phc)).toEqual({ params: OWASP_ARGON2ID, salt, hash });
    expect(parsePhc(phc.replace('m=19456', 'm=99999999'))).toBeNull();
    expect(parsePhc(phc.replace('argon2id', 'argon2i'))).toBeNull();
    expect(parsePhc('$2b$10$abcdefghijklmnopqrstuv')).toBeNull();
  });
});
