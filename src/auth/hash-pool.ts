/**
 * Argon2id off the Node event loop. One verify costs 60–100 ms of CPU (m = 19 MiB, t = 2);
 * on the main thread a burst of logins held every other request, /healthz included, for
 * the whole burst (issue 11: 40 logins kept one probe waiting most of it). Here each
 * derivation runs on a small pool of worker threads (piscina), and the queue in front of
 * them is bounded: when it is full the hasher throws 503 `busy` with Retry-After at once,
 * rather than letting waits grow without end. Node-only: wired by src/platform/node/deps.ts. Workers hash
 * inline (each request has its own isolate CPU).
 *
 * Why piscina: a maintained pool (Node.js collaborators) with the bounded queue, thread
 * restarts after a crash and idle-thread unref already written; node:worker_threads directly
 * would mean writing those here.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ApiError } from '../errors.js';
import { createPasswordHasher, OWASP_ARGON2ID, type Argon2idArgs, type Argon2idParams, type PasswordHasher } from './password.js';

export interface HashPoolOptions {
  /** Hashing threads. Default: defaultHashThreads(). */
  threads?: number;
  /** Derivations that may wait for a free thread; one more is refused with 503 busy. Default: 32 per thread. */
  maxQueue?: number;
  /** How long a thread waits for work before it exits, ms. Default HASH_THREAD_IDLE_MS (tests shorten it). */
  idleMs?: number;
}

/**
 * One thread per CPU this process may use (os.availableParallelism: the affinity mask, not a
 * container's CPU quota), less one left to the event loop, between 1 and 4. Each thread holds
 * its own wasm memory (≈ 19 MiB touched per derivation) and V8 isolate, so more threads cost
 * RSS the image's memory budget does not have.
 */
export function defaultHashThreads(cpus = availableParallelism()): number {
  return Math.min(4, Math.max(1, cpus - 1));
}

/** Rough cost of one derivation at the OWASP parameters on one thread, s (the bench's "Argon2id on Node"). */
const SECONDS_PER_HASH = 0.1;
export const QUEUE_PER_THREAD = 32;

// Plain JavaScript beside this file, in src/ and in dist/ alike (why: its header).
const workerFile = fileURLToPath(new URL('./argon2-node.mjs', import.meta.url));

/**
 * A hashing thread with no derivation for this long exits (piscina's idleTimeout), giving back its
 * ≈ 35 MiB (the wasm memory, its compiled kernel and its V8 isolate): a pod between login bursts
 * does not carry it (issue 16: it was most of the Node server's peak RSS over 150 MiB under order
 * load, long after the last login). The next login starts a thread again, which costs it the
 * thread start and the kernel compile once (≈ 30–60 ms idle, a few hundred under load).
 */
export const HASH_THREAD_IDLE_MS = 30_000;

/** Piscina's rejection when its queue is full (it has no error codes, only these messages). */
const QUEUE_FULL = /queue is at limit|no task queue available/i;

/**
 * A PasswordHasher whose derivations run on worker threads. Threads start when derivations
 * come (a process that never hashes, such as the payments job, starts none) and exit after
 * HASH_THREAD_IDLE_MS without one; idle threads do not keep the process alive. `close()` lets running derivations finish.
 */
export function createPooledPasswordHasher(
  params: Argon2idParams = OWASP_ARGON2ID,
  opts: HashPoolOptions = {},
): PasswordHasher & { /** Hashing threads running now. */ threadCount(): number } {
  const threads = opts.threads ?? defaultHashThreads();
  const maxQueue = opts.maxQueue ?? QUEUE_PER_THREAD * threads;
  // When a full queue has drained: its length over the threads, times one derivation.
  const retryAfterSeconds = Math.max(1, Math.ceil((maxQueue / threads) * SECONDS_PER_HASH));
  const busy = () =>
    new ApiError('busy', 'Too many password checks are in progress on this server; retry after the Retry-After seconds.', { retryAfterSeconds });
  let pool: Piscina<Argon2idArgs, Uint8Array> | undefined;
  let closed = false;

  const run = async (args: Argon2idArgs): Promise<Uint8Array> => {
    if (closed) throw busy();
    pool ??= new Piscina({
      filename: workerFile,
      minThreads: 0,
      maxThreads: threads,
      maxQueue,
      idleTimeout: opts.idleMs ?? HASH_THREAD_IDLE_MS,
    });
    if (pool.queueSize >= maxQueue) throw busy();
    try {
      return await pool.run(args);
    } catch (err) {
      if (err instanceof Error && QUEUE_FULL.test(err.message)) throw busy();
      throw err;
    }
  };

  const hasher = createPasswordHasher(() => Promise.resolve(run), params, async () => {
    closed = true;
    await pool?.close();
  });
  return Object.assign(hasher, { threadCount: () => pool?.threads.length ?? 0 });
}
