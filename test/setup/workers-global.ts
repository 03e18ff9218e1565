/** Stops the local Neon endpoint and its database that vitest.workers.config.ts started. */
export default function setup() {
  return async () => {
    const stop = (globalThis as { __stopWorkersDatabase?: () => Promise<void> }).__stopWorkersDatabase;
    await stop?.();
  };
}
