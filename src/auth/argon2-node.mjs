// @ts-check
/* global WebAssembly */
/**
 * The Argon2id kernel on Node (the `argon2id` package's wasm, read from node_modules), and the
 * task each password-hashing thread runs (piscina loads this file: src/auth/hash-pool.ts).
 *
 * Plain JavaScript on purpose: a worker thread is a fresh module graph, and Node 20 applies
 * neither `--import tsx` in a Worker's execArgv nor loader hooks registered inside one, so a
 * .ts file would load only from a process that was itself started through tsx (not under
 * vitest). As .mjs it loads the same way from src/ (npm start, tests, scripts) and from the
 * compiled dist/ (tsc copies it; the Docker image). Type-checked through @ts-check.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import process from 'node:process';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import setupArgon2id from 'argon2id/lib/setup.js';

const require = createRequire(import.meta.url);

/** The hashing threads' nice value (0 normal, 19 lowest): below the event loop's, never starved. */
export const HASH_THREAD_NICE = 5;

/** @returns {Promise<import('./password.js').Argon2idKernel>} */
export async function loadArgon2idKernel() {
  /** @param {string} file */
  const load = (file) => (/** @type {WebAssembly.Imports} */ imports) =>
    WebAssembly.instantiate(readFileSync(require.resolve(`argon2id/dist/${file}`)), imports);
  return /** @type {import('./password.js').Argon2idKernel} */ (await setupArgon2id(load('simd.wasm'), load('no-simd.wasm')));
}

/** @type {Promise<import('./password.js').Argon2idKernel> | undefined} */
let threadKernel;
if (!isMainThread) {
  // On a hashing thread, compile the wasm while the thread starts, so the first login after a
  // start does not wait for it.
  threadKernel = loadArgon2idKernel();
  // And yield the CPU to the event loop: a derivation is ~0.1 s of CPU that a login waits for
  // anyway, while a probe or an API request waiting behind it is late. On Linux the nice value is
  // per thread (setpriority(2), pid 0 = the calling thread), so this lowers this thread only;
  // elsewhere it would lower the whole process, so it is left alone there.
  if (process.platform === 'linux') {
    try {
      setPriority(HASH_THREAD_NICE);
    } catch {
      /* not permitted: hash at normal priority */
    }
  }
}

/**
 * One derivation on a hashing thread. The tag it returns is a fresh 32-byte array, cheap to
 * copy back to the main thread.
 * @param {import('./password.js').Argon2idArgs} args
 */
export default async function derive(args) {
  threadKernel ??= loadArgon2idKernel();
  return (await threadKernel)(args);
}
