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
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import setupArgon2id from 'argon2id/lib/setup.js';

const require = createRequire(import.meta.url);

/** @returns {Promise<import('./password.js').Argon2idKernel>} */
export async function loadArgon2idKernel() {
  /** @param {string} file */
  const load = (file) => (/** @type {WebAssembly.Imports} */ imports) =>
    WebAssembly.instantiate(readFileSync(require.resolve(`argon2id/dist/${file}`)), imports);
  return /** @type {import('./password.js').Argon2idKernel} */ (await setupArgon2id(load('simd.wasm'), load('no-simd.wasm')));
}

/** @type {Promise<import('./password.js').Argon2idKernel> | undefined} */
let threadKernel;
// On a hashing thread, compile the wasm while the thread starts, so the first login after a
// start does not wait for it.
if (!isMainThread) threadKernel = loadArgon2idKernel();

/**
 * One derivation on a hashing thread. The tag it returns is a fresh 32-byte array, cheap to
 * copy back to the main thread.
 * @param {import('./password.js').Argon2idArgs} args
 */
export default async function derive(args) {
  threadKernel ??= loadArgon2idKernel();
  return (await threadKernel)(args);
}
